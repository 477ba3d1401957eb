"""The job machine on its own: no kernel, no widget, no network. Each test plays the client — it
reads the command the machine asks for and sends back what Deck would answer (a model, or an
error) — and checks the state the machine holds and the card a person would read from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deck_nb.client import (
    Credential,
    DeckError,
    InteractionInputInvalid,
    InteractionTimeout,
    Task,
    TaskRun,
)
from deck_nb.notebook import AnswerLoop, DictResponder, NoAnswer, Responder
from deck_nb.notebook._sessions import SESSIONS
from deck_nb.notebook.jobs import ConnectJob, RunJob
from deck_nb.notebook.machine import DONE, REVIEW, Ask, Call, Create, Follow, Phase, Settle, Submit

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MFA = {"type": "mfa", "message": "Enter the code", "fields": [{"name": "code", "label": "Verification code"}]}


class Person(Responder):
    """Stands for a form: the machine treats it as a person (asks again after a refusal)."""

    needs_await = True


def run(status: str, n: int = 0, **extra) -> TaskRun:
    return TaskRun.model_validate(
        {"id": "trun_1", "status": status, "updated_at": (T0 + timedelta(seconds=n)).isoformat(), **extra}
    )


def cred(status: str, n: int = 0, **extra) -> Credential:
    return Credential.model_validate(
        {"id": "cred_1", "status": status, "updated_at": (T0 + timedelta(seconds=n)).isoformat(), **extra}
    )


def invalid_code() -> InteractionInputInvalid:
    return InteractionInputInvalid(
        "That code is not right", status_code=400, code="interaction_input_invalid", field="code"
    )


def seed_run(responder=None) -> RunJob:
    return RunJob(None, responder or DictResponder({"code": "123456"}), task_id="task_bills", connection_id="conn_1")


def step(job, value=None, error=None):
    """Send the last command's result (or error); the next command."""
    return job.machine.next_command(value, error)


def answer(job, inputs, then):
    """Answer the open prompt with ``inputs``; Deck accepts them and answers ``then``."""
    assert isinstance(step(job, inputs), Submit)
    assert isinstance(step(job, then), Settle)


# what the plan reads for a run's card once it ends, and what Deck answers here by default: a task
# without storage (so no files are read), a run without screenshots
DATA_READS = {"read the task's storage": Task(id="task_bills", storage=None), "read the last screenshot": (None, None)}


def settle(job, end, error=None):
    """Send the run's end (or the last read's ``error``); answer the reads of its data for the card;
    the command after them."""
    cmd = step(job, end, error)
    while isinstance(cmd, Call) and cmd.what in DATA_READS:
        cmd = step(job, DATA_READS[cmd.what])
    return cmd


def to_created(job, api="connections", first=None):
    cmd = job.machine.first_command()
    assert isinstance(cmd, Call) and cmd.what == "detect the API"
    cmd = step(job, api)
    assert isinstance(cmd, Create)
    return step(job, first or run("queued"))


# -- the life of a run ---------------------------------------------------------------------------


def test_created_working_waiting_for_a_person_answered_settled_done():
    job = seed_run()
    m = job.machine
    assert m.phase == Phase.CREATED and job.status == "starting" and m.outcome is None
    assert isinstance(to_created(job), Settle) and m.phase == Phase.WORKING
    ask = step(job, run("interaction_required", 1, interaction=MFA))
    assert isinstance(ask, Ask) and m.phase == Phase.WAITING_PERSON and m.waiting_for_person
    assert ask.prompt.interaction.field_names == ["code"]
    submit = step(job, {"code": "123456"})
    assert isinstance(submit, Submit) and submit.inputs == {"code": "123456"}
    assert isinstance(step(job, run("running", 2)), Settle)
    assert m.answers == 1 and m.phase == Phase.WORKING
    assert settle(job, run("completed", 3, output={"bills": 2})) is DONE
    assert [r.outcome for r in m.interactions] == ["accepted"]
    assert m.phase == Phase.SETTLED and m.outcome == "done" and job.ok and job.output == {"bills": 2}
    assert "completed" in job.card.text() and "asked: mfa" in job.card.text()
    assert "123456" not in job.card.text() + job.card.html() + repr(m.interactions)


def test_an_older_state_never_moves_the_machine_back():
    job = seed_run()
    to_created(job)
    step(job, run("running", 5))
    assert job.machine.observe(run("queued", 1)) is False
    assert job.status == "running"


