"""Credentials (Deck's current API): stored, verified or refused by the runs that use them, updated,
deleted, with their events; the secret never comes back. Manual clock, raw HTTP."""

from __future__ import annotations

import json

import pytest
from helpers import CurrentApi, error_of


@pytest.fixture
def cur(sim):
    client = CurrentApi(sim)
    yield client
    client.http.close()


def test_a_stored_credential_is_unverified_and_never_shows_its_password(cur):
    response = cur.post(
        "credentials",
        {
            "source_id": "src_sim_power",
            "auth_method": "username_password",
            "auth_credentials": {"username": "ada", "password": "s3cret-pw", "source_fields": {"company_id": "AC-1"}},
            "external_id": "user_1",
        },
    )
    cred = cur.ok(response, 201)
    assert cred["id"].startswith("cred_") and cred["object"] == "credential"
    assert (cred["status"], cred["source_id"], cred["auth_method"], cred["external_id"]) == (
        "unverified",
        "src_sim_power",
        "username_password",
        "user_1",
    )
    assert cred["auth_credentials"] == {"username": "ada", "source_fields": {"company_id": "AC-1"}}
    assert cred["created_at"] == cred["updated_at"] and cred["request_id"].startswith("req_")
    assert "s3cret-pw" not in response.text
    assert cur.credential(cred["id"])["auth_credentials"] == cred["auth_credentials"]
    events = cur.events(type="credential.created")
    assert [e["data"]["id"] for e in events] == [cred["id"]]
    assert "s3cret-pw" not in json.dumps(cur.events())


def test_auth_method_defaults_to_none_and_needs_no_secret(cur):
    cred = cur.ok(cur.post("credentials", {"source_id": "src_sim_power", "external_id": "link_only"}), 201)
    assert cred["auth_method"] == "none" and cred["auth_credentials"] == {} and cred["status"] == "unverified"


@pytest.mark.parametrize(
    "body,field,code,status",
    [
        ({}, "source_id", "input_missing", 400),
        ({"source_id": "src_nope"}, None, "source_not_found", 404),
        ({"source_id": "src_sim_power", "auth_method": "google_sso"}, "auth_method", "input_invalid", 400),
        ({"source_id": "src_sim_power", "auth_method": "username_password"}, "auth_credentials", "input_missing", 400),
        (
            {"source_id": "src_sim_power", "auth_method": "username_password", "auth_credentials": {"username": "a"}},
            "auth_credentials.password",
            "input_missing",
            400,
        ),
        ({"source_id": "src_sim_power", "external_id": "x" * 256}, "external_id", "input_invalid", 400),
        (
            {"source_id": "src_sim_power", "auth_credentials": {"source_fields": {"Bad Key": "1"}}},
            "auth_credentials.source_fields.Bad Key",
            "input_invalid",
            400,
        ),
    ],
)
def test_create_credential_validation(cur, body, field, code, status):
    response = cur.post("credentials", body)
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == code and error.get("field") == field


def test_list_filters_by_source_status_and_external_id(cur):
    power = cur.store("src_sim_power", external_id="u1")
    bank = cur.store("src_sim_bank", external_id="u2")
    mobile = cur.store("src_sim_mobile", external_id="u1")
    cur.ok(cur.request_delete(mobile["id"]))

    def ids(**params):
        return [c["id"] for c in cur.ok(cur.get("credentials", **params))["data"]]

    assert ids() == [power["id"], bank["id"], mobile["id"]]
    assert ids(source_id="src_sim_bank") == [bank["id"]]
    assert ids(external_id="u1") == [power["id"], mobile["id"]]
    assert ids(status="deleted") == [mobile["id"]]
    assert ids(status="unverified,deleted", external_id="u1") == [power["id"], mobile["id"]]
    first = cur.ok(cur.get("credentials", limit=1))
    assert first["has_more"] and len(first["data"]) == 1
    rest = cur.ok(cur.get("credentials", limit=5, cursor=first["next_cursor"]))
    assert [c["id"] for c in rest["data"]] == [bank["id"], mobile["id"]]


def test_first_successful_login_verifies_once(cur):
    cred = cur.store("src_sim_power")
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.advance(3)
    assert cur.run(run["id"])["status"] == "interaction_required"
    assert cur.credential(cred["id"])["status"] == "unverified"  # stored is not verified
    cur.ok(cur.answer(run["id"], code="123456"))
    cur.advance(2)
    assert cur.credential(cred["id"])["status"] == "verified"
    cur.advance(10)
    # A second run in a new session logs in again; the credential is not verified twice.
    second = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.log_in(second["id"])
    cur.advance(5)
    assert cur.run(second["id"])["status"] == "completed"
    assert cur.event_types(type="credential.*") == ["credential.created", "credential.verified"]


