"""Task-run lifecycles, catalog outputs, fail_with, cancel and timeouts, on a manual clock."""

from __future__ import annotations

import pytest
from helpers import error_of

from deck_nb.simulator._catalog import FAILURE_CODES


def test_power_bills_run_queued_running_completed_with_deterministic_output(api):
    conn = api.connected("src_sim_power")
    run = api.start_run("task_sim_bills", conn["id"], {"months": 3})
    assert run["status"] == "queued" and run["result"] is None and run["id"].startswith("trun_")
    assert (run["task_id"], run["connection_id"], run["source_id"]) == ("task_sim_bills", conn["id"], "src_sim_power")
    api.advance(1)
    assert api.run(run["id"])["status"] == "running"
    api.advance(2.9)
    assert api.run(run["id"])["status"] == "running"
    api.advance(0.1)
    done = api.run(run["id"])
    assert done["status"] == "completed" and done["result"] == "success"
    assert done["runtime_ms"] == 3000 and done["completed_at"] == done["updated_at"]
    bills = done["output"]["bills"]
    assert [b["statement_date"] for b in bills] == ["2026-10-28", "2026-09-28", "2026-08-28"]
    assert set(bills[0]) == {"statement_date", "amount_due", "currency", "usage_kwh", "account_number"}
    assert all(b["currency"] == "USD" and b["amount_due"] > 0 for b in bills)


def test_outputs_are_a_pure_function_of_task_source_user_and_input(api, sim):
    def output(username, months):
        conn = api.connected("src_sim_power", username=username)
        run = api.start_run("task_sim_bills", conn["id"], {"months": months})
        api.advance(4)
        return api.run(run["id"])["output"]

    first = output("ada", 2)
    assert output("ada", 2) == first
    sim.reset()
    assert output("ada", 2) == first
    assert output("bob", 2) != first
    assert len(output("ada", 3)["bills"]) == 3


def test_default_inputs_apply_and_include_input_shows_them(api):
    conn = api.connected("src_sim_power")
    run = api.start_run("task_sim_usage", conn["id"])
    assert "input" not in run
    shown = api.ok(api.get(f"task-runs/{run['id']}", include="input"))
    assert shown["input"] == {"days": 30}
    api.advance(4)
    usage = api.run(run["id"])["output"]["usage"]
    assert len(usage) == 30 and usage[0]["unit"] == "kWh"


def test_bank_statements_ask_account_selection_mid_run(api):
    conn = api.connected("src_sim_bank")
    run = api.start_run("task_sim_statements", conn["id"])
    api.advance(1.0)
    assert api.run(run["id"])["status"] == "running"
    api.advance(1.0)
    paused = api.run(run["id"])
    assert paused["status"] == "interaction_required"
    interaction = paused["interaction"]
    assert interaction["type"] == "account_selection" and interaction["message"] == "Select an account"
    field = interaction["fields"][0]
    assert (field["name"], field["type"], field["label"]) == ("account_id", "string", "Account")
    assert len(field["options"]) == 3
    choice = field["options"][2]["value"]

    bad = api.answer_run(run["id"], account_id="acct_nope")
    assert bad.status_code == 400 and error_of(bad)["field"] == "account_id"

    resumed = api.ok(api.answer_run(run["id"], account_id=choice))
    assert resumed["status"] == "running" and resumed["interaction"] is None
    api.advance(100)  # waiting time is not work time
    done = api.run(run["id"])
    assert done["status"] == "completed" and done["output"]["account_id"] == choice
    assert len(done["output"]["transactions"]) == 20


def test_run_completes_three_seconds_of_work_after_start_not_counting_input_time(api):
    conn = api.connected("src_sim_mobile")
    run = api.start_run("task_sim_usage", conn["id"], {"days": 2})
    api.advance(2)  # queued 1 s + 1 s of work → prompt
    assert api.run(run["id"])["interaction"]["type"] == "mfa"
    api.advance(30)  # the user takes 30 s to answer
    api.ok(api.answer_run(run["id"], code="123456"))
    api.advance(1)  # the agent checks the code
    api.advance(1.9)
    assert api.run(run["id"])["status"] == "running"
    api.advance(0.1)
    assert api.run(run["id"])["status"] == "completed"