def test_failed_and_canceled_are_told_apart():
    failed, canceled = seed_run(), seed_run()
    for job, end in ((failed, "failed"), (canceled, "canceled")):
        to_created(job)
        errors = [{"code": "source_error", "message": "The source is down."}] if end == "failed" else []
        assert settle(job, run(end, 1, errors=errors)) is DONE
    assert failed.machine.outcome == "failed" and "The source is down." in failed.card.text()
    assert canceled.machine.outcome == "canceled" and not canceled.ok
    with pytest.raises(DeckError, match=r"ended `failed`: .*The source is down"):
        failed.raise_for_status()


def test_review_required_waits_for_approval_then_a_cancel_settles_it_canceled():
    job = seed_run()
    to_created(job)
    again = step(job, run(REVIEW, 1))
    assert isinstance(again, Settle) and again.past_review  # polls until it leaves review, never approves
    assert job.machine.phase == Phase.WAITING_APPROVAL and not job.machine.waiting_for_person
    assert "waiting for approval in Deck's console — job.cancel() cancels it" in job.card.text()
    job.machine.observe(run("cancelling", 2))  # what job.cancel() reads back
    assert "cancelling — it ends canceled in a moment" in job.card.text()
    assert "waiting for approval" not in job.card.text()
    assert step(job, run("canceled", 3)) is DONE
    assert job.machine.outcome == "canceled" and "cancelling" not in job.card.note


def test_a_completed_run_reads_its_files_once_its_task_keeps_storage_and_its_card_lists_them():
    from deck_nb.client import StorageItem

    class Client:  # the job's client: only named (the shells would do the reading with it)
        base_url = "http://deck.test/v2"

    deck = Client()
    bill = {"id": "stor_1", "file_name": "bill.pdf", "file_type": "application/pdf", "file_size": 845}
    item = StorageItem.model_validate({**bill, "extraction": {"total_due": 84.2, "currency": "USD"}})
    job = RunJob(deck, DictResponder({}), task_id="task_bills", connection_id="conn_1")
    to_created(job)
    read = step(job, run("completed", 1, task_id="task_bills"))
    assert isinstance(read, Call) and read.what == "read the task's storage"
    files = step(job, Task(id="task_bills", storage={"enabled": True, "extraction": True}))
    assert isinstance(files, Call) and files.what == "read the run's files"
    assert "stored" not in job.card.full_text()  # nothing is said before the files are read
    assert step(job, ([item], False)) is DONE
    assert job.files == [item] and job.card.full_text().splitlines()[1:] == [
        "1 file stored:",
        "  bill.pdf · PDF · 845 bytes · total_due 84.20 USD",
    ]
    assert "<li>bill.pdf · PDF · 845 bytes · total_due 84.20 USD</li>" in job.card.html()
    again = RunJob(deck, DictResponder({}), task_id="task_bills", connection_id="conn_1")
    to_created(again)
    files = step(again, run("completed", 2, task_id="task_bills"))  # the task was read already
    assert isinstance(files, Call) and files.what == "read the run's files"
    assert step(again, error=DeckError("refused")) is DONE  # a refused read: the run still completed
    assert again.machine.outcome == "done" and again.files is None
    assert "its files could not be read (DeckError)" in again.card.full_text()
    plain = RunJob(deck, DictResponder({}), task_id="task_pay", connection_id="conn_1")
    to_created(plain)
    step(plain, run("completed", 3, task_id="task_pay"))
    assert step(plain, Task(id="task_pay", storage=None)) is DONE  # no storage: no files read
    assert plain.card.full_text() == plain.card.text()
    unread = RunJob(deck, DictResponder({}), task_id="task_gone", connection_id="conn_1")
    to_created(unread)
    step(unread, run("completed", 4, task_id="task_gone"))
    assert step(unread, error=DeckError("no such task")) is DONE  # not known to keep files: none read
    assert unread.machine.outcome == "done" and unread.card.full_text() == unread.card.text()


