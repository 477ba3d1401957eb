"""Sessions (Deck's current API): made by a run, reused without a login, idle, ended after 10 idle
minutes or on request, failed by a timeout, and limited in number. Manual clock, raw HTTP."""

from __future__ import annotations

import pytest
from helpers import CurrentApi, error_of


@pytest.fixture
def cur(sim):
    client = CurrentApi(sim)
    yield client
    client.http.close()


def _done_run(cur, cred_id):
    """A completed power run in a new session (login MFA answered)."""
    run = cur.start("task_sim_bills", {"months": 1}, credential_id=cred_id)
    cur.log_in(run["id"])
    cur.advance(3)
    done = cur.run(run["id"])
    assert done["status"] == "completed", done
    return done


def test_a_run_that_names_no_session_makes_one(cur):
    cred = cur.store("src_sim_power")
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    assert run["status"] == "queued" and run["session_id"].startswith("sess_")
    assert (run["credential_id"], run["connection_id"], run["source_id"]) == (cred["id"], None, "src_sim_power")
    session = cur.session(run["session_id"])
    assert session["object"] == "session" and session["status"] == "queued"
    assert session["task_runs"] == [
        {"id": run["id"], "task_id": "task_sim_bills", "agent_id": run["agent_id"], "credential_id": cred["id"]}
    ]
    cur.advance(1)
    assert cur.session(run["session_id"])["status"] == "running"
    cur.log_in(run["id"])
    cur.advance(3)
    assert cur.run(run["id"])["status"] == "completed"
    idle = cur.session(run["session_id"])
    assert idle["status"] == "idle" and idle["runtime_ms"] == 9000  # 1 s, then mfa asked at 3 s, answered at 4 s
    assert cur.event_types(type="session.*") == ["session.queued", "session.running", "session.idle"]
    missing = cur.get("sessions/sess_nope")
    assert missing.status_code == 404 and error_of(missing)["code"] == "session_not_found"


def test_a_run_in_a_live_session_skips_the_login(cur, sim):
    cred = cur.store("src_sim_power")
    first = _done_run(cur, cred["id"])
    session_id = first["session_id"]

    second = cur.start("task_sim_bills", {"months": 3}, session_id=session_id)
    assert (second["session_id"], second["credential_id"]) == (session_id, cred["id"])
    assert cur.session(session_id)["status"] == "running"  # busy again
    cur.advance(1)
    assert cur.run(second["id"])["status"] == "running"
    cur.advance(2.9)
    assert cur.run(second["id"])["status"] == "running"
    cur.advance(0.1)
    done = cur.run(second["id"])
    assert done["status"] == "completed" and len(done["output"]["bills"]) == 3 and done["runtime_ms"] == 3000
    kinds = [e["data"]["interaction"]["type"] for e in cur.events(type="task_run.interaction_required")]
    assert kinds == ["mfa"]  # only the first run logged in
    assert [r["id"] for r in cur.session(session_id)["task_runs"]] == [first["id"], second["id"]]
    assert sim.stats()["logins"] == 1 and sim.stats()["sessions_created"] == 1

    third = cur.start("task_sim_usage", credential_id=cred["id"], session_id=session_id)
    assert third["session_id"] == session_id
    other = cur.store("src_sim_power", username="bob")
    mismatch = cur.post("tasks/task_sim_usage/run", {"credential_id": other["id"], "session_id": session_id})
    assert mismatch.status_code == 400
    assert error_of(mismatch) == {
        "type": "request",
        "code": "session_mismatch",
        "field": "session_id",
        "message": error_of(mismatch)["message"],
    }


