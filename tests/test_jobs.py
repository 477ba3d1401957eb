"""Jobs through the public face, headless, against the simulator on a fast real clock: every
interaction type, retries, sequences, timeouts and rows of the seed's error table."""

from __future__ import annotations

import asyncio
import time

import pytest

import deck_nb as dn
from deck_nb.client import InteractionInputInvalid, InteractionNotRequired
from deck_nb.notebook import (
    ConsoleResponder,
    JobFailed,
    NeedsAwait,
    NoAnswer,
    SimulatorResponder,
    TOTPResponder,
    resolve_responder,
)
from deck_nb.notebook.widget_responder import WidgetResponder

pytestmark = pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.01, rate_limit="off")


@pytest.fixture
def deck(sim):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as client:
        yield client


def outcomes(job):
    return [(r.type, r.outcome) for r in job.interactions]


def test_mfa_at_login(deck):
    job = dn.connect("src_sim_power", "ada", "pw", respond={"code": "123456"}, deck=deck).wait(timeout=20)
    assert job.status == "connected" and job.ok and job.done
    assert outcomes(job) == [("mfa", "accepted")]
    assert job.interactions[0].field_names == ["code"] and job.interactions[0].answered_at is not None


def test_mfa_then_security_question_in_sequence(deck):
    job = dn.connect("src_sim_bank", "ada", "pw", respond={"code": "123456", "answer": "rex"}, deck=deck)
    job.wait(timeout=20)
    assert outcomes(job) == [("mfa", "accepted"), ("security_question", "accepted")]
    assert job.interactions[1].message == "What was the name of your first pet?"


def test_wrong_code_is_retried_with_the_new_prompt_and_attempts_left(deck):
    job = dn.connect("src_sim_power", "ada", "pw", respond={"code": ["111111", "123456"]}, deck=deck).wait(20)
    assert job.ok
    assert outcomes(job) == [("mfa", "rejected"), ("mfa", "accepted")]
    assert [r.attempts_remaining for r in job.interactions] == [3, 2]
    assert "That answer was not accepted" in job.interactions[1].message


def test_lockout_after_three_wrong_codes(deck):
    job = dn.connect("src_sim_power", "ada", "pw", respond={"code": ["000000"] * 3}, deck=deck).wait(20)
    assert job.status == "invalid" and not job.ok
    assert outcomes(job) == [("mfa", "rejected")] * 3
    with pytest.raises(JobFailed) as info:
        job.raise_for_status()
    assert info.value.errors[0].code == "auth_invalid" and "auth_invalid" in str(info.value)


def test_a_single_wrong_code_is_sent_once_and_asked_again_stops_before_a_lockout(deck):
    job = dn.connect("src_sim_power", "bob", "pw", respond={"code": "000000"}, deck=deck)
    with pytest.raises(
        NoAnswer, match=r"asks for code again after this responder's answer, and it has no other"
    ) as info:
        job.wait(20)
    assert "could lock the account" in str(info.value) and "000000" not in str(info.value)
    assert outcomes(job) == [("mfa", "rejected"), ("mfa", "pending")]  # one wrong try, not three
    assert job.status == "interaction_required"  # the account is not locked


def test_user_locked_fails_on_the_first_wrong_answer(deck):
    job = dn.connect("src_sim_bank", "user_locked", "pw", respond={"code": "123456", "answer": "nope"}, deck=deck)
    job.wait(20)
    assert job.status == "invalid" and outcomes(job) == [("mfa", "accepted"), ("security_question", "rejected")]


def test_bad_password_is_invalid_without_any_interaction(deck):
    job = dn.connect("src_sim_power", "ada", "pass_bad", respond={}, deck=deck).wait(20)
    assert job.status == "invalid" and job.interactions == [] and job.errors[0].code == "auth_invalid"


def test_account_selection_mid_run(deck):
    conn = dn.connect("src_sim_bank", "ada", "pw", respond={"code": "123456", "answer": "rex"}, deck=deck).wait(20)
    pick_second = {"account_id": lambda field: field.options[1].value}
    run = dn.run_task("task_sim_statements", conn, respond=pick_second, deck=deck).wait(20)
    assert run.status == "completed" and run.ok
    assert outcomes(run) == [("account_selection", "accepted")]
    assert run.output["account_id"] == run.interactions[0].raw["fields"][0]["options"][1]["value"]