def test_bad_password_makes_the_credential_invalid_and_a_patch_makes_it_unverified(cur):
    cred = cur.store("src_sim_power", password="pass_bad")
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.advance(3)
    failed = cur.run(run["id"])
    assert failed["status"] == "failed" and failed["result"] == "failure"
    assert (failed["errors"][0]["type"], failed["errors"][0]["code"]) == ("auth", "auth_invalid")
    assert cur.credential(cred["id"])["status"] == "invalid"
    # An invalid credential still tries (the source decides): it fails again.
    again = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.advance(3)
    assert cur.run(again["id"])["errors"][0]["code"] == "auth_invalid"

    patched = cur.ok(cur.patch(cred["id"], {"auth_credentials": {"username": "ada", "password": "pass_good"}}))
    assert patched["status"] == "unverified" and "pass_good" not in json.dumps(patched)
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.log_in(run["id"])
    assert cur.credential(cred["id"])["status"] == "verified"
    assert cur.event_types(type="credential.*") == [
        "credential.created",
        "credential.invalid",
        "credential.unverified",
        "credential.verified",
    ]
    # A verified credential goes back to unverified on a new secret too.
    assert cur.ok(cur.patch(cred["id"], {"auth_credentials": {"password": "pass_new"}}))["status"] == "unverified"


def test_patch_external_id_only_keeps_the_status_and_null_clears_it(cur):
    cred = cur.store("src_sim_mobile", external_id="u1")
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.log_in(run["id"])
    assert cur.credential(cred["id"])["status"] == "verified"
    renamed = cur.ok(cur.patch(cred["id"], {"external_id": "u2"}))
    assert renamed["external_id"] == "u2" and renamed["status"] == "verified"
    cleared = cur.ok(cur.patch(cred["id"], {"external_id": None}))
    assert cleared["external_id"] is None and cleared["auth_credentials"] == {"username": "ada"}
    refused = cur.patch(cred["id"], {"source_id": "src_sim_bank"})
    assert refused.status_code == 400 and error_of(refused)["field"] == "source_id"
    unknown = cur.patch("cred_nope", {"external_id": "x"})
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "credential_not_found"


def test_lockout_at_login_makes_the_credential_invalid(cur):
    cred = cur.store("src_sim_power", username="user_locked")
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.advance(3)
    cur.ok(cur.answer(run["id"], code="000000"))
    cur.advance(2)
    failed = cur.run(run["id"])
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == "auth_invalid"
    assert cur.credential(cred["id"])["status"] == "invalid"
    assert cur.session(run["session_id"])["status"] == "failed"


def test_delete_is_terminal_readable_and_refuses_new_runs(cur):
    cred = cur.store("src_sim_power")
    deleted = cur.ok(cur.request_delete(cred["id"]))
    assert deleted["status"] == "deleted" and deleted["id"] == cred["id"]
    assert cur.credential(cred["id"])["status"] == "deleted"
    assert cur.ok(cur.request_delete(cred["id"]))["status"] == "deleted"  # deleting again changes nothing
    for response in (
        cur.post("tasks/task_sim_bills/run", {"credential_id": cred["id"]}),
        cur.patch(cred["id"], {"external_id": "x"}),
    ):
        assert response.status_code == 400
        assert (error_of(response)["type"], error_of(response)["code"]) == ("request", "credential_deleted")
    assert cur.event_types(type="credential.*") == ["credential.created", "credential.deleted"]


def test_idempotency_on_post_patch_and_delete(cur):
    body = {"source_id": "src_sim_power", "auth_method": "username_password"}
    body["auth_credentials"] = {"username": "ada", "password": "pw"}
    first = cur.post("credentials", body, headers={"Idempotency-Key": "store-1"})
    again = cur.post("credentials", body, headers={"Idempotency-Key": "store-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    assert len(cur.ok(cur.get("credentials"))["data"]) == 1
    cred_id = first.json()["id"]

    change = {"auth_credentials": {"password": "pw2"}}
    patched = cur.http.patch(f"credentials/{cred_id}", json=change, headers={"Idempotency-Key": "patch-1"})
    replay = cur.http.patch(f"credentials/{cred_id}", json=change, headers={"Idempotency-Key": "patch-1"})
    assert patched.status_code == 200 and replay.json() == patched.json()
    assert replay.headers.get("idempotent-replayed") == "true"
    other = cur.http.patch(f"credentials/{cred_id}", json={"external_id": "x"}, headers={"Idempotency-Key": "patch-1"})
    assert other.status_code == 409 and error_of(other)["code"] == "idempotency_error"

    gone = cur.http.delete(f"credentials/{cred_id}", headers={"Idempotency-Key": "del-1"})
    gone_again = cur.http.delete(f"credentials/{cred_id}", headers={"Idempotency-Key": "del-1"})
    assert gone.status_code == 200 and gone_again.json() == gone.json()
    assert gone_again.headers.get("idempotent-replayed") == "true"
    assert cur.event_types(type="credential.deleted") == ["credential.deleted"]
    long_key = cur.http.delete(f"credentials/{cred_id}", headers={"Idempotency-Key": "k" * 257})
    assert long_key.status_code == 400 and error_of(long_key)["code"] == "idempotency_key_error"
