"""DataFrames from the journal and from API objects, with stable columns and proper dtypes:
tz-aware UTC datetimes, float seconds, categoricals for statuses/types/codes, nullable integers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pandas as pd

from ._schema import (
    CONNECTION_COLUMNS,
    ERROR_COLUMNS,
    EVENT_COLUMNS,
    INTERACTION_COLUMNS,
    QUERIES,
    RUN_COLUMNS,
    SUMMARIES,
)
from .journal import _ts, finished_at

__all__ = [
    "CONNECTION_COLUMNS",
    "ERROR_COLUMNS",
    "EVENT_COLUMNS",
    "INTERACTION_COLUMNS",
    "QUERIES",
    "RUN_COLUMNS",
    "connections_frame",
    "journal_rows",
    "outputs_frame",
    "runs_frame",
    "typed",
]

CATEGORIES = {
    "task_id",
    "source_id",
    "status",
    "result",
    "error_type",
    "error_code",
    "resource_kind",
    "type",
    "outcome",
    "origin",
    "code",
    "kind",
    "method",
}
STRINGS = {
    "id",
    "connection_id",
    "external_id",
    "interaction_types",
    "error_message",
    "resource_id",
    "message",
    "field_names",
    "field_types",
    "field",
    "request_id",
    "path",
    "detail",
}
INTEGERS = {"interactions", "attempts", "attempts_remaining", "submissions", "status_code", "seq"}
TIMES = {"created_at", "finished_at", "shown_at", "answered_at", "closed_at", "expires_at", "at"}


def typed(rows: list[tuple] | list[list], columns: list[str]) -> pd.DataFrame:
    """Rows → a frame with the project's dtypes (the one place dtypes are decided)."""
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for name in columns:
        column = frame[name]
        if name in TIMES:
            micros = (column.astype("float64") * 1_000_000).round().astype("Int64")
            frame[name] = pd.to_datetime(micros, unit="us", utc=True)
        elif name in CATEGORIES:
            frame[name] = column.astype("category")
        elif name in INTEGERS:
            frame[name] = column.astype("Int64")
        elif name in STRINGS:
            frame[name] = column.astype("string")
        else:
            frame[name] = column.astype("float64")
    return frame


def journal_rows(journal, name: str) -> list[tuple]:
    """A frame's rows: runs and connections from the journal's memory, the rest from SQLite."""
    if name in SUMMARIES:
        return journal.summary_rows(name)
    sql, _ = QUERIES[name]
    return journal.query(sql)[1]


# -- from the server's side ---------------------------------------------------------------------


def _plain(obj: Any) -> dict[str, Any]:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, dict):
        return obj
    raise TypeError(f"expected API objects or dicts, not {type(obj).__name__}")


def _unwrap(objects: Any) -> Iterable[Any]:
    if hasattr(objects, "to_dict") or isinstance(objects, dict):
        return [objects]
    resource = getattr(objects, "resource", None)  # a job
    if resource is not None:
        return [resource]
    return [getattr(o, "resource", o) for o in objects]


def _first_error(obj: dict[str, Any]) -> dict[str, Any]:
    errors = [e for e in obj.get("errors") or [] if isinstance(e, dict)]
    return errors[0] if errors else {}


def _prompt_types(obj: dict[str, Any]) -> tuple[int | None, str | None]:
    interaction = obj.get("interaction")
    if isinstance(interaction, dict):
        return 1, str(interaction.get("type"))
    return None, None


def runs_frame(runs: Any) -> pd.DataFrame:
    """Task runs (objects, dicts, jobs, or a ``list()`` iterator) → the columns of ``history().runs``.
    Counts of interactions and attempts are unknown from the server's side (NA) unless one is open."""
    rows = []
    for raw in _unwrap(runs):
        obj = _plain(raw)
        created, finished = _ts(obj.get("created_at")), finished_at(obj)
        err = _first_error(obj)
        n, kind = _prompt_types(obj)
        runtime = obj.get("runtime_ms")
        rows.append(
            (
                obj.get("id"),
                obj.get("task_id"),
                obj.get("source_id"),
                obj.get("connection_id"),
                obj.get("status"),
                obj.get("result"),
                created,
                finished,
                None if finished is None or created is None else finished - created,
                None if runtime is None else runtime / 1000,
                n,
                kind,
                None,
                err.get("type"),
                err.get("code"),
                err.get("message"),
            )
        )
    return typed(rows, RUN_COLUMNS)


def connections_frame(connections: Any) -> pd.DataFrame:
    rows = []
    for raw in _unwrap(connections):
        obj = _plain(raw)
        created, finished = _ts(obj.get("created_at")), finished_at(obj)
        err = _first_error(obj)
        n, kind = _prompt_types(obj)
        rows.append(
            (
                obj.get("id"),
                obj.get("source_id"),
                obj.get("external_id"),
                obj.get("status"),
                created,
                finished,
                None if finished is None or created is None else finished - created,
                n,
                kind,
                None,
                err.get("type"),
                err.get("code"),
                err.get("message"),
            )
        )
    return typed(rows, CONNECTION_COLUMNS)


def outputs_frame(runs: Any) -> pd.DataFrame:
    """Flatten task outputs (bills, transactions, usage rows) into one tidy table, the run id beside
    each row; scalar output fields (e.g. ``account_id``) repeat on every row of their run."""
    frames = []
    for raw in _unwrap(runs):
        obj = _plain(raw)
        output = obj.get("output")
        if not isinstance(output, dict):
            continue
        lists = {k: v for k, v in output.items() if isinstance(v, list)}
        scalars = {k: v for k, v in output.items() if not isinstance(v, list | dict)}
        ident = {"run_id": obj.get("id"), "task_id": obj.get("task_id"), "source_id": obj.get("source_id")}
        for name, items in lists.items():
            rows = [item if isinstance(item, dict) else {"value": item} for item in items]
            frame = pd.json_normalize(rows) if rows else pd.DataFrame()
            for key, value in {**ident, "item": name, **scalars}.items():
                frame[key] = value
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["run_id", "task_id", "source_id", "item"])
    frame = pd.concat(frames, ignore_index=True)
    front = ["run_id", "task_id", "source_id", "item"]
    frame = frame[front + [c for c in frame.columns if c not in front]]
    for name in ("task_id", "source_id", "item"):
        frame[name] = frame[name].astype("category")
    for name in [c for c in frame.columns if c.endswith("_date") or c == "date"]:
        frame[name] = pd.to_datetime(frame[name], errors="coerce")
    return frame


def detail(frame: pd.DataFrame) -> pd.DataFrame:
    """Expand the JSON ``detail`` column of the events frame into columns."""
    expanded = pd.json_normalize([json.loads(d) if isinstance(d, str) else {} for d in frame["detail"]])
    return pd.concat([frame.drop(columns=["detail"]).reset_index(drop=True), expanded], axis=1)
