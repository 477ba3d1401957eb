"""Deck Storage in the world: the files a completed run stores, deduplication, retention, lookups.

A run's files are stored the instant it completes (before its ``task_run.completed`` event), one
``storage.created`` event each. Deduplication compares the task's ``deduplication_schema`` fields
(file contents when it has none) with every file stored before for the same task and credential
(current API) or connection (seed API): a duplicate gets no item and no event.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import _storage_files as files
from ._errors import not_found
from ._models import TaskRun, iso, new_id
from ._state import WorldCore
from ._storage_knobs import NextRun, StorageSettings

RETENTION_S = 90 * 86400.0
SCREENSHOT_RETENTION_S = 15 * 86400.0
OVERSIZE_EXTRA = 4096


@dataclass
class StorageItem:
    id: str
    seq: int
    run_id: str
    created: float
    capture: files.Capture
    file_name: str
    file_size: int
    extraction: dict[str, Any] | None
    result: str
    metadata: dict[str, Any]
    padded_to: int | None = None
    lie: str | None = None  # "truncate" or "oversize": the signed URL serves the wrong length

    def public(self, url: str | None = None, with_url: bool = False) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": self.id,
            "object": "storage",
            "file_name": self.file_name,
            "file_type": self.capture.file_type,
            "file_size": self.file_size,
        }
        if with_url:
            obj["url"] = url
        obj.update(
            {
                "metadata": dict(self.metadata),
                "extraction": None if self.extraction is None else dict(self.extraction),
                "result": self.result,
                "task_run_id": self.run_id,
                "created_at": iso(self.created),
            }
        )
        return obj

    def body(self) -> tuple[int, Iterator[bytes]]:
        """The bytes the signed URL serves (the length may lie when a knob said so)."""
        size, chunks = self.capture.body(self.padded_to)
        if self.lie == "truncate":
            return size, _cut(chunks, size // 2)
        if self.lie == "oversize":
            return size + OVERSIZE_EXTRA, _extend(chunks, OVERSIZE_EXTRA)
        return size, chunks


def _cut(chunks: Iterator[bytes], limit: int) -> Iterator[bytes]:
    for chunk in chunks:
        if limit <= 0:
            return
        yield chunk[:limit]
        limit -= len(chunk)


def _extend(chunks: Iterator[bytes], extra: int) -> Iterator[bytes]:
    yield from chunks
    yield b"%" * extra


class Storage(WorldCore):
    """Storage items of every run; the knobs live in ``storage_settings`` (restored on reset)."""

    storage_defaults: StorageSettings = StorageSettings()

    def reset(self) -> None:
        super().reset()
        self.items: dict[str, StorageItem] = {}
        self.items_by_run: dict[str, list[str]] = {}
        self.seen_files: set[tuple[Any, ...]] = set()
        self.storage_settings = self.storage_defaults.copy()
        self.download_stats = {"served": 0, "with_authorization": 0, "forbidden": 0, "gone": 0}

    def configure_storage(self, settings: StorageSettings) -> None:
        self.storage_defaults = settings.copy()
        self.storage_settings = settings.copy()

    def _store_files(self, run: TaskRun) -> None:
        """Store what the completed run captured, and put the count in its output."""
        count_field = files.COUNT_FIELD.get(run.task_id)
        if count_field is None or run.output is None:
            return
        config = files.STORAGE_CONFIG[run.task_id]
        captured = files.captures(run.task_id, run.source_id, run.output)
        run.output = {**run.output, count_field: len(captured)}
        dedup_fields = list(config["deduplication_schema"]["properties"]) if config["deduplication_schema"] else None
        owner = run.credential_id or run.connection_id
        fresh = []
        for capture in captured:
            key = (run.task_id, owner, capture.dedup_key(dedup_fields))
            if config["deduplication"] and key in self.seen_files:
                continue
            self.seen_files.add(key)
            fresh.append(capture)
        tricks = self.storage_settings.take_next_run() if fresh else NextRun()
        for number, capture in enumerate(fresh, start=1):
            self._store_one(run, capture, number, tricks, bool(config["extraction"]))

    def _store_one(self, run: TaskRun, capture: files.Capture, number: int, tricks: NextRun, extracts: bool) -> None:
        padded = self.storage_settings.large_size if tricks.hits("large_file", number) else None
        failed = extracts and tricks.hits("fail_extraction", number)
        lie = "truncate" if tricks.hits("truncate_file", number) else None
        lie = "oversize" if tricks.hits("oversize_file", number) else lie
        size, _ = capture.body(padded)
        item = StorageItem(
            id=new_id("stor"),
            seq=self.next_seq(),
            run_id=run.id,
            created=self.clock.now(),
            capture=capture,
            file_name=tricks.file_names.get(number, capture.file_name),
            file_size=size,
            extraction=capture.extraction if extracts and not failed else None,
            result="failure" if failed else "success",
            metadata={"source_id": run.source_id, "task_id": run.task_id, "pages": 1}
            if capture.file_type == "application/pdf"
            else {"source_id": run.source_id, "task_id": run.task_id},
            padded_to=padded,
            lie=lie,
        )
        self.items[item.id] = item
        self.items_by_run.setdefault(run.id, []).append(item.id)
        self._emit("storage.created", item.public())

    # -- lookups -----------------------------------------------------------------------------

    def run_items(self, run_id: str) -> list[StorageItem]:
        self.get_run(run_id)
        return [self.items[i] for i in self.items_by_run.get(run_id, [])]

    def get_item(self, id_: str) -> StorageItem:
        item = self.items.get(id_)
        if item is None:
            raise not_found("storage", id_)
        return item

    def past_retention(self, created: float, retention_s: float = RETENTION_S) -> bool:
        return self.clock.read() >= created + self.clock.scaled(retention_s)
