"""Permissive models of Deck's objects: attribute access, unknown fields kept, unknown enum values
carried as plain strings (sources add statuses, interaction and field types at any time)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


def _short(value: Any, limit: int = 120) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DeckModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    # Fields a compact repr shows; None shows them all.
    REPR_FIELDS: ClassVar[tuple[str, ...] | None] = None

    def __repr_args__(self):
        for key, value in super().__repr_args__():
            if self.REPR_FIELDS is None or key in self.REPR_FIELDS:
                yield key, value

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td style='text-align:left'>"
            f"{html.escape(_short(v))}</td></tr>"
            for k, v in self.__repr_args__()
            if v not in (None, [], {})
        )
        title = html.escape(type(self).__name__)
        return f"<div class='deck-nb-object'><b>{title}</b><table>{rows}</table></div>"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, with unknown fields the server sent kept."""
        return self.model_dump(mode="json", exclude_none=False)

    def __getitem__(self, key: str) -> Any:  # lets notebooks treat objects like the JSON they were
        return getattr(self, key)


class Option(DeckModel):
    value: Any = None
    label: str | None = None


class Field(DeckModel):
    name: str
    type: str = "string"
    label: str | None = None
    options: list[Option] | None = None
    required: bool = True
    secret: bool = False

    @property
    def display_label(self) -> str:
        return self.label or self.name


class Interaction(DeckModel):
    REPR_FIELDS: ClassVar[tuple[str, ...]] = ("type", "message", "fields", "attempts_remaining")

    type: str = "unknown"
    message: str | None = None
    fields: list[Field] = []
    expires_at: datetime | None = None
    attempts_remaining: int | None = None

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


class ErrorDetail(DeckModel):
    type: str | None = None
    code: str | None = None
    message: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = f" (field {self.field})" if self.field else ""
        return f"{self.type}/{self.code}: {self.message or ''}{where}"


class Resource(DeckModel):
    id: str
    object: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Source(Resource):
    name: str | None = None


class Task(Resource):
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
    """One execution of a task on a connection."""

    status: str = "unknown"
    result: str | None = None
    task_id: str | None = None
    connection_id: str | None = None
    source_id: str | None = None
    output: Any = None
    errors: list[ErrorDetail] = []
    interaction: Interaction | None = None
    runtime_ms: int | None = None
    input: dict[str, Any] | None = None
    completed_at: datetime | None = None
    canceled_at: datetime | None = None

    TERMINAL: ClassVar[frozenset[str]] = frozenset({"completed", "failed", "canceled"})
    REPR_FIELDS: ClassVar[tuple[str, ...]] = (
        "id",
        "status",
        "result",
        "task_id",
        "connection_id",
        "interaction",
        "errors",
        "runtime_ms",
    )


class Event(Resource):
    type: str = "unknown"
    data: dict[str, Any] = {}

    REPR_FIELDS: ClassVar[tuple[str, ...]] = ("id", "type", "created_at")

    @property
    def resource(self) -> Connection | TaskRun | dict[str, Any]:
        """The object the event carries, as a model when its kind is known."""
        kind = self.data.get("object")
        model = {"connection": Connection, "task_run": TaskRun}.get(kind or "")
        return model.model_validate(self.data) if model else self.data


class Webhook(DeckModel):
    url: str | None = None
    secret: str | None = None

    def __repr_args__(self):
        for key, value in super().__repr_args__():
            yield key, ("whsec_…" if key == "secret" and value else value)


class EventDestination(Resource):
    name: str | None = None
    type: str | None = None
    webhook: Webhook | None = None
    events: list[str] = []
    status: str | None = None


class Deleted(DeckModel):
    id: str
    object: str | None = None
    deleted: bool = True


def is_settled(resource: Connection | TaskRun) -> bool:
    """Whether polling should stop: waiting for input, or in a terminal status."""
    return resource.status == "interaction_required" or resource.status in type(resource).TERMINAL