def test_an_idle_session_ends_after_ten_minutes_and_a_run_keeps_it_alive(cur):
    cred = cur.store("src_sim_power")
    session_id = _done_run(cur, cred["id"])["session_id"]
    cur.advance(599)
    assert cur.session(session_id)["status"] == "idle"
    kept = cur.start("task_sim_bills", {"months": 1}, session_id=session_id)
    cur.advance(4)
    assert cur.run(kept["id"])["status"] == "completed"
    cur.advance(599.5)
    assert cur.session(session_id)["status"] == "idle"  # the countdown began again
    cur.advance(0.5)
    assert cur.session(session_id)["status"] == "completing"
    cur.advance(1)
    ended = cur.session(session_id)
    assert ended["status"] == "completed"
    refused = cur.post("tasks/task_sim_bills/run", {"session_id": session_id})
    assert refused.status_code == 400
    assert (error_of(refused)["type"], error_of(refused)["code"]) == ("session", "session_not_active")
    assert cur.event_types(type="session.*")[-2:] == ["session.completing", "session.completed"]


@pytest.mark.deck_simulator(clock="manual", time_scale=0.5, rate_limit="off")
def test_the_idle_end_is_scaled_by_time_scale(cur):
    cred = cur.store("src_sim_power")
    run = cur.start("task_sim_bills", {"months": 1}, credential_id=cred["id"])
    cur.advance(0.5 + 1)  # queued, then the login: halved
    assert cur.run(run["id"])["status"] == "interaction_required"
    cur.ok(cur.answer(run["id"], code="123456"))
    cur.advance(1 + 1.5)  # the verdict, then the work: halved
    assert cur.run(run["id"])["status"] == "completed"
    cur.advance(299.9)
    assert cur.session(run["session_id"])["status"] == "idle"
    cur.advance(0.1)
    assert cur.session(run["session_id"])["status"] == "completing"


def test_ending_a_session_cancels_its_unfinished_runs(cur):
    cred = cur.store("src_sim_bank")
    run = cur.start("task_sim_statements", credential_id=cred["id"])
    cur.log_in(run["id"])
    cur.advance(1)
    assert cur.run(run["id"])["status"] == "interaction_required"  # account selection
    ended = cur.ok(cur.post(f"sessions/{run['session_id']}/end"))
    assert ended["status"] == "completing"
    cancelling = cur.run(run["id"])
    assert cancelling["status"] == "cancelling" and cancelling["interaction"] is None
    late = cur.answer(run["id"], account_id="x")
    assert late.status_code == 400 and error_of(late)["code"] == "interaction_not_required"
    cur.advance(1)
    canceled = cur.run(run["id"])
    assert canceled["status"] == "canceled" and canceled["result"] == "unknown" and canceled["canceled_at"]
    assert cur.session(run["session_id"])["status"] == "completed"
    assert cur.ok(cur.post(f"sessions/{run['session_id']}/end"))["status"] == "completed"  # ending again: no-op
    types = cur.event_types()
    assert types.index("task_run.canceling") < types.index("session.completing") < types.index("task_run.canceled")
    assert types[-1] == "session.completed"


def test_an_unanswered_login_fails_the_run_and_the_session(cur):
    cred = cur.store("src_sim_power")
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.advance(3)
    assert cur.run(run["id"])["status"] == "interaction_required"
    cur.advance(119.9)
    assert cur.run(run["id"])["status"] == "interaction_required"
    cur.advance(0.1)
    failed = cur.run(run["id"])
    assert failed["status"] == "failed" and failed["result"] == "failure"
    assert (failed["errors"][0]["type"], failed["errors"][0]["code"]) == ("interaction", "interaction_timeout")
    assert cur.session(run["session_id"])["status"] == "failed"
    late = cur.answer(run["id"], code="123456")
    assert late.status_code == 408 and error_of(late)["code"] == "interaction_timeout"
    assert cur.credential(cred["id"])["status"] == "unverified"  # nobody refused it