def test_run_inherits_the_connections_responder(deck):
    answers = {"code": "123456", "answer": "rex", "account_id": lambda f: f.options[0].value}
    conn = dn.connect("src_sim_bank", "ada", "pw", respond=answers, deck=deck).wait(20)
    run = dn.run_task("task_sim_statements", conn, deck=deck).wait(20)
    assert run.ok


def test_step_up_mfa_during_a_run_and_lockout_keeps_the_connection(deck):
    conn = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(20)
    assert conn.ok and conn.interactions == []
    good = dn.run_task("task_sim_usage", conn, {"days": 3}, respond={"code": "123456"}, deck=deck).wait(20)
    assert good.ok and len(good.output["usage"]) == 3 and outcomes(good) == [("mfa", "accepted")]
    bad = dn.run_task("task_sim_usage", conn, respond={"code": ["000000"] * 3}, deck=deck).wait(20)
    assert bad.status == "failed" and bad.errors[0].code == "auth_invalid"
    assert conn.refresh().status == "connected"


def test_connection_timeout_ends_disconnected_with_interaction_timeout(deck):
    def slow(interaction):
        time.sleep(1.6)  # the mfa window is 120 s × 0.01 = 1.2 s
        return {"code": "123456"}

    job = dn.connect("src_sim_power", "ada", "pw", respond=slow, deck=deck).wait(20)
    assert job.status == "disconnected"
    assert job.errors[0].type == "interaction" and job.errors[0].code == "interaction_timeout"
    assert outcomes(job) == [("mfa", "timed_out")]
    assert "No response was submitted" in repr(job)


def test_run_timeout_ends_failed_with_interaction_timeout(deck):
    conn = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(20)

    def slow(interaction):
        time.sleep(1.6)
        return {"code": "123456"}

    run = dn.run_task("task_sim_bills", conn, respond=slow, deck=deck).wait(20)
    assert run.status == "failed" and run.resource.result == "failure"
    assert run.errors[0].code == "interaction_timeout"


def test_submitting_when_not_required_is_interaction_not_required(deck):
    job = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(20)
    with pytest.raises(InteractionNotRequired):
        job.submit(code="123456")


def test_invalid_field_names_stop_a_headless_responder_with_the_field_named(deck):
    job = dn.connect("src_sim_power", "ada", "pw", respond=lambda i: {"cde": "123456"}, deck=deck)
    with pytest.raises(InteractionInputInvalid) as info:
        job.wait(20)
    assert info.value.field == "cde" and job.status == "interaction_required"


def test_a_responder_can_correct_itself_after_a_refusal(deck):
    attempts = []

    def fixer(interaction):
        attempts.append(1)
        return {"cde": "1"} if len(attempts) == 1 else {"code": "123456"}

    assert dn.connect("src_sim_power", "ada", "pw", respond=fixer, deck=deck).wait(20).ok


@pytest.mark.parametrize("code", ["source_error", "timeout", "blocked", "auth_invalid"])
def test_failed_runs_carry_the_documented_error(deck, code):
    conn = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(20)
    run = dn.run_task("task_sim_bills", conn, {"fail_with": code}, deck=deck).wait(20)
    assert run.status == "failed" and run.errors[0].code == code
    with pytest.raises(JobFailed):
        run.raise_for_status()


def test_unknown_interaction_type_answered_from_fields(deck):
    answers = {"device_name": "x", "pin": 123456, "remember_device": True, "delivery": "sms", "passphrase": "p"}
    job = dn.connect("src_sim_novel", "ada", "pw", respond=answers, deck=deck).wait(20)
    assert job.ok and outcomes(job) == [("device_confirmation", "accepted")]


def test_no_responder_says_what_is_needed(deck, monkeypatch):
    monkeypatch.delenv("DECK_NB_RESPONDER", raising=False)
    job = dn.connect("src_sim_power", "ada", "pw", deck=deck)
    with pytest.raises(NoAnswer) as info:
        job.wait(20)
    assert "mfa" in str(info.value) and "code" in str(info.value) and "respond=" in str(info.value)


