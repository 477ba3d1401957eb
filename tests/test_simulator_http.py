"""The simulator's HTTP conventions: auth, envelopes, request ids, catalog, pagination, filters."""

from __future__ import annotations

import httpx
import pytest
from helpers import error_of


def test_key_check_answers_ready(api):
    body = api.ok(api.get("test"))
    assert body["status"] == "ready" and body["environment"] == "simulator"
    assert body["request_id"].startswith("req_")


@pytest.mark.parametrize("header", [None, "Bearer sk_sim_wrong", "Basic abc", "Bearer"])
def test_missing_or_wrong_key_is_401(sim, header):
    headers = {"Authorization": header} if header else {}
    response = httpx.get(f"{sim.base_url}/test", headers=headers)
    assert response.status_code == 401
    assert error_of(response) == {
        "type": "request",
        "code": "api_key_invalid",
        "message": "The API key is missing or invalid.",
    }
    assert response.headers["X-Request-Id"] == response.json()["request_id"]


def test_control_routes_need_the_key_too(sim):
    assert httpx.post(f"{sim.root_url}/_sim/reset").status_code == 401
    assert httpx.get(f"{sim.root_url}/_sim/config", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_every_response_carries_a_request_id_header_matching_the_body(api):
    for response in (api.get("sources"), api.get("connections/conn_missing"), api.get("nope")):
        assert response.headers["X-Request-Id"] == response.json()["request_id"]
    ids = {api.get("test").json()["request_id"] for _ in range(5)}
    assert len(ids) == 5


def test_unknown_route_and_method_answer_in_the_error_envelope(api):
    assert error_of(api.get("nope"))["code"] == "route_not_found"
    response = api.http.delete("connections")
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


def test_sources_catalog(api):
    page = api.ok(api.get("sources"))
    assert [s["id"] for s in page["data"]] == ["src_sim_power", "src_sim_bank", "src_sim_mobile", "src_sim_novel"]
    assert [s["name"] for s in page["data"]] == ["Acme Power", "Riverside Bank", "Cloud Mobile", "Novel Auth Co"]
    one = api.ok(api.get("sources/src_sim_bank"))
    assert one["object"] == "source" and one["created_at"].endswith("Z") and one["updated_at"]
    missing = api.get("sources/src_nope")
    assert missing.status_code == 404 and error_of(missing)["type"] == "source"
    assert error_of(missing)["code"] == "source_not_found"


def test_tasks_catalog_has_schemas(api):
    page = api.ok(api.get("tasks"))
    assert [t["id"] for t in page["data"]] == [
        "task_sim_bills",
        "task_sim_statements",
        "task_sim_usage",
        "task_sim_pay_bill",
    ]
    bills = api.ok(api.get("tasks/task_sim_bills"))
    assert bills["input_schema"]["properties"]["months"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 24,
        "default": 12,
    }
    assert "output_schema" in bills
    missing = api.get("tasks/task_nope")
    assert missing.status_code == 404 and error_of(missing) == {
        "type": "request",
        "code": "task_not_found",
        "message": "No task with id `task_nope`.",
    }


@pytest.mark.parametrize(
    "path,code",
    [
        ("connections/conn_x", "connection_not_found"),
        ("task-runs/trun_x", "task_run_not_found"),
        ("events/evt_x", "event_not_found"),
        ("event-destinations/evtd_x", "event_destination_not_found"),
    ],
)
def test_unknown_ids_are_404_resource_not_found(api, path, code):
    response = api.get(path)
    assert response.status_code == 404
    assert error_of(response)["type"] == "request" and error_of(response)["code"] == code


def test_bad_json_body_is_a_clear_400(api):
    response = api.http.post("connections", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "input_invalid"
    response = api.post("connections", [1, 2])
    assert response.status_code == 400 and "JSON object" in error_of(response)["message"]


def test_objects_have_prefixed_ids_and_utc_timestamps(api):
    conn = api.open("src_sim_power")
    assert conn["id"].startswith("conn_") and conn["object"] == "connection"
    assert conn["created_at"].endswith("Z") and conn["updated_at"] == conn["created_at"]
    assert conn["errors"] == [] and conn["interaction"] is None and conn["external_id"] is None


def test_pagination_walks_every_item_once_in_creation_order(api):
    created = [api.open("src_sim_mobile", username=f"user{i}")["id"] for i in range(7)]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.ok(api.get("connections", **params))
        pages += 1
        seen.extend(c["id"] for c in page["data"])
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert seen == created and pages == 3


def test_default_limit_is_20(api):
    for i in range(21):
        api.open("src_sim_mobile", username=f"u{i}")
    page = api.ok(api.get("connections"))
    assert len(page["data"]) == 20 and page["has_more"] is True


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1"])
def test_limit_outside_1_to_100_is_input_invalid(api, limit):
    response = api.get("connections", limit=limit)
    assert response.status_code == 400
    assert error_of(response)["code"] == "input_invalid" and error_of(response)["field"] == "limit"


def test_bad_cursor_and_cursor_from_other_filters_are_cursor_invalid(api):
    for i in range(3):
        api.open("src_sim_mobile", username=f"u{i}")
    assert error_of(api.get("connections", cursor="garbage!"))["code"] == "cursor_invalid"
    cursor = api.ok(api.get("connections", limit=1))["next_cursor"]
    response = api.get("connections", limit=1, cursor=cursor, status="connected")
    assert response.status_code == 400 and error_of(response)["code"] == "cursor_invalid"
    response = api.get("task-runs", cursor=cursor)
    assert error_of(response)["code"] == "cursor_invalid"


def test_connection_filters_combine_with_and_before_pagination(api):
    a = api.open("src_sim_mobile", username="a", external_id="team-1")
    api.open("src_sim_power", username="b", external_id="team-1")
    api.open("src_sim_mobile", username="c", external_id="team-2")
    api.advance(2)
    page = api.ok(api.get("connections", source_id="src_sim_mobile", external_id="team-1", status="connected"))
    assert [c["id"] for c in page["data"]] == [a["id"]]
    page = api.ok(api.get("connections", status="interaction_required", limit=1))
    assert len(page["data"]) == 1 and page["has_more"] is False


def test_credentials_are_never_returned(api):
    conn = api.open("src_sim_bank", username="secret-user-x", password="secret-pass-y")
    api.advance(2)
    everything = [
        api.get(f"connections/{conn['id']}").text,
        api.get("connections").text,
        api.get("events").text,
    ]
    for text in everything:
        assert "secret-user-x" not in text and "secret-pass-y" not in text
