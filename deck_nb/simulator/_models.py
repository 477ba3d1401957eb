"""The simulator's objects (connections, task runs, credentials, sessions) and how each is shown.

Secrets (passwords) live on these objects only as ``repr=False`` fields and never reach ``public()``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from . import _catalog as catalog

SEED = "connections"  # the seed's API: connections log in
CURRENT = "credentials"  # Deck's current API: credentials are stored, runs log in inside sessions
AGENT_ID = "agt_sim_agent"

RUN_FINISHED = {"completed", "failed", "canceled"}
SESSION_ENDED = {"completed", "failed"}
SESSION_ACTIVE = {"queued", "running", "idle"}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(ts: float) -> int:
    """Timestamps compare at the microsecond they are shown with (``round(ts * 1e6)`` differs from
    the shown value for about one float in eight, which made `created_after` include its own item)."""
    return (datetime.fromtimestamp(ts, UTC) - _EPOCH) // timedelta(microseconds=1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass
class Prompt:
    """A challenge currently (or last) put to the user, with its attempt budget."""

    challenge: catalog.Challenge
    attempts: int
    retry: bool = False
    at_login: bool = False  # a login prompt on a run (current API) rather than the run's own


@dataclass
class Resource:
    """What every simulated object has: identity, creation order, status and its timers."""

    id: str
    seq: int
    created: float
    updated: float
    status: str
    interaction: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    prompt: Prompt | None = None
    timer: Any = None
    window: Any = None
    timed_out: bool = False

    kind = "resource"

    def public(self) -> dict[str, Any]:  # pragma: no cover - every subclass renders itself
        raise NotImplementedError

    def shown_interaction(self) -> dict[str, Any] | None:
        """What a client sees (and so what an answer is checked against)."""
        return self.interaction


@dataclass
class Connection(Resource):
    source_id: str = ""
    external_id: str | None = None
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    pending: list[catalog.Challenge] = field(default_factory=list)

    kind = "connection"
    api = SEED

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "connection",
            "status": self.status,
            "source_id": self.source_id,
            "auth_method": "username_password",
            "external_id": self.external_id,
            "interaction": self.interaction,
            "errors": list(self.errors),
            "created_at": iso(self.created),
            "updated_at": iso(self.updated),
        }


@dataclass
class Credential:
    """A stored login (Deck's current API): nothing happens until a run uses it."""

    id: str
    seq: int
    created: float
    updated: float
    status: str
    source_id: str
    auth_method: str
    external_id: str | None = None
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    source_fields: dict[str, Any] | None = None

    kind = "credential"

    def public(self) -> dict[str, Any]:
        summary: dict[str, Any] = {}
        if self.username is not None:
            summary["username"] = self.username
        if self.source_fields:
            summary["source_fields"] = dict(self.source_fields)
        return {
            "id": self.id,
            "object": "credential",
            "status": self.status,
            "source_id": self.source_id,
            "auth_method": self.auth_method,
            "external_id": self.external_id,
            "auth_credentials": summary,
            "created_at": iso(self.created),
            "updated_at": iso(self.updated),
        }


@dataclass
class Session:
    """A logged-in browser (Deck's current API), made by a run and reusable by later ones."""

    id: str
    seq: int
    created: float
    updated: float
    status: str
    credential_id: str
    source_id: str
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    logged_in: bool = False
    login_by: str | None = None  # the run logging in right now, if any
    run_ids: list[str] = field(default_factory=list)
    task_runs: list[dict[str, Any]] = field(default_factory=list)
    timer: Any = None
    ended: float | None = None

    kind = "session"

    def public(self) -> dict[str, Any]:
        end = self.ended if self.ended is not None else self.updated
        return {
            "id": self.id,
            "object": "session",
            "status": self.status,
            "credential_id": self.credential_id,
            "source_id": self.source_id,
            "runtime_ms": round((end - self.created) * 1000),
            "task_runs": [dict(t) for t in self.task_runs],
            "created_at": iso(self.created),
            "updated_at": iso(self.updated),
        }


def minimal_interaction(interaction: dict[str, Any] | None) -> dict[str, Any] | None:
    """The interaction as Deck's current API documents it: type, message, fields (+ options on choices)."""
    if interaction is None:
        return None
    fields = []
    for spec in interaction["fields"]:
        shown = {"name": spec["name"], "type": spec["type"], "label": spec["label"]}
        if "options" in spec:
            shown["options"] = [dict(o) for o in spec["options"]]
        fields.append(shown)
    return {"type": interaction["type"], "message": interaction["message"], "fields": fields}


@dataclass
class TaskRun(Resource):
    task_id: str = ""
    api: str = SEED
    connection_id: str | None = None
    credential_id: str | None = None
    session_id: str | None = None
    source_id: str = ""
    username: str = field(default="", repr=False)
    input: dict[str, Any] = field(default_factory=dict)
    result: str | None = None
    output: dict[str, Any] | None = None
    started: float | None = None
    finished: float | None = None
    canceled: float | None = None
    work_done: float = 0.0
    work_since: float | None = None
    prompted: bool = False
    reviewed: bool = False
    account_id: str | None = None
    fail_with: str | None = None
    logs_in: bool = False  # the run logs its session in (the first run of a new session)
    login: list[catalog.Challenge] = field(default_factory=list)

    kind = "task_run"

    def public(self, include_input: bool = False) -> dict[str, Any]:
        obj = {
            "id": self.id,
            "object": "task_run",
            "status": self.status,
            "result": self.result,
            "task_id": self.task_id,
            "agent_id": AGENT_ID,
            "connection_id": self.connection_id,
            "credential_id": self.credential_id,
            "session_id": self.session_id,
            "source_id": self.source_id,
            "output": self.output,
            "errors": list(self.errors),
            "interaction": self.shown_interaction(),
            "runtime_ms": self.runtime_ms(),
            "created_at": iso(self.created),
            "updated_at": iso(self.updated),
            "completed_at": iso(self.finished) if self.finished and self.status == "completed" else None,
            "canceled_at": iso(self.canceled) if self.canceled else None,
        }
        if include_input:
            obj["input"] = dict(self.input)
        return obj

    def shown_interaction(self) -> dict[str, Any] | None:
        return minimal_interaction(self.interaction) if self.api == CURRENT else self.interaction

    def runtime_ms(self) -> int | None:
        if self.started is None or self.finished is None:
            return None
        return round((self.finished - self.started) * 1000)
