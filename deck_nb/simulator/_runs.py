"""Task runs of both APIs: one state machine; a run made through Deck's current API also logs in
(in a new session), may wait for review, and cancels through ``cancelling``."""

from __future__ import annotations

from typing import Any

from . import _catalog as catalog
from . import _outputs as outputs
from ._connections import CONNECTING_S, auth_failure
from ._dialogue import LOCKED, RETRY, Dialogue
from ._errors import ApiError
from ._models import CURRENT, Prompt, TaskRun

QUEUED_S = 1.0
PROMPT_AFTER_S = 1.0
WORK_S = 3.0
RUN_CHECK_S = 1.0  # the agent types an answer into the portal and reads the verdict
CANCELLING_S = 1.0

RUN_CANCELABLE = {"queued", "running", "interaction_required"}
CURRENT_CANCELABLE = RUN_CANCELABLE | {"review_required"}


class Runs(Dialogue):
    def _launch(self, run: TaskRun) -> TaskRun:
        self.runs[run.id] = run
        self._emit("task_run.queued", run.public())
        self._after(run, QUEUED_S, lambda: self._run_start(run))
        return run

    def _run_start(self, run: TaskRun) -> None:
        run.started = self.clock.now()
        if run.session_id:
            self._session_run_started(run)  # type: ignore[attr-defined]
        session = self.sessions.get(run.session_id or "")
        if session is not None and not session.logged_in and session.login_by is None:
            # A new session logs in first (and so does one whose login never finished).
            session.login_by = run.id
            run.logs_in = True
            run.login = list(catalog.SOURCES[run.source_id].login)
            run.timer = None
            self._set_status(run, "running")
            self._after(run, CONNECTING_S, lambda: self._run_login_step(run))
        else:
            self._run_resume(run)

    # -- the login, on the run (current API, new session) ------------------------------------

    def _run_login_step(self, run: TaskRun) -> None:
        run.timer = None
        session = self.sessions[run.session_id or ""]
        if session.password == catalog.BAD_PASSWORD or not session.password:
            self._run_login_refused(run)
        elif run.login:
            prompt = self._prompt(run.login[0], run.username, at_login=True)
            self._ask(run, prompt, lambda: self._run_timeout(run))
        else:
            session.logged_in = True
            session.login_by = None
            self._credential_logged_in(run.credential_id)  # type: ignore[attr-defined]
            self._run_resume(run, announce=False)

    def _run_login_refused(self, run: TaskRun) -> None:
        """The source refused the login: the credential turns `invalid`, the run and its session fail."""
        self._credential_refused(run.credential_id)  # type: ignore[attr-defined]
        self._run_fail(run, "auth_invalid", session_fails=True)

    # -- the run's own work ------------------------------------------------------------------

    def _run_resume(self, run: TaskRun, announce: bool = True) -> None:
        """Work (again): schedule the run's next milestone; ``announce`` enters `running` with its event."""
        run.timer = None
        run.work_since = self.clock.now()
        if announce:
            self._set_status(run, "running")
        source = catalog.SOURCES[run.source_id]
        if run.fail_with:
            self._after(run, PROMPT_AFTER_S, lambda: self._run_fail(run, run.fail_with or "api_error"))
        elif source.runs_prompt and not run.prompted:
            self._after(run, PROMPT_AFTER_S - run.work_done, lambda: self._run_prompt(run))
        else:
            self._after(run, WORK_S - run.work_done, lambda: self._run_done(run))

    def _pause_work(self, run: TaskRun) -> None:
        if run.work_since is not None:
            run.work_done += (self.clock.now() - run.work_since) / self.clock.time_scale
            run.work_since = None

    def _run_prompt(self, run: TaskRun) -> None:
        run.timer = None
        self._pause_work(run)
        run.prompted = True
        source = catalog.SOURCES[run.source_id]
        if source.runs_prompt == "account_selection":
            challenge = catalog.account_selection(outputs.accounts_for(run.username))
        else:
            challenge = catalog.MFA
        self._ask(run, self._prompt(challenge, run.username), lambda: self._run_timeout(run))

    def _run_done(self, run: TaskRun) -> None:
        """The work is done: complete, or (current API, a task that asks for it) wait for review."""
        if run.api == CURRENT and catalog.TASKS[run.task_id].review and not run.reviewed:
            self._pause_work(run)
            run.timer = None
            self._set_status(run, "review_required")
        else:
            self._run_complete(run)

    def _finish(self, run: TaskRun, status: str, result: str | None, session_fails: bool = False) -> None:
        self._pause_work(run)
        self._stop_timers(run)
        run.interaction = None
        run.prompt = None
        run.finished = self.clock.now()
        run.result = result
        self._set_status(run, status)
        if run.session_id:
            session = self.sessions[run.session_id]
            if session.login_by == run.id:
                session.login_by = None
            if session_fails:
                self._session_fail(session)  # type: ignore[attr-defined]
            else:
                self._session_run_finished(session)  # type: ignore[attr-defined]

    def _run_fail(self, run: TaskRun, code: str, session_fails: bool = False) -> None:
        run.errors = [auth_failure(code)]
        self._finish(run, "failed", "failure", session_fails)

    def _run_timeout(self, run: TaskRun) -> None:
        """No answer in the window: the run fails, and in Deck's current API its session ends `failed`."""
        run.timed_out = True
        self._run_fail(run, "interaction_timeout", session_fails=run.api == CURRENT)

    def _run_complete(self, run: TaskRun) -> None:
        run.output = outputs.task_output(run.task_id, run.source_id, run.username, run.input, run.account_id)
        self._store_files(run)  # type: ignore[attr-defined]  # files first: `completed` finds them stored
        self._finish(run, "completed", "success")

    # -- answers -----------------------------------------------------------------------------

    def submit_run(self, id_: str, inputs: Any) -> TaskRun:
        run = self.get_run(id_)
        prompt = self._take_answer(run, inputs, "running", "input" if run.api == CURRENT else "inputs")
        wait = CONNECTING_S if prompt.at_login else RUN_CHECK_S
        self._after(run, wait, lambda: self._run_verdict(run, prompt, inputs))
        return run

    def _run_verdict(self, run: TaskRun, prompt: Prompt, inputs: dict[str, Any]) -> None:
        run.timer = None
        verdict = self._judge(prompt, inputs, run.username)
        if verdict == RETRY:
            self._ask(run, prompt, lambda: self._run_timeout(run))
        elif verdict == LOCKED and prompt.at_login:
            self._run_login_refused(run)
        elif verdict == LOCKED:
            if run.api == CURRENT:
                self._credential_refused(run.credential_id)  # type: ignore[attr-defined]
            self._run_fail(run, "auth_invalid")
        elif prompt.at_login:
            run.prompt = None
            run.login.pop(0)
            self._run_login_step(run)
        else:
            run.prompt = None
            if prompt.challenge.type == "account_selection":
                run.account_id = inputs["account_id"]
            # Back to work: the answer already reported `running`, so resume without a new event.
            run.work_since = self.clock.now()
            self._after(run, WORK_S - run.work_done, lambda: self._run_done(run))

    # -- review and cancel -------------------------------------------------------------------

    def review_run(self, id_: str, decision: Any) -> TaskRun:
        """The simulator's stand-in for a person approving or rejecting in Deck's console."""
        run = self.get_run(id_)
        if decision not in ("approve", "reject"):
            raise ApiError(400, "request", "input_invalid", "`decision` must be `approve` or `reject`.", "decision")
        if run.status != "review_required":
            raise ApiError(
                400, "request", "review_not_required", f"This task run is not waiting for review (`{run.status}`)."
            )
        run.reviewed = True
        if decision == "approve":
            self._run_complete(run)
        else:
            run.errors = [dict(catalog.REVIEW_REJECTED)]
            self._finish(run, "failed", "failure")
        return run

    def cancel_run(self, id_: str) -> TaskRun:
        run = self.get_run(id_)
        self._cancel(run)
        return run

    def _cancel(self, run: TaskRun) -> None:
        allowed = CURRENT_CANCELABLE if run.api == CURRENT else RUN_CANCELABLE
        if run.status not in allowed:
            raise ApiError(400, "request", "task_run_not_cancelable", f"A `{run.status}` task run cannot be canceled.")
        if run.api != CURRENT:
            run.canceled = self.clock.now()
            self._finish(run, "canceled", None)
            return
        self._pause_work(run)
        self._stop_timers(run)
        run.interaction = None
        run.prompt = None
        self._set_status(run, "cancelling")
        self._after(run, CANCELLING_S, lambda: self._run_canceled(run))

    def _run_canceled(self, run: TaskRun) -> None:
        run.canceled = self.clock.now()
        self._finish(run, "canceled", "unknown")
