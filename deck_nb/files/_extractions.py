"""``dn.extractions``: the bills as a table — one row per file, the fields Deck extracted from it as
columns (nested ones flattened, ``a.b``), typed by the task's ``extraction_schema`` (dates as
datetimes, amounts as numbers) when the task has one. A file whose extraction failed is a row with
``result="failure"`` and no fields, never dropped."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from deck_nb.history._extracted import flatten

from ._runs import RunRef, resolve

FRONT = ["run_id", "storage_id", "task_id", "source_id", "file_name", "result"]
OPAQUE = "extraction"  # an extraction that is not an object (an ``enc_`` string, a list) lands here


def extractions(runs: Any, *, deck: Any = None, concurrency: int = 8) -> pd.DataFrame:
    """One row per file of ``runs`` (as ``dn.download`` takes them) with its extraction's fields.
    Each task's schema is read once (``GET /v2/tasks/{id}``)."""
    refs, client = resolve(runs, deck)
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, 32)), thread_name_prefix="deck-nb-read") as pool:
        listed = list(pool.map(lambda ref: _read(client, ref), refs))
        task_ids = sorted({ref.task_id for ref, _ in listed if ref.task_id})
        schemas = dict(zip(task_ids, pool.map(lambda t: _schema(client, t), task_ids), strict=True))
    return extractions_frame([(ref, item) for ref, items in listed for item in items], schemas)


def _read(client: Any, ref: RunRef) -> tuple[RunRef, list[Any]]:
    items = list(client.task_runs.files(ref.id, limit=100))
    if ref.task_id is None or ref.source_id is None:
        run = client.task_runs.retrieve(ref.id)
        ref = RunRef(ref.id, ref.task_id or run.task_id, ref.source_id or run.source_id)
    return ref, items


def _schema(client: Any, task_id: str) -> dict[str, Any] | None:
    task = client.tasks.retrieve(task_id)
    storage = (task.to_dict() if hasattr(task, "to_dict") else task).get("storage")
    schema = storage.get("extraction_schema") if isinstance(storage, dict) else None
    return schema if isinstance(schema, dict) else None


def schema_types(schema: dict[str, Any] | None, prefix: str = "") -> dict[str, str]:
    """Column → ``"date"``, ``"datetime"``, ``"number"``, ``"integer"`` or ``"string"``, from an
    extraction schema's properties (nested objects flattened like the columns)."""
    types: dict[str, str] = {}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    for key, spec in (properties or {}).items():
        if not isinstance(spec, dict):
            continue
        kind = spec.get("type")
        kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
        name = f"{prefix}{key}"
        if kind == "object":
            types.update(schema_types(spec, f"{name}."))
        elif kind == "string" and spec.get("format") in ("date", "date-time"):
            types[name] = "date" if spec["format"] == "date" else "datetime"
        elif kind in ("number", "integer", "string"):
            types[name] = kind
    return types


def extractions_frame(pairs: list[tuple[RunRef, Any]], schemas: dict[str, dict[str, Any] | None]) -> pd.DataFrame:
    """The table from (run, storage item) pairs and each task's extraction schema (pure: no HTTP)."""
    rows = []
    for ref, item in pairs:
        data = item.to_dict() if hasattr(item, "to_dict") else dict(item)
        row = {
            "run_id": ref.id,
            "storage_id": data.get("id"),
            "task_id": ref.task_id,
            "source_id": ref.source_id,
            "file_name": data.get("file_name"),
            "result": data.get("result"),  # absent in older revisions (they have fetch_date): kept NA
        }
        extraction = data.get("extraction")
        if isinstance(extraction, dict):
            flatten(extraction, "", row)
        elif extraction is not None:
            row[OPAQUE] = extraction
        rows.append(row)
    frame = pd.DataFrame.from_records(rows)
    if frame.empty:
        return pd.DataFrame(columns=FRONT)
    kinds: dict[str, str] = {}
    for task_id in dict.fromkeys(ref.task_id for ref, _ in pairs if ref.task_id):
        kinds.update(schema_types(schemas.get(task_id)))
    for column, kind in kinds.items():
        if column in frame.columns and column not in FRONT:
            frame[column] = _as(frame[column], kind)
    for name in ("task_id", "source_id", "result"):
        frame[name] = frame[name].astype("category")
    return frame[FRONT + [c for c in frame.columns if c not in FRONT]]


def _as(values: pd.Series, kind: str) -> pd.Series:
    if kind == "date":
        return pd.to_datetime(values, errors="coerce")
    if kind == "datetime":
        return pd.to_datetime(values, errors="coerce", utc=True)
    if kind in ("number", "integer"):
        numbers = pd.to_numeric(values, errors="coerce")
        if kind == "integer" and numbers.dropna().mod(1).eq(0).all():
            return numbers.astype("Int64")
        return numbers.astype("float64")
    return values.astype("string")
