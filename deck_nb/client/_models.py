"""Permissive models of Deck's objects: attribute access, unknown fields kept, unknown enum values
carried as plain strings (Deck says statuses, interaction and field types grow without notice).

Where Deck's own pages disagree, every spelling is read: ``cancelling`` and ``canceling`` are one
status (kept as ``cancelling``); an empty string where an object, number or time belongs (as event
``data`` sends for empty fields) is read as absent."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import field_validator, model_validator

from ._model_base import _SECRET_KEYS, DeckModel, Resource
from ._storage_models import screenshots_of, storage_items


class Option(DeckModel):
    """One choice of a field (an account to pick): send its ``value``."""

    value: Any = None
    label: str | None = None


class Field(DeckModel):
    """One field of an interaction. Deck's current API sends only ``name``, ``type`` and ``label``:
    then every field is required and none is marked secret (mask by name or label)."""

    name: str
    type: str = "string"
    label: str | None = None
    options: list[Option] | None = None
    required: bool = True
    secret: bool = False

    @property
    def display_label(self) -> str:
        """The label to show (the name when Deck sent none)."""
        return self.label or self.name


class Interaction(DeckModel):
    """What a paused connection or run asks: ``{type, message, fields}`` at least; ``expires_at`` and
    ``attempts_remaining`` only where the API sends them (the seed's does, the current one does not)."""

    REPR_FIELDS: ClassVar[tuple[str, ...]] = ("type", "message", "fields", "attempts_remaining")

    type: str = "unknown"
    message: str | None = None
    fields: list[Field] = []
    expires_at: datetime | None = None
    attempts_remaining: int | None = None

    @property
    def field_names(self) -> list[str]:
        """The names the answer must carry."""
        return [f.name for f in self.fields]


class ErrorDetail(DeckModel):
    """One entry of an object's ``errors`` (``type``, ``code``, ``message``, ``field``)."""

    type: str | None = None
    code: str | None = None
    message: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.type}/{self.code}: {self.message or ''}{where}"


class Source(Resource):
    """A site Deck's agents can log in to."""

    name: str | None = None


class Task(Resource):
    """A task agents run, with JSON schemas for its input and output."""

    name: str | None = None
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None


class Connection(Resource):
    """A logged-in browser session at a source."""

    status: str = "unknown"
    source_id: str | None = None
    auth_method: str | None = None
    external_id: str | None = None
    interaction: Interaction | None = None
    errors: list[ErrorDetail] = []

    TERMINAL: ClassVar[frozenset[str]] = frozenset({"connected", "invalid", "disconnected"})
    REPR_FIELDS: ClassVar[tuple[str, ...]] = ("id", "status", "source_id", "external_id", "interaction", "errors")


class TaskRun(Resource):
    """One execution of a task: on a connection (seed API) or in a session with a credential (current
    API). ``cancelling`` and ``canceling`` are read as one status, ``cancelling``."""

    status: str = "unknown"
    result: str | None = None
    task_id: str | None = None
    connection_id: str | None = None
    credential_id: str | None = None
    session_id: str | None = None
    agent_id: str | None = None
    source_id: str | None = None
    output: Any = None
    errors: list[ErrorDetail] = []
    interaction: Interaction | None = None
    runtime_ms: int | None = None
    input: Any = None  # a dict, or an ``enc_`` string when the organisation encrypts payloads
    completed_at: datetime | None = None
    canceled_at: datetime | None = None

    TERMINAL: ClassVar[frozenset[str]] = frozenset({"completed", "failed", "canceled"})
    # Waiting for a person to approve it in Deck's console: no API resolves it, so waiting stops here.
    REVIEW: ClassVar[str] = "review_required"
    REPR_FIELDS: ClassVar[tuple[str, ...]] = (
        "id",
        "status",
        "result",
        "task_id",
        "connection_id",
        "credential_id",
        "session_id",
        "interaction",
        "errors",
        "runtime_ms",
    )

    @field_validator("status", mode="before")
    @classmethod
    def _one_cancelling(cls, value: Any) -> Any:
        return "cancelling" if value == "canceling" else value

    @property
    def encrypted(self) -> bool:
        """Whether Deck sent ``input`` or ``output`` encrypted (``enc_…`` strings, Enterprise)."""
        return any(isinstance(v, str) and v.startswith("enc_") for v in (self.input, self.output))

    @property
    def storage(self) -> Any:
        """The run's files (``include=("storage",)``) as StorageItems; None when not asked for."""
        return storage_items((self.__pydantic_extra__ or {}).get("storage"))

    @property
    def screenshots(self) -> Any:
        """The run's screenshots (``include=("artifacts",)``); None when not asked for."""
        extra = self.__pydantic_extra__ or {}
        return screenshots_of(extra.get("artifacts", extra.get("screenshots")))