def test_missing_required_answer_is_named(deck):
    with pytest.raises(NoAnswer, match="`answer`"):
        dn.connect("src_sim_bank", "ada", "pw", respond={"code": "123456"}, deck=deck).wait(20)


def test_password_can_come_from_the_responder_not_the_cell(deck):
    job = dn.connect("src_sim_power", "ada", respond={"password": "pw", "code": "123456"}, deck=deck)
    assert job.id is None and job.status == "starting"
    assert job.wait(20).ok


def test_env_switch_answers_headless_runs(deck, monkeypatch):
    monkeypatch.setenv("DECK_NB_RESPONDER", "simulator")
    conn = dn.connect("src_sim_bank", "ada", "pw", deck=deck).wait(20)
    run = dn.run_task("task_sim_statements", conn, deck=deck).wait(20)
    assert conn.ok and run.ok


def test_simulator_responder_refuses_a_live_service():
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from deck_nb._serve import ServerThread

    app = Starlette(routes=[Route("/v2/test", lambda r: JSONResponse({"status": "ready", "environment": "live"}))])
    server = ServerThread(app, host="127.0.0.1", port=0).start()
    try:
        live = dn.Deck(api_key="sk_live_x", base_url=f"{server.root_url}/v2")
        with pytest.raises(dn.DeckError, match="only answers the Deck simulator"):
            SimulatorResponder().check(live)
    finally:
        server.stop()


def test_cancel_a_run_job_and_a_connection_job(deck):
    conn = dn.connect("src_sim_bank", "ada", "pw", respond={"code": "123456", "answer": "rex"}, deck=deck).wait(20)
    run = dn.run_task("task_sim_statements", conn, respond={}, deck=deck)
    assert run.cancel().status == "canceled" and run.done and not run.ok
    assert conn.cancel().status == "disconnected"


def test_wait_timeout_is_honoured_and_waiting_again_resumes(deck):
    job = dn.connect("src_sim_power", "ada", "pw", respond={"code": "123456"}, deck=deck)
    with pytest.raises(dn.DeckError, match="did not finish within 0 s") as info:
        job.wait(timeout=0)  # spent before the first poll: nothing more is read
    assert isinstance(info.value, TimeoutError) and job.status == "connecting"
    assert "timed out" in repr(job) and "resumes it" in repr(job)
    assert job.wait(timeout=20).status == "connected" and job.card.note == ""


@pytest.mark.deck_simulator(api="connections", clock="manual", rate_limit="off")  # connecting: until told
def test_a_wait_timeout_bounds_the_wait_on_a_manual_clock(deck):
    job = dn.connect("src_sim_power", "ada", "pw", respond={}, deck=deck)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        job.wait(timeout=0.2)
    assert 0.15 <= time.monotonic() - started < 2 and job.status == "connecting"


def test_sync_wait_with_a_widget_responder_inside_a_running_loop_points_to_await(deck):
    async def in_kernel_like_cell():
        job = dn.connect("src_sim_power", "ada", "pw", respond=WidgetResponder(), deck=deck)
        job.wait()

    with pytest.raises(NeedsAwait, match="await job"):
        asyncio.run(in_kernel_like_cell())


def test_await_finishes_a_job_and_manual_submit_closes_the_open_form(deck):
    async def cell():
        responder = WidgetResponder()
        job = dn.connect("src_sim_power", "ada", "pw", respond=responder, deck=deck)
        waiter = asyncio.ensure_future(job._finish_async())
        while responder.form is None:
            await asyncio.sleep(0.01)
        job.submit(code="123456")  # answered from another cell, not through the form
        finished = await asyncio.wait_for(waiter, 20)
        return finished, responder.form

    job, form = asyncio.run(cell())
    assert job.ok and form.closed and "elsewhere" in form.note.lower()


def test_job_repr_and_html_are_compact_and_hold_no_secret(deck):
    job = dn.connect("src_sim_power", "ada", "s3cr3t-pw", respond={"code": "123456"}, deck=deck).wait(20)
    text = repr(job) + job._repr_html_()
    assert job.id in text and "connected" in text and "mfa" in text
    assert "s3cr3t-pw" not in text and "123456" not in text


