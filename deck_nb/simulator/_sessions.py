"""Sessions (Deck's current API): made by a run, reused by later ones, idle, ended, and limited."""

from __future__ import annotations

import math

from ._errors import ApiError
from ._models import AGENT_ID, RUN_FINISHED, SESSION_ACTIVE, SESSION_ENDED, Credential, Session, TaskRun, new_id
from ._state import WorldCore

IDLE_END_S = 600.0  # a session with no unfinished run ends after 10 idle minutes
COMPLETING_S = 1.0  # the browser shuts down


class Sessions(WorldCore):
    def _check_session_limit(self) -> None:
        """One more session would pass the limit: 429, with a Retry-After until one may end."""
        if self.session_limit is None:
            return
        live = [s for s in self.sessions.values() if s.status not in SESSION_ENDED]
        if len(live) < self.session_limit:
            return
        now = self.clock.now()
        ends = [s.timer.due - now for s in live if s.status == "idle" and s.timer is not None]
        wait = min(ends) if ends else self.clock.scaled(IDLE_END_S)
        raise ApiError(
            429,
            "rate_limit",
            "session_limit_exceeded",
            f"Agent sandbox limit exceeded: {self.session_limit} sessions are open; end one or reuse one.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )

    def _open_session(self, credential: Credential) -> Session:
        now = self.clock.now()
        session = Session(
            id=new_id("sess"),
            seq=self.next_seq(),
            created=now,
            updated=now,
            status="queued",
            credential_id=credential.id,
            source_id=credential.source_id,
            username=credential.username or "",
            password=credential.password or "",
        )
        self.sessions[session.id] = session
        self._emit("session.queued", session.public())
        return session

    def _session_attach(self, session: Session, run: TaskRun) -> None:
        """A run joins the session; an idle session is busy again and its idle countdown stops."""
        session.run_ids.append(run.id)
        session.task_runs.append(
            {"id": run.id, "task_id": run.task_id, "agent_id": AGENT_ID, "credential_id": run.credential_id}
        )
        if session.status == "idle":
            self._stop_timers(session)
            self._set_status(session, "running")

    def _session_run_started(self, run: TaskRun) -> None:
        session = self.sessions[run.session_id or ""]
        if session.status == "queued":
            self._set_status(session, "running")

    def _unfinished(self, session: Session) -> list[TaskRun]:
        return [self.runs[r] for r in session.run_ids if self.runs[r].status not in RUN_FINISHED]

    def _session_run_finished(self, session: Session) -> None:
        if session.status in ("queued", "running") and not self._unfinished(session):
            self._set_status(session, "idle")
            self._after(session, IDLE_END_S, lambda: self._session_close(session))

    def _session_close(self, session: Session) -> None:
        """``completing`` now, ``completed`` when the browser has shut down."""
        session.timer = None
        self._set_status(session, "completing")
        self._after(session, COMPLETING_S, lambda: self._session_ended(session, "completed"))

    def _session_ended(self, session: Session, status: str) -> None:
        session.timer = None
        session.ended = self.clock.now()
        self._set_status(session, status)

    def _session_fail(self, session: Session) -> None:
        """The session is lost: its other unfinished runs are canceled and it ends ``failed``."""
        if session.status in SESSION_ENDED:
            return
        self._stop_timers(session)
        for run in self._unfinished(session):
            if run.status != "cancelling":
                self._cancel(run)  # type: ignore[attr-defined]
        self._session_ended(session, "failed")

    def end_session(self, id_: str) -> Session:
        """``POST /v2/sessions/{id}/end``: cancel its unfinished runs, then close it (idempotent)."""
        session = self.get_session(id_)
        if session.status not in SESSION_ACTIVE:
            return session
        self._stop_timers(session)
        for run in self._unfinished(session):
            if run.status != "cancelling":
                self._cancel(run)  # type: ignore[attr-defined]
        self._session_close(session)
        return session