class Event(Resource):
    """One entry of Deck's event log: ``type`` (e.g. ``task_run.completed``) and the object as ``data``."""

    type: str = "unknown"
    data: dict[str, Any] = {}

    REPR_FIELDS: ClassVar[tuple[str, ...]] = ("id", "type", "created_at")

    @property
    def resource(self) -> Resource | dict[str, Any]:
        """The object the event carries, as a model when its kind is known."""
        kind = self.data.get("object")
        model = _BY_OBJECT.get(kind or "")
        return model.model_validate(self.data) if model else self.data


class Webhook(DeckModel):
    """A destination's webhook: its ``url`` and signing ``secret`` (masked in reprs)."""

    url: str | None = None
    secret: str | None = None

    def __repr_args__(self):
        for key, value in super().__repr_args__():
            yield key, ("whsec_…" if key == "secret" and value else value)


class EventDestination(Resource):
    """Where Deck delivers events (a webhook)."""

    name: str | None = None
    type: str | None = None
    webhook: Webhook | None = None
    events: list[str] = []
    status: str | None = None


class Deleted(DeckModel):
    """The answer to a delete: the id and ``deleted: true``."""

    id: str
    object: str | None = None
    deleted: bool = True


class Credential(Resource):
    """A stored login (current API, ``cred_``): ``unverified`` until a run logs in with it, then
    ``verified`` or ``invalid``; ``deleted`` for good. ``auth_credentials`` is a summary
    (``username``, ``source_fields``): Deck never returns the password, and this model drops one if
    a server ever did."""

    status: str = "unknown"
    source_id: str | None = None
    auth_method: str | None = None
    external_id: str | None = None
    auth_credentials: dict[str, Any] | None = None
    verified_at: datetime | None = None
    invalid_at: datetime | None = None
    errors: list[ErrorDetail] = []

    REPR_FIELDS: ClassVar[tuple[str, ...]] = ("id", "status", "source_id", "username", "external_id", "errors")

    @model_validator(mode="before")
    @classmethod
    def _no_secret_and_deleted(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        creds = data.get("auth_credentials")
        if isinstance(creds, dict):
            data["auth_credentials"] = {k: v for k, v in creds.items() if k not in _SECRET_KEYS}
        if data.get("deleted") is True and not data.get("status"):
            data["status"] = "deleted"  # a delete answered in the ``{id, deleted: true}`` shape
        return data

    @property
    def username(self) -> str | None:
        """The login's username, from the summary Deck returns."""
        value = (self.auth_credentials or {}).get("username")
        return value if isinstance(value, str) else None

    def __repr_args__(self):
        yield from ((k, v) for k, v in super().__repr_args__() if k != "username")
        yield "username", self.username


class SessionRun(DeckModel):
    """A run a session served: ``{id, task_id, agent_id, credential_id}``."""

    id: str | None = None
    task_id: str | None = None
    agent_id: str | None = None
    credential_id: str | None = None


class Session(Resource):
    """A logged-in browser session (current API, ``sess_``): made by a run, reused by later runs
    naming it, ``idle`` between runs, ``completed`` after idling or when ended."""

    status: str = "unknown"
    credential_id: str | None = None
    runtime_ms: int | None = None
    task_runs: list[SessionRun] = []
    ended_at: datetime | None = None

    TERMINAL: ClassVar[frozenset[str]] = frozenset({"completed", "failed"})
    REPR_FIELDS: ClassVar[tuple[str, ...]] = ("id", "status", "credential_id", "task_runs", "runtime_ms")

    @property
    def active(self) -> bool:
        """Whether a run may still name it (not ``completing``, ``completed`` or ``failed``)."""
        return self.status not in {"completing", *self.TERMINAL}


_BY_OBJECT: dict[str, type[Resource]] = {
    "connection": Connection,
    "task_run": TaskRun,
    "credential": Credential,
    "session": Session,
}


def is_settled(resource: Connection | TaskRun) -> bool:
    """Whether polling should stop: waiting for input (``interaction_required``), waiting for a person
    in Deck's console (``review_required``: no API resolves it, so a wait that went on would only
    spin — the caller shows it and keeps waiting, or cancels), or in a terminal status."""
    return resource.status in ("interaction_required", TaskRun.REVIEW) or resource.status in type(resource).TERMINAL