def test_a_failed_runs_card_shows_its_last_screenshot_and_reasoning():
    from deck_nb.client import Screenshot

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    shot = Screenshot.model_validate({"id": "scr_1", "reasoning": "Stopped: the portal is down (source_error)"})
    job = seed_run()
    to_created(job)
    errors = [{"code": "source_error", "message": "The portal is down."}]
    read = step(job, run("failed", 1, errors=errors))
    assert isinstance(read, Call) and read.what == "read the last screenshot"
    assert step(job, (shot, png)) is DONE
    assert job.card.full_text().splitlines()[-1] == "last screenshot: Stopped: the portal is down (source_error)"
    assert "src='data:image/png;base64," in job.card.html()
    locked = seed_run()  # a reasoning that restates the source's sentence the card put in truer words
    to_created(locked)
    refused = [{"code": "auth_invalid", "message": "The credentials were rejected by the source."}]
    step(locked, run("failed", 1, errors=refused))
    restated = Screenshot.model_validate({"reasoning": "Stopped: The credentials were rejected by the source."})
    step(locked, (restated, None))
    said = locked.card.full_text()
    assert said.count("The credentials were rejected") <= 1
    assert said.endswith("where the agent stopped (why: see above)")


# -- answers -------------------------------------------------------------------------------------


def test_a_person_is_asked_again_after_each_refused_code_with_the_complaint_shown():
    job = seed_run(Person())
    to_created(job)
    step(job, run("interaction_required", 1, interaction=MFA))
    for _ in range(5):  # a person may retry as often as the source lets them
        assert isinstance(step(job, {"code": "000000"}), Submit)
        ask = step(job, error=invalid_code())
        assert isinstance(ask, Ask) and ask.prompt.error is not None and ask.prompt.error.field == "code"


def test_a_program_that_keeps_sending_refused_codes_is_stopped():
    job = seed_run(DictResponder({"code": "000000"}))
    to_created(job)
    step(job, run("interaction_required", 1, interaction=MFA))
    step(job, {"code": "000000"})
    step(job, error=invalid_code())
    step(job, {"code": "000000"})
    step(job, error=invalid_code())
    step(job, {"code": "000000"})
    with pytest.raises(InteractionInputInvalid):
        step(job, error=invalid_code())
    assert job.machine.pending is None  # a new wait starts the plan afresh


def test_a_lockout_after_wrong_codes_settles_failed_with_each_code_judged():
    job = seed_run(Person())
    to_created(job)
    mfa = dict(MFA, attempts_remaining=2)
    step(job, run("interaction_required", 1, interaction=mfa))
    for n, code in enumerate(("000000", "111111"), start=2):  # taken, then asked again: one try fewer
        again = run("interaction_required", n, interaction=dict(mfa, attempts_remaining=2 - n + 1))
        answer(job, {"code": code}, again)
        assert isinstance(step(job, again), Ask)
    locked = [{"code": "account_locked", "message": "Too many wrong codes: the account is locked."}]
    answer(job, {"code": "222222"}, run("failed", 4, errors=locked))
    assert settle(job, run("failed", 4, errors=locked)) is DONE
    assert job.machine.outcome == "failed" and len(job.interactions) == 3
    assert job.card.text().count("Too many wrong codes") == 1


def test_the_same_prompt_accepted_again_and_again_stops_a_program():
    job = seed_run()
    to_created(job)
    step(job, run("interaction_required", 1, interaction=MFA))
    for n in range(2, 5):
        answer(job, {"code": "123456"}, run("interaction_required", n, interaction=MFA))
        ask = step(job, run("interaction_required", n, interaction=MFA))
    with pytest.raises(AnswerLoop, match="asked the same `mfa` prompt again after 3 accepted answers"):
        step(job, {"code": "123456"})
    assert isinstance(ask, Ask)


def test_an_interaction_that_names_no_field_cannot_be_answered():
    job = seed_run()
    to_created(job)
    with pytest.raises(NoAnswer, match="names no field to answer"):
        step(job, run("interaction_required", 1, interaction={"type": "approve_on_phone", "fields": []}))


def test_an_answer_after_the_window_closed_goes_back_to_reading_the_run():
    job = seed_run(Person())
    to_created(job)
    step(job, run("interaction_required", 1, interaction=MFA))
    step(job, {"code": "123456"})
    late = InteractionTimeout("the window closed", status_code=409, code="interaction_timeout")
    assert isinstance(step(job, error=late), Settle)
    timed_out = [{"code": "interaction_timeout", "message": "No response was submitted in time."}]
    assert settle(job, run("failed", 2, errors=timed_out)) is DONE
    assert job.machine.outcome == "failed" and [r.outcome for r in job.interactions] == ["timed_out"]


# -- stopping and resuming -----------------------------------------------------------------------