@pytest.mark.deck_simulator(clock="manual", rate_limit="off", session_limit=2)
def test_the_session_limit_refuses_one_more_session_with_retry_after(cur, sim):
    creds = [cur.store("src_sim_power", username=f"user{i}") for i in range(3)]
    first = _done_run(cur, creds[0]["id"])  # its session is idle, and still counts
    cur.advance(10)
    cur.start("task_sim_bills", {"months": 1}, credential_id=creds[1]["id"])
    refused = cur.post("tasks/task_sim_bills/run", {"credential_id": creds[2]["id"]})
    assert refused.status_code == 429
    assert (error_of(refused)["type"], error_of(refused)["code"]) == ("rate_limit", "session_limit_exceeded")
    assert refused.headers["Retry-After"] == "590"  # when the idle session will have ended
    # A bad input is refused before the limit is looked at.
    bad = cur.post("tasks/task_sim_bills/run", {"credential_id": creds[2]["id"], "input": {"months": 99}})
    assert bad.status_code == 400 and error_of(bad)["code"] == "input_invalid"
    # Reusing a session opens none: allowed at the limit.
    assert cur.start("task_sim_bills", {"months": 1}, session_id=first["session_id"])["status"] == "queued"
    assert sim.control("GET", "config")["session_limit"] == 2
    cur.ok(cur.post(f"sessions/{first['session_id']}/end"))
    still = cur.post("tasks/task_sim_bills/run", {"credential_id": creds[2]["id"]})
    assert still.status_code == 429  # `completing` still holds its place
    cur.advance(1)
    assert cur.start("task_sim_bills", credential_id=creds[2]["id"])["status"] == "queued"


@pytest.mark.deck_simulator(clock="manual", rate_limit="off", session_limit="off")
def test_the_session_limit_can_be_lifted(cur):
    cred = cur.store("src_sim_power")
    runs = [cur.start("task_sim_bills", {"months": 1}, credential_id=cred["id"]) for _ in range(30)]
    assert len({r["session_id"] for r in runs}) == 30


def test_an_idempotent_retry_of_a_run_is_never_a_second_run_or_session(cur, sim):
    cred = cur.store("src_sim_power")
    body = {"credential_id": cred["id"], "input": {"months": 2}}
    first = cur.post("tasks/task_sim_bills/run", body, headers={"Idempotency-Key": "run-1"})
    again = cur.post("tasks/task_sim_bills/run", body, headers={"Idempotency-Key": "run-1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert sim.stats()["task_runs_created"] == 1 and sim.stats()["sessions_created"] == 1


def test_a_session_whose_login_never_finished_logs_in_on_its_next_run(cur, sim):
    cred = cur.store("src_sim_power")
    first = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.advance(3)
    assert cur.run(first["id"])["interaction"]["type"] == "mfa"
    cur.ok(cur.post(f"task-runs/{first['id']}/cancel"))
    cur.advance(1)
    assert cur.session(first["session_id"])["status"] == "idle"
    second = cur.start("task_sim_bills", {"months": 1}, session_id=first["session_id"])
    cur.advance(3)
    assert cur.run(second["id"])["interaction"]["type"] == "mfa"  # nobody had logged this browser in
    cur.ok(cur.answer(second["id"], code="123456"))
    cur.advance(5)
    assert cur.run(second["id"])["status"] == "completed"
    assert sim.stats()["logins"] == 2 and cur.credential(cred["id"])["status"] == "verified"


def test_an_unanswered_prompt_of_the_run_itself_also_fails_the_session(cur):
    cred = cur.store("src_sim_mobile")
    run = cur.start("task_sim_bills", credential_id=cred["id"])
    cur.advance(3 + 1)  # logged in (nothing asked), then the step-up code 1 s into the work
    assert cur.run(run["id"])["interaction"]["type"] == "mfa"
    cur.advance(120)
    failed = cur.run(run["id"])
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == "interaction_timeout"
    assert cur.session(run["session_id"])["status"] == "failed"
    assert cur.credential(cred["id"])["status"] == "verified"  # the login itself had worked
