"""``POST /v2/tasks/{id}/run`` for both APIs: which API a body speaks, and its checks in order.

Seed: task, ``connection_id`` given, connection exists, connected, input. Current: task, one way to
log in, credential, session, input, then the session limit.
"""

from __future__ import annotations

from typing import Any

from . import _catalog as catalog
from ._credentials import deleted_error
from ._errors import ApiError, invalid, missing, not_found
from ._models import CURRENT, SEED, SESSION_ACTIVE, Credential, Session, TaskRun, new_id
from ._state import WorldCore

CURRENT_WAYS = ("credential_id", "session_id", "source_id")


def task_input(task: catalog.TaskSpec, raw: Any) -> tuple[dict[str, Any], str | None]:
    """The run's input with defaults applied, and its ``fail_with`` code (if any)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise invalid("input", "`input` must be an object.")
    fail_with = raw.get("fail_with")
    if fail_with is not None and fail_with not in catalog.FAILURE_CODES:
        raise invalid("input.fail_with", f"`input.fail_with` must be a documented error code, not `{fail_with}`.")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name == "fail_with":
            continue
        if name in task.positive:
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise invalid(f"input.{name}", f"`input.{name}` must be a number greater than 0.")
        elif name in task.bounds:
            lo, hi, _ = task.bounds[name]
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise invalid(f"input.{name}", f"`input.{name}` must be an integer from {lo} to {hi}.")
        else:
            allowed = ", ".join([*task.bounds, *task.positive]) or "none"
            raise invalid(f"input.{name}", f"Unknown input `{name}` for `{task.id}`; accepted: {allowed}.")
        values[name] = value
    for name in task.positive:
        if name not in values:
            raise missing(f"input.{name}")
    for name, (_, _, default) in task.bounds.items():
        values.setdefault(name, default)
    if fail_with is not None:
        values["fail_with"] = fail_with
    return values, fail_with


def _given(body: dict[str, Any], name: str) -> bool:
    return body.get(name) not in (None, "")


class RunRequests(WorldCore):
    def create_run(self, task_id: str, body: dict[str, Any]) -> TaskRun:
        task = catalog.TASKS.get(task_id)
        if task is None:
            raise not_found("task", task_id)
        current_ways = [name for name in CURRENT_WAYS if _given(body, name)]
        if self.api == SEED:
            if _given(body, "credential_id") or _given(body, "session_id"):
                raise missing("connection_id")
            return self._seed_run(task, body)
        if _given(body, "connection_id"):
            if self.api == CURRENT:
                raise self._no_login_way()
            if current_ways:
                raise invalid(
                    "connection_id",
                    "A run names a connection (`connection_id`) or a credential, session or source, never both.",
                )
            return self._seed_run(task, body)
        return self._current_run(task, body)

    def _no_login_way(self) -> ApiError:
        message = "Name how the run logs in: `credential_id`, or `session_id` of a live session"
        if self.api == "both":
            message += " (or, in the connections API, `connection_id` of a connected connection)"
        return ApiError(400, "request", "input_missing", message + ".", "credential_id")

    # -- the seed's API ----------------------------------------------------------------------

    def _seed_run(self, task: catalog.TaskSpec, body: dict[str, Any]) -> TaskRun:
        connection_id = body.get("connection_id")
        if not connection_id:
            raise missing("connection_id")
        if not isinstance(connection_id, str):
            raise invalid("connection_id", "`connection_id` must be a string.")
        conn = self.get_connection(connection_id)
        if conn.status != "connected":
            raise ApiError(
                400,
                "connection",
                "connection_not_connected",
                f"Connection `{conn.id}` is `{conn.status}`; a run needs a `connected` connection.",
            )
        run_input, fail_with = task_input(task, body.get("input"))
        now = self.clock.now()
        run = TaskRun(
            id=new_id("trun"),
            seq=self.next_seq(),
            created=now,
            updated=now,
            status="queued",
            task_id=task.id,
            api=SEED,
            connection_id=conn.id,
            source_id=conn.source_id,
            username=conn.username,
            input=run_input,
            fail_with=fail_with,
        )
        return self._launch(run)  # type: ignore[attr-defined]

    # -- Deck's current API ------------------------------------------------------------------

    def _current_run(self, task: catalog.TaskSpec, body: dict[str, Any]) -> TaskRun:
        for name in CURRENT_WAYS:
            if _given(body, name) and not isinstance(body[name], str):
                raise invalid(name, f"`{name}` must be a string.")
        if not _given(body, "credential_id") and not _given(body, "session_id"):
            if _given(body, "source_id") and body["source_id"] not in catalog.SOURCES:
                raise ApiError(404, "source", "source_not_found", f"No source with id `{body['source_id']}`.")
            raise self._no_login_way()  # every simulated source needs a login
        credential = self._usable_credential(body.get("credential_id"))
        session = self._usable_session(body.get("session_id"), credential)
        if credential is None and session is not None:
            credential = self._usable_credential(session.credential_id)
        assert credential is not None
        if _given(body, "source_id") and body["source_id"] != credential.source_id:
            raise invalid("source_id", f"`source_id` must be the credential's source, `{credential.source_id}`.")
        run_input, fail_with = task_input(task, body.get("input"))
        if session is None:
            self._check_session_limit()  # type: ignore[attr-defined]
        now = self.clock.now()
        run = TaskRun(
            id=new_id("trun"),
            seq=self.next_seq(),
            created=now,
            updated=now,
            status="queued",
            task_id=task.id,
            api=CURRENT,
            credential_id=credential.id,
            source_id=credential.source_id,
            username=session.username if session else credential.username or "",
            input=run_input,
            fail_with=fail_with,
        )
        if session is None:
            session = self._open_session(credential)  # type: ignore[attr-defined]
        run.session_id = session.id
        self._session_attach(session, run)  # type: ignore[attr-defined]
        return self._launch(run)  # type: ignore[attr-defined]

    def _usable_credential(self, credential_id: str | None) -> Credential | None:
        if not credential_id:
            return None
        credential = self.get_credential(credential_id)
        if credential.status == "deleted":
            raise deleted_error(credential)
        return credential

    def _usable_session(self, session_id: str | None, credential: Credential | None) -> Session | None:
        if not session_id:
            return None
        session = self.get_session(session_id)
        if session.status not in SESSION_ACTIVE:
            raise ApiError(
                400,
                "session",
                "session_not_active",
                f"Session `{session.id}` is `{session.status}`; run without `session_id` to start a new one.",
            )
        if credential is not None and session.credential_id != credential.id:
            raise ApiError(
                400,
                "request",
                "session_mismatch",
                f"Session `{session.id}` belongs to another credential.",
                "session_id",
            )
        return session
