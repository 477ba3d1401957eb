"""Task runs through Deck's current API: request checks in order, the login on the run, the minimal
interaction shape, the `input` body key, review, cancelling, concurrent answers. Manual clock."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from helpers import CurrentApi, error_of


@pytest.fixture
def cur(sim):
    client = CurrentApi(sim)
    yield client
    client.http.close()


def _refusal(response: httpx.Response) -> tuple:
    error = error_of(response)
    return response.status_code, error["type"], error["code"], error.get("field")


def test_run_request_checks_happen_in_the_documented_order(cur, sim):
    good = cur.store("src_sim_power")
    gone = cur.store("src_sim_power", username="bob")
    cur.ok(cur.request_delete(gone["id"]))
    done = cur.start("task_sim_bills", {"months": 1}, credential_id=good["id"])
    cur.ok(cur.post(f"sessions/{done['session_id']}/end"))
    cur.advance(1)
    live = cur.start("task_sim_bills", credential_id=good["id"])["session_id"]
    other = cur.store("src_sim_power", username="cy")
    bad_input = {"months": 99}

    def attempt(task="task_sim_bills", **body):
        return _refusal(cur.post(f"tasks/{task}/run", {**body, "input": bad_input}))

    assert attempt("task_nope") == (404, "request", "task_not_found", None)
    nothing = cur.post("tasks/task_sim_bills/run", {"input": bad_input})
    assert _refusal(nothing) == (400, "request", "input_missing", "credential_id")
    assert "credential_id" in error_of(nothing)["message"] and "connection_id" in error_of(nothing)["message"]
    # a source alone is a way to log in only for a source that needs no login; every simulated one needs one
    assert attempt(source_id="src_sim_mobile") == (400, "request", "input_missing", "credential_id")
    assert attempt(source_id="src_nope") == (404, "source", "source_not_found", None)
    assert attempt(credential_id="cred_nope") == (404, "request", "credential_not_found", None)
    assert attempt(credential_id=gone["id"]) == (400, "request", "credential_deleted", None)
    assert attempt(session_id="sess_nope") == (404, "request", "session_not_found", None)
    assert attempt(session_id=done["session_id"]) == (400, "session", "session_not_active", None)
    assert attempt(credential_id=other["id"], session_id=live) == (400, "request", "session_mismatch", "session_id")
    assert attempt(credential_id=good["id"]) == (400, "request", "input_invalid", "input.months")
    mixed = attempt(credential_id=good["id"], connection_id="conn_x")
    assert mixed == (400, "request", "input_invalid", "connection_id")
    assert sim.stats()["task_runs_created"] == 2


def test_the_login_arrives_on_the_run_with_deck_timings_and_the_minimal_shape(cur):
    cred = cur.store("src_sim_power")
    run = cur.start("task_sim_bills", {"months": 2}, credential_id=cred["id"])
    cur.advance(1)
    assert cur.run(run["id"])["status"] == "running"
    cur.advance(1.9)
    assert cur.run(run["id"])["interaction"] is None  # logging in: 2 s before the first prompt
    cur.advance(0.1)
    asked = cur.run(run["id"])
    assert asked["status"] == "interaction_required"
    assert asked["interaction"] == {
        "type": "mfa",
        "message": "Enter the 6-digit code sent to your phone",
        "fields": [{"name": "code", "type": "string", "label": "Verification code"}],
    }
    answered = cur.ok(cur.answer(run["id"], code="123456"))
    assert answered["status"] == "running" and answered["interaction"] is None
    cur.advance(1.9)
    assert cur.credential(cred["id"])["status"] == "unverified"  # the verdict takes 2 s
    cur.advance(0.1)
    assert cur.credential(cred["id"])["status"] == "verified"
    cur.advance(2.9)
    assert cur.run(run["id"])["status"] == "running"
    cur.advance(0.1)
    done = cur.run(run["id"])
    assert done["status"] == "completed" and done["result"] == "success" and done["runtime_ms"] == 7000
    # Outputs are the same pure function of task, source, username and input as through the seed's API.
    conn = cur.connected("src_sim_power")
    seed = cur.start_run("task_sim_bills", conn["id"], {"months": 2})
    cur.advance(4)
    assert cur.run(seed["id"])["output"] == done["output"]
    assert cur.event_types(type="task_run.*")[:5] == [
        "task_run.queued",
        "task_run.running",
        "task_run.interaction_required",
        "task_run.running",
        "task_run.completed",
    ]


def test_bank_login_then_the_runs_account_choice_with_options(cur):
    cred = cur.store("src_sim_bank")
    run = cur.start("task_sim_statements", credential_id=cred["id"])
    cur.advance(3)
    assert cur.run(run["id"])["interaction"]["type"] == "mfa"
    cur.ok(cur.answer(run["id"], code="123456"))
    cur.advance(2)
    question = cur.run(run["id"])["interaction"]
    assert question["type"] == "security_question" and set(question) == {"type", "message", "fields"}
    cur.ok(cur.answer(run["id"], answer="REX"))
    cur.advance(2)
    assert cur.run(run["id"])["status"] == "running"
    cur.advance(1)
    choice = cur.run(run["id"])["interaction"]
    field = choice["fields"][0]
    assert set(field) == {"name", "type", "label", "options"} and len(field["options"]) == 3
    assert "expires_at" not in choice and "attempts_remaining" not in choice
    cur.ok(cur.answer(run["id"], account_id=field["options"][1]["value"]))
    cur.advance(3)
    done = cur.run(run["id"])
    assert done["status"] == "completed" and done["output"]["account_id"] == field["options"][1]["value"]


def test_novel_fields_carry_no_required_or_secret_so_every_field_is_required(cur):
    cred = cur.store("src_sim_novel")
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.advance(3)
    interaction = cur.run(run["id"])["interaction"]
    assert all(set(f) <= {"name", "type", "label", "options"} for f in interaction["fields"])
    answer = {
        "device_name": "laptop",
        "pin": 123456,
        "remember_device": True,
        "delivery": "sms",
        "passphrase": "open sesame",
    }
    missing = cur.answer(run["id"], **answer)
    assert _refusal(missing) == (400, "interaction", "interaction_input_invalid", "birth_date")
    cur.ok(cur.answer(run["id"], **answer, birth_date="1990-01-01"))
    cur.advance(2 + 3)
    assert cur.run(run["id"])["status"] == "completed"


def test_wrong_codes_come_back_with_an_updated_message_then_lock(cur):
    cred = cur.store("src_sim_power")
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.advance(3)
    for left in (2, 1):
        cur.ok(cur.answer(run["id"], code="000000"))
        cur.advance(2)
        again = cur.run(run["id"])
        assert again["status"] == "interaction_required"
        assert again["interaction"]["message"].startswith("That answer was not accepted.")
        assert f"({left} attempt" in again["interaction"]["message"]
    cur.ok(cur.answer(run["id"], code="000000"))
    cur.advance(2)
    locked = cur.run(run["id"])
    assert locked["status"] == "failed" and locked["errors"][0]["code"] == "auth_invalid"
    assert cur.credential(cred["id"])["status"] == "invalid"


def test_the_input_key_wins_on_current_runs_and_inputs_still_works(cur):
    cred = cur.store("src_sim_power")
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.advance(3)
    both = {"input": {"code": "123456"}, "inputs": {"code": "000000"}}
    cur.ok(cur.post(f"task-runs/{run['id']}/interaction", both))
    cur.advance(2)
    assert cur.credential(cred["id"])["status"] == "verified"  # `input` was judged

    other = cur.start("task_sim_bills", credential_id=cur.store("src_sim_power", username="bo")["id"])
    cur.advance(3)
    cur.ok(cur.post(f"task-runs/{other['id']}/interaction", {"inputs": {"code": "123456"}}))
    cur.advance(2)
    assert cur.run(other["id"])["status"] == "running" and cur.run(other["id"])["interaction"] is None
    shape = cur.post(f"task-runs/{other['id']}/interaction", {"input": "123456"})
    assert shape.status_code == 400


def test_the_seed_rule_stays_on_seed_runs_inputs_wins(cur):
    conn = cur.connected("src_sim_mobile")
    run = cur.start_run("task_sim_bills", conn["id"])
    cur.advance(2)
    assert cur.run(run["id"])["interaction"]["attempts_remaining"] == 3  # seed runs keep the extras
    both = {"inputs": {"code": "123456"}, "input": {"code": "000000"}}
    cur.ok(cur.post(f"task-runs/{run['id']}/interaction", both))
    cur.advance(3)
    assert cur.run(run["id"])["status"] == "completed"


def _paid(cur, amount=42.5, username="ada"):
    cred = cur.store("src_sim_mobile", username=username)
    run = cur.start("task_sim_pay_bill", {"amount": amount}, credential_id=cred["id"])
    cur.log_in(run["id"])
    cur.advance(1)
    cur.ok(cur.answer(run["id"], code="123456"))  # mobile's step-up on every run
    cur.advance(3)
    return cur.run(run["id"])


def test_pay_bill_waits_for_review_and_approval_completes_it(cur, sim):
    waiting = _paid(cur)
    assert waiting["status"] == "review_required" and waiting["result"] is None and waiting["output"] is None
    cur.advance(3600)
    assert cur.run(waiting["id"])["status"] == "review_required"  # waits for a person, however long
    approved = sim.review(waiting["id"], "approve")
    assert approved["status"] == "completed" and approved["result"] == "success"
    output = approved["output"]
    assert output["amount"] == 42.5 and output["confirmation"].startswith("PAY-") and len(output["confirmation"]) == 12
    assert "task_run.review_required" in cur.event_types(type="task_run.*")
    # pure of task, source, username and input: the seed's API (no review there) pays the same
    conn = cur.connected("src_sim_mobile")
    seed = cur.start_run("task_sim_pay_bill", conn["id"], {"amount": 42.5})
    cur.advance(2)
    cur.ok(cur.answer_run(seed["id"], code="123456"))
    cur.advance(3)
    assert cur.run(seed["id"])["status"] == "completed" and cur.run(seed["id"])["output"] == output


def test_review_rejected_fails_and_review_of_other_runs_is_refused(cur, sim):
    waiting = _paid(cur, username="bo")
    rejected = sim.review(waiting["id"], "reject")
    assert rejected["status"] == "failed" and rejected["result"] == "failure"
    assert rejected["errors"] == [
        {"type": "task", "code": "review_rejected", "message": rejected["errors"][0]["message"]}
    ]
    again = cur.http.post(f"{sim.root_url}/_sim/task-runs/{waiting['id']}/review", json={"decision": "approve"})
    assert again.status_code == 400 and error_of(again)["code"] == "review_not_required"
    bad = cur.http.post(f"{sim.root_url}/_sim/task-runs/{waiting['id']}/review", json={"decision": "maybe"})
    assert bad.status_code == 400 and error_of(bad)["field"] == "decision"


@pytest.mark.parametrize("input_,code", [({}, "input_missing"), ({"amount": 0}, "input_invalid")])
def test_pay_bill_needs_a_positive_amount(cur, input_, code):
    cred = cur.store("src_sim_mobile")
    response = cur.post("tasks/task_sim_pay_bill/run", {"credential_id": cred["id"], "input": input_})
    assert _refusal(response) == (400, "request", code, "input.amount")


@pytest.mark.parametrize("status", ["queued", "running", "interaction_required", "review_required"])
def test_cancel_passes_through_cancelling(cur, status):
    cred = cur.store("src_sim_mobile")
    run = cur.start("task_sim_pay_bill", {"amount": 5}, credential_id=cred["id"])
    steps = {"queued": [], "running": [1], "interaction_required": [4], "review_required": [4, "answer", 3]}
    for step in steps[status]:
        if step == "answer":
            cur.ok(cur.answer(run["id"], code="123456"))
        else:
            cur.advance(step)
    assert cur.run(run["id"])["status"] == status
    cancelling = cur.ok(cur.post(f"task-runs/{run['id']}/cancel"))
    assert cancelling["status"] == "cancelling" and cancelling["interaction"] is None
    assert cancelling["canceled_at"] is None and cancelling["result"] is None
    twice = cur.post(f"task-runs/{run['id']}/cancel")
    assert _refusal(twice) == (400, "request", "task_run_not_cancelable", None)
    assert [r["id"] for r in cur.ok(cur.get("task-runs", status="canceling"))["data"]] == [run["id"]]
    cur.advance(0.9)
    assert cur.run(run["id"])["status"] == "cancelling"
    cur.advance(0.1)
    canceled = cur.run(run["id"])
    assert canceled["status"] == "canceled" and canceled["result"] == "unknown"
    assert canceled["canceled_at"] == canceled["updated_at"]
    assert cur.event_types(type="task_run.*")[-2:] == ["task_run.canceling", "task_run.canceled"]
    assert cur.session(run["session_id"])["status"] == "idle"


def test_concurrent_answers_to_one_run_interaction_exactly_one_wins(cur, sim):
    cred = cur.store("src_sim_power")
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.advance(3)

    async def race() -> list[int]:
        headers = {"Authorization": f"Bearer {sim.api_key}"}
        async with httpx.AsyncClient(base_url=sim.base_url + "/", headers=headers, timeout=30) as client:
            calls = [
                client.post(f"task-runs/{run['id']}/interaction", json={"input": {"code": "123456"}}) for _ in range(12)
            ]
            responses = await asyncio.wait_for(asyncio.gather(*calls), 30)
        codes = [r.status_code for r in responses]
        losers = [error_of(r)["code"] for r in responses if r.status_code != 200]
        assert set(losers) <= {"interaction_not_required"}
        return codes

    codes = asyncio.run(race())
    assert sorted(codes) == [200] + [400] * 11


def test_run_list_filters_by_credential_session_and_outcome(cur):
    power = cur.store("src_sim_power")
    first = cur.start("task_sim_bills", {"months": 1}, credential_id=power["id"])
    cur.log_in(first["id"])
    cur.advance(3)
    second = cur.start("task_sim_bills", {"fail_with": "source_error"}, session_id=first["session_id"])
    other = cur.store("src_sim_power", username="bo")
    third = cur.start("task_sim_bills", credential_id=other["id"])
    cur.advance(2)

    def ids(**params):
        return [r["id"] for r in cur.ok(cur.get("task-runs", **params))["data"]]

    assert ids(credential_id=power["id"]) == [first["id"], second["id"]]
    assert ids(session_id=third["session_id"]) == [third["id"]]
    assert ids(outcome="failure") == [second["id"]] == ids(result="failure")
    assert ids(outcome="success", credential_id=power["id"]) == [first["id"]]
    assert cur.session(first["session_id"])["status"] == "idle"  # a failed task does not end the session