def test_mobile_step_up_mfa_wrong_codes_fail_the_run_but_keep_the_connection(api):
    conn = api.connected("src_sim_mobile")
    run = api.start_run("task_sim_usage", conn["id"])
    api.advance(2)
    for left in (2, 1):
        api.ok(api.answer_run(run["id"], code="000000"))
        api.advance(1)
        assert api.run(run["id"])["interaction"]["attempts_remaining"] == left
    api.ok(api.answer_run(run["id"], code="000000"))
    api.advance(1)
    failed = api.run(run["id"])
    assert failed["status"] == "failed" and failed["result"] == "failure"
    assert failed["errors"][0]["type"] == "auth" and failed["errors"][0]["code"] == "auth_invalid"
    assert api.connection(conn["id"])["status"] == "connected"


def test_user_locked_run_fails_on_first_wrong_code(api):
    conn = api.connected("src_sim_mobile", username="user_locked")
    run = api.start_run("task_sim_usage", conn["id"])
    api.advance(2)
    api.ok(api.answer_run(run["id"], code="1"))
    api.advance(1)
    assert api.run(run["id"])["errors"][0]["code"] == "auth_invalid"


def test_run_interaction_window_timeout_fails_the_run_and_late_submit_is_408(api):
    conn = api.connected("src_sim_bank")
    run = api.start_run("task_sim_statements", conn["id"])
    api.advance(2 + 300)
    failed = api.run(run["id"])
    assert failed["status"] == "failed" and failed["result"] == "failure" and failed["interaction"] is None
    assert failed["errors"][0]["type"] == "interaction" and failed["errors"][0]["code"] == "interaction_timeout"
    late = api.answer_run(run["id"], account_id="whatever")
    assert late.status_code == 408 and error_of(late)["code"] == "interaction_timeout"
    assert api.connection(conn["id"])["status"] == "connected"


@pytest.mark.parametrize("code", sorted(FAILURE_CODES))
def test_fail_with_each_documented_code(api, code):
    conn = api.connected("src_sim_mobile")
    run = api.start_run("task_sim_bills", conn["id"], {"fail_with": code})
    api.advance(1)
    assert api.run(run["id"])["status"] == "running"
    api.advance(1)
    failed = api.run(run["id"])
    assert failed["status"] == "failed" and failed["result"] == "failure" and failed["interaction"] is None
    assert failed["errors"][0]["code"] == code
    assert failed["errors"][0]["type"] == FAILURE_CODES[code]
    statuses = [e["type"] for e in api.events(type="task_run.*") if e["data"]["id"] == run["id"]]
    assert statuses == ["task_run.queued", "task_run.running", "task_run.failed"]


def test_fail_with_timeout_is_the_task_timeout(api):
    conn = api.connected("src_sim_mobile")
    run = api.start_run("task_sim_bills", conn["id"], {"fail_with": "timeout"})
    api.advance(2)
    assert api.run(run["id"])["errors"][0]["type"] == "task"


def test_fail_with_an_unlisted_code_is_input_invalid(api):
    conn = api.connected("src_sim_mobile")
    response = api.post("tasks/task_sim_bills/run", {"connection_id": conn["id"], "input": {"fail_with": "nope"}})
    assert response.status_code == 400
    assert error_of(response)["code"] == "input_invalid" and error_of(response)["field"] == "input.fail_with"


@pytest.mark.parametrize(
    "task,input_,field",
    [
        ("task_sim_bills", {"months": 0}, "input.months"),
        ("task_sim_bills", {"months": 25}, "input.months"),
        ("task_sim_bills", {"months": "6"}, "input.months"),
        ("task_sim_bills", {"months": 6.5}, "input.months"),
        ("task_sim_usage", {"days": 91}, "input.days"),
        ("task_sim_usage", {"dayz": 3}, "input.dayz"),
        ("task_sim_bills", [1], "input"),
    ],
)
def test_invalid_task_input_is_input_invalid_with_the_field(api, task, input_, field):
    conn = api.connected("src_sim_mobile")
    response = api.post(f"tasks/{task}/run", {"connection_id": conn["id"], "input": input_})
    assert response.status_code == 400
    assert error_of(response) | {"message": ""} == {
        "type": "request",
        "code": "input_invalid",
        "field": field,
        "message": "",
    }