class TestResponders:
    def test_console_reads_secrets_with_getpass_and_options_by_number(self, deck):
        typed = iter(["laptop", "y", "2", ""])
        secrets = iter(["12a", "123456", "pass-phrase"])  # a typo in the PIN is caught and asked again
        out = []

        class Out:
            def write(self, s):
                out.append(s)

            def flush(self):
                pass

        responder = ConsoleResponder(input_fn=lambda p: next(typed), getpass_fn=lambda p: next(secrets), out=Out())
        # pin and passphrase are masked (getpass); delivery is picked by number; birth_date is optional
        job = dn.connect("src_sim_novel", "ada", "pw", respond=responder, deck=deck).wait(20)
        assert job.ok
        said = "".join(out)
        assert "Confirm this device" in said and "must be a number" in said and "2. Email" in said
        assert "pass-phrase" not in said and "123456" not in said

    def test_totp_fills_code_fields_and_delegates_the_rest(self):
        import pyotp

        from deck_nb.client import Interaction
        from deck_nb.notebook import DictResponder, Prompt

        secret = pyotp.random_base32()
        interaction = Interaction(
            type="mfa",
            fields=[
                {"name": "code", "type": "string", "label": "Code"},
                {"name": "answer", "type": "string", "label": "Pet"},
            ],
        )
        responder = TOTPResponder(secret, fallback=DictResponder({"answer": "rex"}))
        inputs = responder.answer(Prompt("connection", "conn_x", interaction))
        assert inputs["answer"] == "rex" and pyotp.TOTP(secret).verify(inputs["code"])
        with pytest.raises(NoAnswer):
            TOTPResponder(secret).answer(Prompt("connection", "conn_x", interaction))
        with pytest.raises(ValueError):
            TOTPResponder("not base32 !!")

    def test_resolving_responders(self, monkeypatch):
        from deck_nb.notebook import CallableResponder, DictResponder

        assert isinstance(resolve_responder({"code": "1"}), DictResponder)
        assert isinstance(resolve_responder(lambda i: {}), CallableResponder)
        assert isinstance(resolve_responder("simulator"), SimulatorResponder)
        monkeypatch.setenv("DECK_NB_RESPONDER", '{"code": "123456"}')
        assert isinstance(resolve_responder(None), DictResponder)
        with pytest.raises(ValueError):
            resolve_responder("telepathy")
        with pytest.raises(TypeError):
            resolve_responder(42)
        assert "123456" not in repr(resolve_responder({"code": "123456"}))


def test_a_status_nobody_drives_says_how_old_it_is_until_refreshed(deck):
    job = dn.connect("src_sim_power", "ada", "pw", respond={"code": "123456"}, deck=deck)
    assert job.status == "connecting" and "as of" not in repr(job) and job.seen_at is not None
    seen = job.seen_at
    time.sleep(2.2)  # the simulator moves on; nothing drives this job
    assert job.status == "connecting" and "(as of 2s ago)" in repr(job)
    job.refresh()
    assert job.status != "connecting" and "as of" not in repr(job) and job.seen_at > seen


def test_the_card_counts_down_the_answer_window(deck):
    job = dn.connect("src_sim_power", "ada", "pw", respond={"code": "123456"}, deck=deck)
    job.apply(deck.connections.wait(job.id, timeout=10))
    assert job.status == "interaction_required" and "s left to answer" in repr(job)


def test_a_new_client_never_runs_jobs_through_a_discarded_clients_connection(sim):
    """In a kernel's one long-lived event loop, jobs use an async twin of their client. A client made
    after another was dropped (CPython reuses its memory, so its id) must get its own twin: here every
    other client has a wrong key, so a job that succeeds with it ran on a stale twin."""
    import gc

    async def one(key: str) -> dn.Job:
        deck = dn.Deck(api_key=key, base_url=sim.base_url, api="connections", max_retries=0)
        job = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck)
        try:
            await job.wait_async(timeout=10)
        except dn.DeckError:
            pass
        ok = job.ok
        del deck, job
        gc.collect()
        return ok

    async def many() -> list[bool]:
        return [await one(sim.api_key if i % 2 == 0 else "sk_sim_wrong") for i in range(12)]

    assert asyncio.run(many()) == [i % 2 == 0 for i in range(12)]
