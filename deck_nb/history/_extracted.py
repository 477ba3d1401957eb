"""``History.extractions``: the journal's extraction JSON as columns (nested fields flattened to
``a.b``); a field named like a date (``due_date``, ``date``) is read as a datetime, as in
``outputs_frame``. The notebook layer's ``dn.extractions`` types by the task's schema instead."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

FRONT = ["run_id", "storage_id", "task_id", "source_id", "file_name", "result"]
OPAQUE = "extraction"


def flatten(value: dict[str, Any], prefix: str = "", into: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``; lists and scalars are kept as values."""
    into = {} if into is None else into
    for key, inner in value.items():
        name = f"{prefix}{key}"
        if isinstance(inner, dict) and inner:
            flatten(inner, f"{name}.", into)
        else:
            into[name] = inner
    return into


def extractions_table(rows: list[tuple]) -> pd.DataFrame:
    records = []
    for run_id, storage_id, task_id, source_id, file_name, result, extraction in rows:
        record = dict(zip(FRONT, (run_id, storage_id, task_id, source_id, file_name, result), strict=True))
        try:
            value = json.loads(extraction) if extraction else None
        except ValueError:
            value = None
        if isinstance(value, dict):
            flatten(value, "", record)
        elif value is not None:
            record[OPAQUE] = value
        records.append(record)
    if not records:
        return pd.DataFrame(columns=FRONT)
    frame = pd.DataFrame.from_records(records).drop_duplicates("storage_id", keep="last").reset_index(drop=True)
    for name in [c for c in frame.columns if c not in FRONT and (c.endswith("_date") or c == "date")]:
        frame[name] = pd.to_datetime(frame[name], errors="coerce")
    for name in ("task_id", "source_id", "result"):
        frame[name] = frame[name].astype("category")
    return frame[FRONT + [c for c in frame.columns if c not in FRONT]]
