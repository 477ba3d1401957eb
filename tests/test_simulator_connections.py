"""Connection lifecycles and the seed's interaction rules, on a manual clock."""

from __future__ import annotations

import concurrent.futures
import time
from typing import ClassVar

import pytest
from helpers import error_of


def test_power_asks_for_mfa_then_connects(api):
    conn = api.open("src_sim_power")
    assert conn["status"] == "connecting"
    api.advance(1.9)
    assert api.connection(conn["id"])["status"] == "connecting"
    api.advance(0.1)
    current = api.connection(conn["id"])
    assert current["status"] == "interaction_required"
    interaction = current["interaction"]
    assert interaction["type"] == "mfa"
    assert interaction["message"] == "Enter the 6-digit code sent to your phone"
    assert interaction["fields"] == [{"name": "code", "type": "string", "label": "Verification code"}]
    assert interaction["attempts_remaining"] == 3 and interaction["expires_at"].endswith("Z")

    answered = api.ok(api.answer_connection(conn["id"], code="123456"))
    assert answered["status"] == "connecting" and answered["interaction"] is None
    api.advance(2)
    assert api.connection(conn["id"])["status"] == "connected"


def test_bank_asks_mfa_then_security_question_sequentially(api):
    conn = api.open("src_sim_bank")
    api.advance(2)
    assert api.connection(conn["id"])["interaction"]["type"] == "mfa"
    api.ok(api.answer_connection(conn["id"], code="123456"))
    api.advance(2)
    second = api.connection(conn["id"])
    assert second["status"] == "interaction_required"
    assert second["interaction"]["type"] == "security_question"
    assert second["interaction"]["message"] == "What was the name of your first pet?"
    assert second["interaction"]["fields"] == [{"name": "answer", "type": "string", "label": "Answer"}]
    api.ok(api.answer_connection(conn["id"], answer="  REX "))
    api.advance(2)
    assert api.connection(conn["id"])["status"] == "connected"


def test_mobile_connects_without_interaction(api):
    conn = api.open("src_sim_mobile")
    api.advance(2)
    current = api.connection(conn["id"])
    assert current["status"] == "connected" and current["interaction"] is None


def test_wrong_code_brings_the_prompt_back_with_fewer_attempts_then_locks(api):
    conn = api.open("src_sim_power")
    api.advance(2)
    for left in (2, 1):
        assert api.answer_connection(conn["id"], code="000000").status_code == 200
        api.advance(2)
        current = api.connection(conn["id"])
        assert current["status"] == "interaction_required"
        assert current["interaction"]["attempts_remaining"] == left
        assert current["interaction"]["message"].startswith("That answer was not accepted.")
        assert f"({left} attempt" in current["interaction"]["message"]
    api.ok(api.answer_connection(conn["id"], code="000000"))
    api.advance(2)
    locked = api.connection(conn["id"])
    assert locked["status"] == "invalid" and locked["interaction"] is None
    assert locked["errors"][0]["type"] == "auth" and locked["errors"][0]["code"] == "auth_invalid"


def test_wrong_then_right_code_connects(api):
    conn = api.open("src_sim_power")
    api.advance(2)
    api.ok(api.answer_connection(conn["id"], code="111111"))
    api.advance(2)
    api.ok(api.answer_connection(conn["id"], code="123456"))
    api.advance(2)
    assert api.connection(conn["id"])["status"] == "connected"


def test_user_locked_is_locked_by_the_first_wrong_answer(api):
    conn = api.open("src_sim_power", username="user_locked")
    api.advance(2)
    assert api.connection(conn["id"])["interaction"]["attempts_remaining"] == 1
    api.ok(api.answer_connection(conn["id"], code="999999"))
    api.advance(2)
    current = api.connection(conn["id"])
    assert current["status"] == "invalid" and current["errors"][0]["code"] == "auth_invalid"


def test_bad_password_is_invalid(api):
    conn = api.open("src_sim_power", password="pass_bad")
    api.advance(2)
    current = api.connection(conn["id"])
    assert current["status"] == "invalid"
    assert current["errors"] == [
        {"type": "auth", "code": "auth_invalid", "message": "The credentials were rejected by the source."}
    ]