def test_a_stop_is_interrupted_and_a_resume_never_sends_an_answer_twice():
    job = seed_run()
    m = job.machine
    to_created(job)
    step(job, run("interaction_required", 1, interaction=MFA))
    assert isinstance(step(job, {"code": "123456"}), Submit)  # sent; then the shell is stopped
    m.stopped("interrupted", "await job")
    assert m.outcome == "interrupted" and m.note == "stopped (interrupted) — `await job` resumes it"
    m.driving()
    assert m.outcome is None and m.phase == Phase.WORKING and "stopped" not in m.note
    assert isinstance(m.first_command(), Settle)  # the plan looks again instead of resubmitting
    assert m.answers == 0


def test_a_stop_after_the_end_changes_nothing():
    job = seed_run()
    to_created(job)
    settle(job, run("completed", 1))
    job.machine.stopped("timed out", "await job")
    assert job.machine.outcome == "done" and "stopped" not in job.card.text()


# -- logins --------------------------------------------------------------------------------------


def test_a_login_waiting_for_the_password_says_so_not_starting():
    job = ConnectJob(None, Person(), source_id="src_power", username="ada")
    ask = job.machine.first_command()
    assert isinstance(ask, Ask) and ask.prompt.interaction.field_names == ["password"]
    assert job.machine.phase == Phase.SIGNING_IN and job.machine.waiting_for_person
    text, page = job.card.text(), job.card.html()
    assert "starting" not in text and "starting" not in page
    assert "waiting for password" in text and "waiting for the password in the form below" in page
    assert isinstance(step(job, {"password": "pw"}), Call)  # then: detect the API, create
    assert "waiting for" not in job.card.text()


def test_login_on_the_run_current_api_verifies_the_credential_on_the_card():
    SESSIONS.forget(None, "cred_1")
    job = RunJob(None, DictResponder({"code": "123456"}), task_id="task_bills", connection_id="cred_1")
    job.machine.first_command()
    create = step(job, "credentials")
    assert isinstance(create, Call) and create.what == "create run"
    step(job, run("queued", 0, credential_id="cred_1", session_id="sess_1"))
    assert SESSIONS.latest(None, "cred_1") == "sess_1"  # the next run reuses it: no second MFA
    step(job, run("interaction_required", 1, interaction=MFA, credential_id="cred_1"))
    answer(job, {"code": "123456"}, run("running", 2, credential_id="cred_1", session_id="sess_1"))
    read = step(job, run("completed", 3, credential_id="cred_1", session_id="sess_1"))
    assert isinstance(read, Call) and read.what == "read credential"
    session = step(job, cred("verified", 3))  # the run's session, read once for history().sessions
    assert isinstance(session, Call) and session.what == "read session"
    assert settle(job, None) is DONE
    assert job.machine.outcome == "done"
    assert "credential cred_1 verified" in job.card.text()
    SESSIONS.forget(None, "cred_1")


def test_a_first_run_that_timed_out_at_its_login_does_not_call_the_credential_stored_and_waiting():
    SESSIONS.forget(None, "cred_1")
    login = ConnectJob(None, Person(), source_id="src_power", username="ada", resource=cred("unverified"))
    login.machine.observe(cred("unverified"))
    assert "stored — it is verified by its first run" in login.card.note
    job = RunJob(None, Person(), task_id="task_bills", connection_id="cred_1", login=login)
    job.machine.first_command()
    step(job, "credentials")
    asking = run("interaction_required", 1, interaction=MFA, credential_id="cred_1", session_id="sess_1")
    assert isinstance(step(job, asking), Settle)
    assert isinstance(step(job, asking), Ask)
    assert isinstance(step(job, None), Settle)  # the prompt closed while nobody answered
    timed_out = [{"code": "interaction_timeout", "message": "No response was submitted in time."}]
    read = step(job, run("failed", 2, errors=timed_out, credential_id="cred_1", session_id="sess_1"))
    assert isinstance(read, Call)
    session = step(job, cred("unverified", 0))
    assert isinstance(session, Call) and session.what == "read session"
    assert settle(job, None, error=DeckError("gone")) is DONE  # a refused read leaves the run's state
    for card in (job.card, login.card):
        words = card.text() + card.html()
        assert "verified by its first run" not in words
        assert "timed out waiting for an answer at its login" in words and "not verified" in words


