"""Connections and task runs: the resources that pause for interactions, take answers, and can be
waited on (written once for both; ``_resources.py`` holds the helpers they share)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from ._api import CREDENTIALS
from ._call import Call
from ._endpoints import ClientT, lists, returns
from ._models import Connection, TaskRun, is_settled
from ._resources import _id, _iso, _Resource, _validator
from ._storage import RunStorage, include_param

if TYPE_CHECKING:
    from ._pagination import SyncPager

ModelT = TypeVar("ModelT", Connection, TaskRun)

# Deck's own wire keys: a reader of its docs writes them as keywords, meaning the whole answer.
_ANSWER_KEYWORDS = ("input", "inputs")


def answer_of(answer: Mapping[str, Any] | None, fields: dict[str, Any]) -> dict[str, Any]:
    """The answer to send, from a positional mapping and/or keyword fields.

    A field may be named anything, so the rules are: the positional mapping is always taken
    literally; a keyword ``input=`` or ``inputs=`` whose value is a mapping is the whole answer (what
    a reader of Deck's docs writes, since those are the body's keys), while one whose value is not a
    mapping is a field of that name. To send a field named ``inputs`` that holds a mapping, put it in
    the positional mapping."""
    if answer is not None and not isinstance(answer, Mapping):
        raise TypeError(
            f"the answer must be a mapping of field name to value, not {type(answer).__name__}; "
            "for a field named 'inputs' write submit_interaction(id, {'inputs': ...})"
        )
    fields = dict(fields)
    for key in _ANSWER_KEYWORDS:
        if isinstance(fields.get(key), Mapping):
            if answer is not None:
                raise TypeError(f"the answer was given twice (positionally and as {key}=): give it once")
            answer = fields.pop(key)
    merged = {**(answer or {}), **fields}
    if not merged:
        raise ValueError("no answer given: pass the interaction's fields, e.g. submit_interaction(id, code='123456')")
    bad = [k for k in merged if not isinstance(k, str) or not k]
    if bad:
        raise ValueError(f"field names must be non-empty strings, not {bad[0]!r}")
    return merged


def _check_timeout(timeout: Any) -> None:
    """A bad ``timeout`` is refused before any request (not found out after the first poll)."""
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    if timeout != timeout or timeout < 0:
        raise ValueError(f"timeout must be a number of seconds ≥ 0 or None, not {timeout!r}")


class _Interactive(_Resource[ClientT], Generic[ClientT, ModelT]):
    """Connections and task runs alike: they pause for interactions, take answers, and can be waited on."""

    KIND: ClassVar[str] = ""
    PATH: ClassVar[str] = ""
    MODEL: ClassVar[type] = Connection

    def _path(self, resource_id: Any) -> str:
        return f"{self.PATH}/{_id(resource_id, f'{self.KIND}_id')}"

    def _body_key(self, api: str) -> str:
        return "inputs"

    @returns
    def submit_interaction(self, resource_id: Any, answer: Mapping[str, Any] | None = None, /, **fields: Any) -> ModelT:
        """Answer the current interaction: all its fields in one request, as a mapping or keywords.

        ``submit_interaction(id, {"code": "123456"})``, ``submit_interaction(id, code="123456")`` and
        ``submit_interaction(id, inputs={"code": "123456"})`` send the same answer (see ``answer_of``
        for how a field named ``input`` or ``inputs`` is told apart). The body key is the one of the
        API the client faces: ``inputs`` on connections, ``input`` on credentials."""
        path = f"{self._path(resource_id)}/interaction"
        merged = answer_of(answer, fields)
        submission = (self.KIND, getattr(resource_id, "id", resource_id), tuple(merged))
        cast = _validator(self.MODEL)

        def build(api: str) -> Call:
            body = {self._body_key(api): merged}
            return Call("POST", path, body=body, cast=cast, submission=submission)

        return self._client._request_for_api(build)

    @returns
    def wait(
        self,
        resource_id: Any,
        *,
        until: Callable[[Any], bool] = is_settled,
        timeout: float | None = None,
        poll_interval: float | None = None,
    ) -> ModelT:
        """Poll until ``until(obj)``: by default ``is_settled`` (waiting for input or a person, or ended)."""
        _check_timeout(timeout)
        call = Call("GET", self._path(resource_id), cast=_validator(self.MODEL))
        what = f"{self.KIND.replace('_', ' ')} {getattr(resource_id, 'id', resource_id)}"
        return self._client._wait(call, until, timeout, poll_interval, what)


class Connections(_Interactive[ClientT, Connection]):
    """The seed API's logged-in browser sessions (``deck.connections``; ``conn_`` ids)."""

    KIND, PATH, MODEL = "connection", "/connections", Connection

    @returns
    def create(
        self,
        source_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        auth_credentials: Mapping[str, str] | None = None,
        auth_method: str = "username_password",
        external_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Connection:
        """Open a connection; answers at once with ``status="connecting"``."""
        creds = dict(auth_credentials or {})
        if username is not None:
            creds["username"] = username
        if password is not None:
            creds["password"] = password
        missing = [k for k in ("username", "password") if not creds.get(k)]
        if missing:
            raise ValueError(f"missing credential(s): {', '.join(missing)}")
        body: dict[str, Any] = {
            "source_id": _id(source_id, "source_id"),
            "auth_method": auth_method,
            "auth_credentials": creds,
        }
        if external_id is not None:
            body["external_id"] = external_id
        return self._do("POST", "/connections", Connection, body=body, idempotency_key=idempotency_key)

    @returns
    def retrieve(self, connection_id: str) -> Connection:
        """One connection by id."""
        return self._do("GET", self._path(connection_id), Connection)

    @lists
    def list(
        self,
        *,
        source_id: str | None = None,
        status: str | None = None,
        external_id: str | None = None,
        limit: int | None = None,
    ) -> SyncPager[Connection]:
        """Connections, filtered by source, status or external id."""
        params = {"source_id": source_id, "status": status, "external_id": external_id, "limit": limit}
        return self._list("/connections", Connection, params)

    @returns
    def disconnect(self, connection_id: str) -> Connection:
        """Log out and close the connection's browser session."""
        return self._do("POST", f"{self._path(connection_id)}/disconnect", Connection)


def _login_body(connection_id: Any, credential_id: Any, session_id: Any, source_id: Any) -> dict[str, str]:
    """The run body's way to log in: a connection (seed API), or a credential / session / source
    (current API); Deck checks that a credential and a session given together match."""
    current = {"credential_id": credential_id, "session_id": session_id, "source_id": source_id}
    named = {k: _id(v, k) for k, v in current.items() if v is not None}
    if connection_id is not None:
        if named:
            raise ValueError(
                f"a run logs in one way: connection_id (the connections API) or {', '.join(named)} "
                "(the credentials API), not both"
            )
        return {"connection_id": _id(connection_id, "connection_id")}
    if not named:
        raise ValueError(
            "a run needs a way to log in: credential_id= (or session_id= to reuse a live session, or "
            "source_id= for a source that needs no login) on the credentials API, connection_id= on the "
            "connections API"
        )
    return named


class TaskRuns(RunStorage[ClientT], _Interactive[ClientT, TaskRun]):
    """Runs of tasks (``deck.task_runs``; ``trun_`` ids)."""

    KIND, PATH, MODEL = "task_run", "/task-runs", TaskRun

    def _body_key(self, api: str) -> str:
        return "input" if api == CREDENTIALS else "inputs"

    @returns
    def create(
        self,
        task_id: str,
        *,
        credential_id: str | None = None,
        session_id: str | None = None,
        source_id: str | None = None,
        connection_id: str | None = None,
        input: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> TaskRun:
        """Start a run (``POST /v2/tasks/{task_id}/run``); answers at once with ``status="queued"``.

        Name one way to log in: ``connection_id`` on the connections API; on the credentials API a
        ``credential_id`` (a new session logs in), a ``session_id`` (reuse a live session: no login),
        both (Deck checks they match), or a ``source_id`` for a source that needs no login."""
        if input is not None and not isinstance(input, Mapping):
            raise TypeError(f"input must be a mapping, not {type(input).__name__}")
        body: dict[str, Any] = _login_body(connection_id, credential_id, session_id, source_id)
        if input is not None:
            body["input"] = dict(input)
        path = f"/tasks/{_id(task_id, 'task_id')}/run"
        return self._do("POST", path, TaskRun, body=body, idempotency_key=idempotency_key)

    @returns
    def retrieve(self, task_run_id: str, *, include: Any = None, include_input: bool = False) -> TaskRun:
        """One run by id, with the sections named in ``include`` (``"input"``, ``"storage"``,
        ``"artifacts"``): ``run.input``, ``run.storage``, ``run.screenshots``."""
        sections = [include] if isinstance(include, str) else list(include or ())
        sections += ["input"] if include_input else []
        wanted = include_param(sections)
        return self._do("GET", self._path(task_run_id), TaskRun, params={"include": wanted} if wanted else None)

    @lists
    def list(
        self,
        *,
        connection_id: str | None = None,
        credential_id: str | None = None,
        session_id: str | None = None,
        source_id: str | None = None,
        task_id: str | None = None,
        status: str | None = None,
        result: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        limit: int | None = None,
    ) -> SyncPager[TaskRun]:
        """Runs, newest filters AND-combined (``credential_id``/``session_id`` on the credentials API)."""
        params = {
            "connection_id": getattr(connection_id, "id", connection_id),
            "credential_id": getattr(credential_id, "id", credential_id),
            "session_id": getattr(session_id, "id", session_id),
            "source_id": source_id,
            "task_id": task_id,
            "status": status,
            "result": result,
            "created_after": _iso(created_after),
            "created_before": _iso(created_before),
            "limit": limit,
        }
        return self._list("/task-runs", TaskRun, params)

    @returns
    def cancel(self, task_run_id: str) -> TaskRun:
        """Ask Deck to stop a run; on the credentials API it passes through ``cancelling``."""
        return self._do("POST", f"{self._path(task_run_id)}/cancel", TaskRun)
