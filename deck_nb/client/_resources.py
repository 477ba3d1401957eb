"""Resources 1:1 with Deck's REST API. Written once for both clients: each method builds a ``Call``
and hands it to the client, which answers a value (Deck) or an awaitable (AsyncDeck)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ._core import Call
from ._models import (
    Connection,
    Deleted,
    Event,
    EventDestination,
    Source,
    Task,
    TaskRun,
    is_settled,
)

if TYPE_CHECKING:
    from ._client import AsyncDeck, Deck


def _id(value: Any, what: str) -> str:
    """Accept an id or an object with ``.id``; refuse anything that is not a non-empty string."""
    value = getattr(value, "id", value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty id string, not {value!r}")
    return quote(value, safe="")


def _iso(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return value.isoformat().replace("+00:00", "Z")


def _inputs(inputs: Mapping[str, Any] | None, extra: dict[str, Any]) -> dict[str, Any]:
    if inputs is not None and not isinstance(inputs, Mapping):
        raise TypeError(f"inputs must be a mapping of field name to value, not {type(inputs).__name__}")
    merged = {**(inputs or {}), **extra}
    if not merged:
        raise ValueError("no inputs given: pass the interaction's fields, e.g. submit_interaction(id, code='123456')")
    bad = [k for k in merged if not isinstance(k, str) or not k]
    if bad:
        raise ValueError(f"field names must be non-empty strings, not {bad[0]!r}")
    return merged


def _validator(model: type) -> Callable[[Any], Any]:
    return model.model_validate


class _Resource:
    def __init__(self, client: Deck | AsyncDeck) -> None:
        self._client = client

    def _do(self, method: str, path: str, model: type | None, **kwargs: Any) -> Any:
        return self._client._request(Call(method, path, cast=_validator(model) if model else None, **kwargs))

    def _list(self, path: str, model: type, params: dict[str, Any]) -> Any:
        limit = params.get("limit")
        if limit is not None and not (isinstance(limit, int) and 1 <= limit <= 100):
            raise ValueError("limit must be an integer from 1 to 100")
        return self._client._paginate(Call("GET", path, params=params), _validator(model))


class Sources(_Resource):
    def list(self, *, limit: int | None = None):
        return self._list("/sources", Source, {"limit": limit})

    def retrieve(self, source_id: str):
        return self._do("GET", f"/sources/{_id(source_id, 'source_id')}", Source)


class Tasks(_Resource):
    def list(self, *, limit: int | None = None):
        return self._list("/tasks", Task, {"limit": limit})

    def retrieve(self, task_id: str):
        return self._do("GET", f"/tasks/{_id(task_id, 'task_id')}", Task)


class _Interactive(_Resource):
    """Connections and task runs alike: they pause for interactions, take answers, and can be waited on."""

    KIND = ""
    PATH = ""
    MODEL: type = Connection

    def _path(self, resource_id: Any) -> str:
        return f"{self.PATH}/{_id(resource_id, f'{self.KIND}_id')}"

    def submit_interaction(self, resource_id: Any, inputs: Mapping[str, Any] | None = None, /, **fields: Any):
        """Answer the current interaction: all its fields in one request (as a mapping or keywords)."""
        path = f"{self._path(resource_id)}/interaction"
        body = {"inputs": _inputs(inputs, fields)}
        submission = (self.KIND, getattr(resource_id, "id", resource_id), tuple(body["inputs"]))
        return self._do("POST", path, self.MODEL, body=body, submission=submission)

    def wait(
        self,
        resource_id: Any,
        *,
        until: Callable[[Any], bool] = is_settled,
        timeout: float | None = None,
        poll_interval: float | None = None,
    ):
        """Poll until ``until(obj)``: by default an interaction or a terminal status."""
        call = Call("GET", self._path(resource_id), cast=_validator(self.MODEL))
        what = f"{self.KIND.replace('_', ' ')} {getattr(resource_id, 'id', resource_id)}"
        return self._client._wait(call, until, timeout, poll_interval, what)


class Connections(_Interactive):
    KIND, PATH, MODEL = "connection", "/connections", Connection

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
    ):
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

    def retrieve(self, connection_id: str):
        return self._do("GET", self._path(connection_id), Connection)

    def list(
        self,
        *,
        source_id: str | None = None,
        status: str | None = None,
        external_id: str | None = None,
        limit: int | None = None,
    ):
        params = {"source_id": source_id, "status": status, "external_id": external_id, "limit": limit}
        return self._list("/connections", Connection, params)

    def disconnect(self, connection_id: str):
        return self._do("POST", f"{self._path(connection_id)}/disconnect", Connection)


class TaskRuns(_Interactive):
    KIND, PATH, MODEL = "task_run", "/task-runs", TaskRun

    def create(
        self,
        task_id: str,
        *,
        connection_id: str,
        input: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ):
        """Start a run (``POST /v2/tasks/{task_id}/run``); answers at once with ``status="queued"``."""
        if input is not None and not isinstance(input, Mapping):
            raise TypeError(f"input must be a mapping, not {type(input).__name__}")
        body: dict[str, Any] = {"connection_id": _id(connection_id, "connection_id")}
        if input is not None:
            body["input"] = dict(input)
        path = f"/tasks/{_id(task_id, 'task_id')}/run"
        return self._do("POST", path, TaskRun, body=body, idempotency_key=idempotency_key)

    def retrieve(self, task_run_id: str, *, include_input: bool = False):
        params = {"include": "input"} if include_input else None
        return self._do("GET", self._path(task_run_id), TaskRun, params=params)

    def list(
        self,
        *,
        connection_id: str | None = None,
        source_id: str | None = None,
        task_id: str | None = None,
        status: str | None = None,
        result: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        limit: int | None = None,
    ):
        params = {
            "connection_id": getattr(connection_id, "id", connection_id),
            "source_id": source_id,
            "task_id": task_id,
            "status": status,
            "result": result,
            "created_after": _iso(created_after),
            "created_before": _iso(created_before),
            "limit": limit,
        }
        return self._list("/task-runs", TaskRun, params)

    def cancel(self, task_run_id: str):
        return self._do("POST", f"{self._path(task_run_id)}/cancel", TaskRun)


class Events(_Resource):
    def list(self, *, type: str | None = None, created_after: datetime | str | None = None, limit: int | None = None):
        return self._list("/events", Event, {"type": type, "created_after": _iso(created_after), "limit": limit})

    def retrieve(self, event_id: str):
        return self._do("GET", f"/events/{_id(event_id, 'event_id')}", Event)

    def watch(
        self,
        *,
        types: list[str] | None = None,
        since: datetime | None = None,
        poll_interval: float = 1.0,
        timeout: float | None = None,
    ):
        """New events as they appear, deduped and in order; stops after ``timeout`` seconds if given."""
        from ._events import EventFeed

        return self._client._watch(EventFeed(types, since), poll_interval, timeout)


class EventDestinations(_Resource):
    def create(
        self,
        *,
        name: str,
        url: str,
        events: list[str] | None = None,
        secret: str | None = None,
        idempotency_key: str | None = None,
    ):
        webhook = {"url": url, **({"secret": secret} if secret else {})}
        body = {"name": name, "type": "webhook", "webhook": webhook, "events": events or ["*"]}
        return self._do("POST", "/event-destinations", EventDestination, body=body, idempotency_key=idempotency_key)

    def list(self, *, limit: int | None = None):
        return self._list("/event-destinations", EventDestination, {"limit": limit})

    def retrieve(self, destination_id: str):
        return self._do("GET", f"/event-destinations/{_id(destination_id, 'destination_id')}", EventDestination)

    def delete(self, destination_id: str):
        return self._do("DELETE", f"/event-destinations/{_id(destination_id, 'destination_id')}", Deleted)