def test_a_run_given_a_login_nobody_awaited_waits_for_it_first():
    login = ConnectJob(None, Person(), source_id="src_power", username="ada")
    job = RunJob(None, Person(), task_id="task_bills", connection_id=None, login=login)
    follow = job.machine.first_command()
    assert isinstance(follow, Follow) and follow.job is login
    assert f"waiting for {login.card.title} to finish" in job.card.text()
    login.api = "credentials"
    login.machine.observe(cred("unverified"))  # what following it did
    assert isinstance(step(job, login), Call)  # then: detect the API
    assert job._connection_id == "cred_1" and "waiting for" not in job.card.text()


def test_a_run_whose_login_failed_is_not_run():
    login = ConnectJob(None, Person(), source_id="src_power", username="ada")
    job = RunJob(None, Person(), task_id="task_bills", connection_id=None, login=login)
    job.machine.first_command()
    login.api = "credentials"
    login.machine.observe(cred("invalid"))
    with pytest.raises(DeckError, match=r"not run: its login \(connect src_power cred_1\) ended `invalid`"):
        step(job, login)


# -- more of each kind ---------------------------------------------------------------------------


def conn_model(status: str, n: int = 0, **extra):
    from deck_nb.client import Connection

    return Connection.model_validate(
        {"id": "conn_1", "status": status, "updated_at": (T0 + timedelta(seconds=n)).isoformat(), **extra}
    )


def test_a_seed_login_is_created_with_its_password_then_settles_connected():
    job = ConnectJob(None, DictResponder({"code": "123456"}), source_id="src_power", username="ada", password="pw")
    assert isinstance(job.machine.first_command(), Call)
    create = step(job, "connections")
    assert isinstance(create, Create) and "pw" not in repr(create)  # the password never shows
    assert isinstance(step(job, conn_model("connecting")), Settle)
    assert isinstance(step(job, conn_model("interaction_required", 1, interaction=MFA)), Ask)
    answer(job, {"code": "123456"}, conn_model("connecting", 2))
    assert step(job, conn_model("connected", 3)) is DONE
    assert job.ok and job.machine.outcome == "done" and job.connection.id == "conn_1"


def test_a_stored_credential_is_done_at_once_and_says_its_first_run_verifies_it():
    job = ConnectJob(None, Person(), source_id="src_power", username="ada", password="pw")
    job.machine.first_command()
    step(job, "credentials")
    assert step(job, cred("unverified")) is DONE  # nothing to wait for: its first run logs in
    assert job.ok and "stored — it is verified by its first run" in job.card.text()


def test_a_session_that_had_ended_is_replaced_with_a_word_on_the_card():
    from deck_nb.client import BadRequestError

    SESSIONS.remember(None, "cred_1", "sess_old")
    job = RunJob(None, Person(), task_id="task_bills", connection_id="cred_1")
    job.machine.first_command()
    in_old = step(job, "credentials")
    assert isinstance(in_old, Call) and in_old.catch == (BadRequestError,)
    ended = BadRequestError("session ended", status_code=400, code="session_not_active")
    fresh = step(job, error=ended)
    assert isinstance(fresh, Call) and fresh.what == "create run"
    step(job, run("queued", 1, credential_id="cred_1", session_id="sess_new"))
    assert "session sess_old had ended; a new session logs in" in job.card.text()
    assert SESSIONS.latest(None, "cred_1") == "sess_new"
    SESSIONS.forget(None, "cred_1")


def test_result_is_the_resource_once_settled_and_says_what_it_waits_for_before():
    from deck_nb.notebook import JobPending

    job = seed_run(Person())
    to_created(job)
    step(job, run("interaction_required", 1, interaction=MFA))
    with pytest.raises(JobPending, match="waits for a person's answer in its form"):
        _ = job.result
    answer(job, {"code": "1"}, run("running", 2))
    settle(job, run("completed", 3))
    assert job.result is job.run and job.result.status == "completed"


def test_the_listener_sees_every_change_and_the_views_only_read():
    job = seed_run()
    moves = []
    job.on_change = lambda j, old, new: moves.append((old, new))
    to_created(job)
    step(job, run("running", 1))
    settle(job, run("completed", 2))
    assert moves == [("starting", "queued"), ("queued", "running"), ("running", "completed")]
    before = (job.machine.phase, job.machine.note, job.status)
    job.card.text(), job.card.html(), repr(job), job._repr_html_()  # reading the views
    assert (job.machine.phase, job.machine.note, job.status) == before
