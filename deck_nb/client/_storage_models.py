"""Deck Storage's objects: the files a run captured (``stor_``), and the screenshots the agent took.

Where Deck's page revisions disagree, both spellings are read: ``object`` is ``storage`` or
``storage_item``; an item has ``result`` (newest) or ``fetch_date`` (older). A signed ``url`` is a
key to a customer's file: it is kept on the model (``download`` needs it) but never shown by a repr,
an HTML card or ``str()``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from ._model_base import DeckModel, Resource

SIGNED_URL = "signed URL (hidden)"


class _HidesUrl(DeckModel):
    """A model whose ``url`` is a secret: reprs and cards say it exists, never what it is."""

    def __repr_args__(self):
        for key, value in super().__repr_args__():
            yield key, (SIGNED_URL if key == "url" and value else value)


class StorageItem(Resource, _HidesUrl):
    """One file a run captured: name, MIME type, size, the data extracted from it (``extraction``,
    None when off or failed) and ``result`` (``"failure"`` only when extraction failed). ``url`` is
    None on list items: ``deck.storage.retrieve(id)`` answers one, valid for minutes."""

    file_name: str | None = None
    file_type: str | None = None
    file_size: int | None = None
    url: str | None = Field(default=None, repr=False)
    metadata: Any = None
    extraction: Any = None
    result: str | None = None
    fetch_date: datetime | None = None
    task_run_id: str | None = None

    REPR_FIELDS: ClassVar[tuple[str, ...]] = (
        "id",
        "file_name",
        "file_type",
        "file_size",
        "result",
        "task_run_id",
        "extraction",
        "url",
    )

    @property
    def extraction_failed(self) -> bool:
        """Whether Deck could not read the file's data (the raw file is still there to download)."""
        return self.result == "failure"

    def __str__(self) -> str:
        return f"{self.file_name or self.id} ({self.file_type or '?'}, {self.file_size} bytes)"


class Screenshot(_HidesUrl):
    """What the agent saw at one moment, and why it acted (``reasoning``); ``url`` is a signed link
    to the PNG (hidden in reprs), kept by Deck for 15 days."""

    id: str | None = None
    file_name: str | None = None
    file_type: str | None = None
    file_size: int | None = None
    created_at: datetime | None = None
    url: str | None = Field(default=None, repr=False)
    reasoning: str | None = None

    REPR_FIELDS: ClassVar[tuple[str, ...]] = ("id", "file_name", "created_at", "reasoning", "url")


def storage_items(value: Any) -> list[StorageItem] | None:
    """A run's ``storage`` section as models (None when the section was not asked for)."""
    if not isinstance(value, list):
        return None
    return [v if isinstance(v, StorageItem) else StorageItem.model_validate(v) for v in value if _is_obj(v)]


def screenshots_of(value: Any) -> list[Screenshot] | None:
    """A run's ``artifacts`` (or older ``screenshots``) section as Screenshot models."""
    if isinstance(value, dict):
        value = value.get("screenshots")
    if not isinstance(value, list):
        return None
    return [v if isinstance(v, Screenshot) else Screenshot.model_validate(v) for v in value if _is_obj(v)]


def _is_obj(value: Any) -> bool:
    return isinstance(value, dict | DeckModel)