@pytest.mark.deck_simulator(api="connections")  # serving both, a body naming no way to log in names credential_id
def test_run_request_checks_happen_in_the_documented_order(api):
    pending = api.open("src_sim_power")
    bad_input = {"months": 99}
    # task first
    response = api.post("tasks/task_nope/run", {"input": bad_input})
    assert (response.status_code, error_of(response)["code"]) == (404, "task_not_found")
    # then connection_id given
    response = api.post("tasks/task_sim_bills/run", {"input": bad_input})
    assert (response.status_code, error_of(response)["code"]) == (400, "input_missing")
    assert error_of(response)["field"] == "connection_id"
    # then connection exists
    response = api.post("tasks/task_sim_bills/run", {"connection_id": "conn_nope", "input": bad_input})
    assert (response.status_code, error_of(response)["code"]) == (404, "connection_not_found")
    # then connected
    response = api.post("tasks/task_sim_bills/run", {"connection_id": pending["id"], "input": bad_input})
    assert (response.status_code, error_of(response)["type"], error_of(response)["code"]) == (
        400,
        "connection",
        "connection_not_connected",
    )


def test_runs_refused_on_invalid_and_disconnected_connections(api):
    invalid = api.open("src_sim_power", password="pass_bad")
    gone = api.connected("src_sim_mobile")
    api.advance(2)
    api.ok(api.post(f"connections/{gone['id']}/disconnect"))
    for conn_id in (invalid["id"], gone["id"]):
        response = api.post("tasks/task_sim_bills/run", {"connection_id": conn_id})
        assert error_of(response)["code"] == "connection_not_connected"


@pytest.mark.parametrize("advance,status", [(0, "queued"), (1, "running"), (2, "interaction_required")])
def test_cancel_from_each_cancelable_status(api, advance, status):
    conn = api.connected("src_sim_bank")
    run = api.start_run("task_sim_statements", conn["id"])
    api.advance(advance)
    assert api.run(run["id"])["status"] == status
    canceled = api.ok(api.post(f"task-runs/{run['id']}/cancel"))
    assert canceled["status"] == "canceled" and canceled["result"] is None
    assert canceled["canceled_at"] == canceled["updated_at"] and canceled["interaction"] is None
    api.advance(400)  # no timer fires after cancel
    assert api.run(run["id"])["status"] == "canceled"
    late = api.answer_run(run["id"], account_id="x")
    assert late.status_code == 400 and error_of(late)["code"] == "interaction_not_required"


def test_cancel_a_finished_run_is_refused(api):
    conn = api.connected("src_sim_mobile")
    run = api.start_run("task_sim_bills", conn["id"], {"fail_with": "api_error"})
    api.advance(2)
    response = api.post(f"task-runs/{run['id']}/cancel")
    assert response.status_code == 400
    assert error_of(response)["type"] == "request" and error_of(response)["code"] == "task_run_not_cancelable"


def test_submission_to_a_run_that_is_not_waiting_is_400(api):
    conn = api.connected("src_sim_power")
    run = api.start_run("task_sim_bills", conn["id"])
    response = api.answer_run(run["id"], code="123456")
    assert response.status_code == 400 and error_of(response)["code"] == "interaction_not_required"


def test_several_runs_at_once_on_one_connection(api):
    conn = api.connected("src_sim_power")
    runs = [api.start_run("task_sim_bills", conn["id"], {"months": m}) for m in (1, 2, 3, 4)]
    api.advance(4)
    done = [api.run(r["id"]) for r in runs]
    assert [len(r["output"]["bills"]) for r in done] == [1, 2, 3, 4]
    assert {r["status"] for r in done} == {"completed"}


def test_task_run_filters(api):
    power = api.connected("src_sim_power")
    mobile = api.connected("src_sim_mobile")
    r1 = api.start_run("task_sim_bills", power["id"])
    api.advance(5)
    r2 = api.start_run("task_sim_usage", mobile["id"], {"fail_with": "source_error"})
    r3 = api.start_run("task_sim_bills", mobile["id"])

    def ids(**params):
        return [r["id"] for r in api.ok(api.get("task-runs", **params))["data"]]

    assert ids() == [r1["id"], r2["id"], r3["id"]]
    assert ids(connection_id=power["id"]) == [r1["id"]]
    assert ids(source_id="src_sim_mobile") == [r2["id"], r3["id"]]
    assert ids(task_id="task_sim_bills") == [r1["id"], r3["id"]]
    assert ids(status="completed") == [r1["id"]]
    assert ids(result="success") == [r1["id"]]
    assert ids(task_id="task_sim_bills", source_id="src_sim_mobile") == [r3["id"]]
    r1_created = api.run(r1["id"])["created_at"]
    assert ids(created_after=r1_created) == [r2["id"], r3["id"]]
    assert ids(created_before=api.run(r2["id"])["created_at"]) == [r1["id"]]
    response = api.get("task-runs", created_after="yesterday")
    assert response.status_code == 400 and error_of(response)["field"] == "created_after"
