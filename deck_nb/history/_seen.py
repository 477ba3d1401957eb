"""What the journal last knew of each resource: its status, the prompt it showed and whether that
prompt was answered, so a record can tell what changed. Rebuilt from the file when resuming one."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from . import outcomes


@dataclass
class Seen:
    """What the journal last knew of a resource."""

    status: str | None = None
    prompt: dict[str, Any] | None = None
    pending_row: int | None = None
    answered: bool = False
    updated: float | None = None
    types: list[str] = field(default_factory=list)


class SeenStates:
    """The ``Seen`` of each resource, read from the file the first time one is asked for."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._seen: dict[str, Seen] = {}

    def __getitem__(self, resource_id: str) -> Seen:
        seen = self._seen.get(resource_id)
        if seen is None:
            seen = self._seen[resource_id] = self._load(resource_id)
        return seen

    def _load(self, resource_id: str) -> Seen:
        row = self._db.execute(
            "SELECT status, interaction_types, updated_at FROM resources WHERE id = ?", (resource_id,)
        ).fetchone()
        if row is None:
            return Seen()
        seen = Seen(status=row[0], types=[t for t in (row[1] or "").split(",") if t], updated=row[2])
        pending = self._db.execute(
            "SELECT row, type, field_names, answered_at FROM interactions WHERE resource_id = ? AND outcome = ? "
            "ORDER BY row DESC LIMIT 1",
            (resource_id, outcomes.PENDING),
        ).fetchone()
        if pending is not None:
            seen.pending_row, seen.answered = pending[0], pending[3] is not None
            seen.prompt = {"type": pending[1], "fields": [{"name": n} for n in (pending[2] or "").split(",") if n]}
        return seen
