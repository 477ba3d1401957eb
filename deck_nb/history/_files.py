"""What the journal keeps of Deck Storage: one row per file a run captured, as it is seen (a run's
listing, a retrieve, ``include=storage``, a ``storage.created`` event), and where it was saved
once downloaded. Never the signed URL: only the columns below are read from an item."""

from __future__ import annotations

import json
from typing import Any

from ._objects import as_int, as_text, plain, ts

STORAGE_KINDS = ("storage", "storage_item")

FILES_TABLE = """
CREATE TABLE IF NOT EXISTS files(
    storage_id TEXT PRIMARY KEY, run_id TEXT, task_id TEXT, source_id TEXT, file_name TEXT, file_type TEXT,
    file_size INTEGER, result TEXT, extraction TEXT, created_at REAL, path TEXT, sha256 TEXT,
    first_seen REAL, last_seen REAL);
CREATE INDEX IF NOT EXISTS files_by_run ON files(run_id);
"""

_UPSERT = """INSERT INTO files(storage_id, run_id, task_id, source_id, file_name, file_type, file_size, result,
        extraction, created_at, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT(storage_id) DO UPDATE SET run_id=coalesce(excluded.run_id, run_id),
        task_id=coalesce(excluded.task_id, task_id), source_id=coalesce(excluded.source_id, source_id),
        file_name=coalesce(excluded.file_name, file_name), file_type=coalesce(excluded.file_type, file_type),
        file_size=coalesce(excluded.file_size, file_size), result=coalesce(excluded.result, result),
        extraction=coalesce(excluded.extraction, extraction), created_at=coalesce(excluded.created_at, created_at),
        last_seen=excluded.last_seen"""


def _is_item(data: dict[str, Any]) -> bool:
    return data.get("object") in STORAGE_KINDS and isinstance(data.get("id"), str)


def files_in(obj: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(item, its run's ids) for every storage item inside a response: an item, a page of them, a
    run's ``storage`` section, a ``storage.created`` event (or a page of events)."""
    data = plain(obj)
    if data is None:
        return []
    if _is_item(data):
        return [(data, {})]
    found: list[tuple[dict[str, Any], dict[str, Any]]] = []
    if isinstance(data.get("data"), list):  # a page
        for entry in data["data"]:
            found += files_in(entry)
    elif data.get("object") == "event" and isinstance(data.get("data"), dict):
        found += files_in(data["data"])
    elif data.get("object") == "task_run" and isinstance(data.get("storage"), list):
        run = {"run_id": data.get("id"), "task_id": data.get("task_id"), "source_id": data.get("source_id")}
        found += [(item, run) for item in data["storage"] if isinstance(item, dict) and _is_item(item)]
    return found


def _extraction(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=str)


def record_files(db: Any, found: list[tuple[dict[str, Any], dict[str, Any]]], now: float) -> None:
    """Upsert each item's row (inside the caller's transaction)."""
    db.executemany(
        _UPSERT,
        [
            (
                item["id"],
                as_text(item.get("task_run_id") or run.get("run_id")),
                as_text(run.get("task_id")),
                as_text(run.get("source_id")),
                as_text(item.get("file_name")),
                as_text(item.get("file_type")),
                as_int(item.get("file_size")),
                as_text(item.get("result")),
                _extraction(item.get("extraction")),
                ts(item.get("created_at") or item.get("fetch_date")),
                now,
                now,
            )
            for item, run in found
        ],
    )


def record_saved(db: Any, saved: list[Any], now: float) -> None:
    """Where files were saved and their sha256 (each item's row made first if it was never seen)."""
    record_files(db, [pair for fetched in saved for pair in files_in(fetched.item)], now)
    db.executemany(
        "UPDATE files SET path = ?, sha256 = ?, last_seen = ? WHERE storage_id = ?",
        [(str(fetched.path), fetched.sha256, now, fetched.item.id) for fetched in saved],
    )


FILE_RUN = "coalesce(r.{0}, (SELECT x.{0} FROM resources x WHERE x.id = r.run_id))"
EXTRACTIONS = (
    "SELECT r.run_id, r.storage_id, " + FILE_RUN.format("task_id") + ", " + FILE_RUN.format("source_id") + ", "
    "r.file_name, r.result, r.extraction FROM files r ORDER BY r.created_at, r.first_seen"
)