@pytest.mark.parametrize(
    "body,field,code,status",
    [
        ({}, "source_id", "input_missing", 400),
        (
            {"source_id": "src_nope", "auth_credentials": {"username": "a", "password": "b"}},
            None,
            "source_not_found",
            404,
        ),
        ({"source_id": "src_sim_power"}, "auth_credentials", "input_missing", 400),
        (
            {"source_id": "src_sim_power", "auth_credentials": {"username": "a"}},
            "auth_credentials.password",
            "input_missing",
            400,
        ),
        (
            {
                "source_id": "src_sim_power",
                "auth_method": "oauth",
                "auth_credentials": {"username": "a", "password": "b"},
            },
            "auth_method",
            "input_invalid",
            400,
        ),
    ],
)
def test_create_connection_validation(api, body, field, code, status):
    response = api.post("connections", body)
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == code and error.get("field") == field


def test_mfa_window_closes_after_120s_and_disconnects(api):
    conn = api.open("src_sim_power")
    api.advance(2)
    api.advance(119.9)
    assert api.connection(conn["id"])["status"] == "interaction_required"
    api.advance(0.1)
    current = api.connection(conn["id"])
    assert current["status"] == "disconnected" and current["interaction"] is None
    assert current["errors"][0]["type"] == "interaction" and current["errors"][0]["code"] == "interaction_timeout"
    late = api.answer_connection(conn["id"], code="123456")
    assert late.status_code == 408
    assert error_of(late)["code"] == "interaction_timeout" and error_of(late)["type"] == "interaction"


def test_security_question_window_is_300s(api):
    conn = api.open("src_sim_bank")
    api.advance(2)
    api.ok(api.answer_connection(conn["id"], code="123456"))
    api.advance(2 + 299)
    assert api.connection(conn["id"])["status"] == "interaction_required"
    api.advance(1)
    assert api.connection(conn["id"])["status"] == "disconnected"


def test_submission_when_not_required_is_400(api):
    conn = api.open("src_sim_power")
    response = api.answer_connection(conn["id"], code="123456")  # still connecting
    assert response.status_code == 400
    assert error_of(response)["type"] == "interaction"
    assert error_of(response)["code"] == "interaction_not_required"


def test_submission_after_manual_disconnect_is_400_not_408(api):
    conn = api.open("src_sim_power")
    api.advance(2)
    gone = api.ok(api.post(f"connections/{conn['id']}/disconnect"))
    assert gone["status"] == "disconnected" and gone["interaction"] is None
    response = api.answer_connection(conn["id"], code="123456")
    assert response.status_code == 400 and error_of(response)["code"] == "interaction_not_required"
    api.advance(500)  # the window timer was cancelled with the session
    assert api.connection(conn["id"])["errors"] == []


@pytest.mark.parametrize(
    "inputs,field,fragment",
    [
        ({"cde": "123456"}, "cde", "Unknown field `cde`; expected: code."),
        ({}, "code", "required"),
        ({"code": 123456}, "code", "must be a string"),
        ({"code": "123456", "extra": "x"}, "extra", "Unknown field"),
        ({"code": "   "}, "code", "required"),
    ],
)
def test_invalid_inputs_are_400_with_the_field_named_and_use_no_attempt(api, inputs, field, fragment):
    conn = api.open("src_sim_power")
    api.advance(2)
    response = api.post(f"connections/{conn['id']}/interaction", {"inputs": inputs})
    assert response.status_code == 400
    error = error_of(response)
    assert (error["type"], error["code"], error["field"]) == ("interaction", "interaction_input_invalid", field)
    assert fragment in error["message"]
    current = api.connection(conn["id"])
    assert current["status"] == "interaction_required" and current["interaction"]["attempts_remaining"] == 3


def test_inputs_must_be_an_object(api):
    conn = api.open("src_sim_power")
    api.advance(2)
    for body in ({}, {"inputs": "123456"}, {"inputs": ["123456"]}):
        response = api.post(f"connections/{conn['id']}/interaction", body)
        assert response.status_code == 400 and error_of(response)["field"] == "inputs"


def test_input_is_accepted_as_an_alias_and_inputs_wins(api):
    conn = api.open("src_sim_bank")
    api.advance(2)
    api.ok(api.post(f"connections/{conn['id']}/interaction", {"input": {"code": "123456"}}))
    api.advance(2)
    assert api.connection(conn["id"])["interaction"]["type"] == "security_question"
    api.ok(api.post(f"connections/{conn['id']}/interaction", {"inputs": {"answer": "rex"}, "input": {"x": 1}}))
    api.advance(2)
    assert api.connection(conn["id"])["status"] == "connected"


def test_secret_answers_are_not_echoed_in_errors(api):
    conn = api.open("src_sim_power")
    api.advance(2)
    response = api.post(f"connections/{conn['id']}/interaction", {"inputs": {"code": 987654}})
    assert "987654" not in response.text


def test_concurrent_submissions_exactly_one_wins(api, sim):
    conn = api.open("src_sim_power")
    api.advance(2)

    sim.set_faults(latency_ms=300)  # every request waits inside the server: all 16 are there at once

    def submit(_):
        return api.answer_connection(conn["id"], code="123456")

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(submit, range(16)))
    assert time.monotonic() - started < 16 * 0.3 / 2  # they overlapped, not one after another
    sim.set_faults()
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1 and statuses.count(400) == 15
    assert {error_of(r)["code"] for r in responses if r.status_code == 400} == {"interaction_not_required"}
    assert api.connection(conn["id"])["status"] == "connecting"


def test_disconnect_is_idempotent_and_emits_once(api):
    conn = api.connected("src_sim_mobile")
    api.ok(api.post(f"connections/{conn['id']}/disconnect"))
    again = api.ok(api.post(f"connections/{conn['id']}/disconnect"))
    assert again["status"] == "disconnected"
    types = [e["type"] for e in api.events() if e["data"]["id"] == conn["id"]]
    assert types == ["connection.connecting", "connection.connected", "connection.disconnected"]


class TestNovelSource:
    """src_sim_novel: a type no client knows, with every kind of field."""

    def open(self, api):
        conn = api.open("src_sim_novel")
        api.advance(2)
        return conn, api.connection(conn["id"])["interaction"]

    GOOD: ClassVar[dict] = {
        "device_name": "laptop",
        "pin": 123456,
        "remember_device": True,
        "delivery": "email",
        "passphrase": "correct horse",
    }

    def test_interaction_has_six_mixed_fields(self, api):
        _, interaction = self.open(api)
        assert interaction["type"] == "device_confirmation"
        types = [(f["name"], f["type"]) for f in interaction["fields"]]
        assert types == [
            ("device_name", "string"),
            ("pin", "number"),
            ("remember_device", "boolean"),
            ("delivery", "string"),
            ("passphrase", "string"),
            ("birth_date", "date"),
        ]
        by_name = {f["name"]: f for f in interaction["fields"]}
        assert [o["value"] for o in by_name["delivery"]["options"]] == ["sms", "email"]
        assert by_name["passphrase"]["secret"] is True
        assert by_name["birth_date"]["required"] is False

    def test_accepts_when_pin_is_right_and_required_fields_present(self, api):
        conn, _ = self.open(api)
        api.ok(api.answer_connection(conn["id"], **self.GOOD))
        api.advance(2)
        assert api.connection(conn["id"])["status"] == "connected"

    def test_wrong_pin_is_rejected_with_a_retry(self, api):
        conn, _ = self.open(api)
        api.ok(api.answer_connection(conn["id"], **{**self.GOOD, "pin": 1}))
        api.advance(2)
        assert api.connection(conn["id"])["interaction"]["attempts_remaining"] == 2

    @pytest.mark.parametrize(
        "change,field",
        [
            ({"pin": "123456"}, "pin"),
            ({"pin": True}, "pin"),
            ({"remember_device": "yes"}, "remember_device"),
            ({"delivery": "pigeon"}, "delivery"),
            ({"device_name": None}, "device_name"),
            ({"birth_date": 19900101}, "birth_date"),
        ],
    )
    def test_wrong_types_and_options_are_refused_by_field(self, api, change, field):
        conn, _ = self.open(api)
        response = api.answer_connection(conn["id"], **{**self.GOOD, **change})
        assert response.status_code == 400 and error_of(response)["field"] == field
        assert api.connection(conn["id"])["interaction"]["attempts_remaining"] == 3

    def test_optional_field_may_be_given(self, api):
        conn, _ = self.open(api)
        api.ok(api.answer_connection(conn["id"], **self.GOOD, birth_date="1990-01-01"))
        api.advance(2)
        assert api.connection(conn["id"])["status"] == "connected"
