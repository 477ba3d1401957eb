"""DataFrames from the journal and from API objects, with stable columns and proper dtypes:
tz-aware UTC datetimes, float seconds, categoricals for statuses/types/codes, nullable integers."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pandas as pd

from ._categories import categories
from ._objects import KINDS, plain, resources_in, settled_resource
from ._schema import (
    CONNECTION_COLUMNS,
    CREDENTIAL_COLUMNS,
    ERROR_COLUMNS,
    EVENT_COLUMNS,
    FRAMES,
    INTERACTION_COLUMNS,
    QUERIES,
    RESOURCE_FRAMES,
    RUN_COLUMNS,
    SESSION_COLUMNS,
    SUMMARIES,
)

__all__ = [
    "CONNECTION_COLUMNS",
    "CREDENTIAL_COLUMNS",
    "ERROR_COLUMNS",
    "EVENT_COLUMNS",
    "INTERACTION_COLUMNS",
    "QUERIES",
    "RUN_COLUMNS",
    "SESSION_COLUMNS",
    "connections_frame",
    "credentials_frame",
    "journal_rows",
    "outputs_frame",
    "runs_frame",
    "sessions_frame",
    "typed",
]


def typed(rows: list[tuple] | list[list], name: str) -> pd.DataFrame:
    """Rows of the frame ``name`` → a DataFrame with the dtypes its columns declare in ``_schema``."""
    columns = FRAMES[name].columns
    frame = pd.DataFrame.from_records(rows, columns=[c.name for c in columns])
    for column in columns:
        values = frame[column.name]
        if column.dtype == "time":
            micros = (values.astype("float64") * 1_000_000).round().astype("Int64")
            frame[column.name] = pd.to_datetime(micros, unit="us", utc=True)
        elif column.dtype == "float":
            frame[column.name] = values.astype("float64")
        elif column.dtype == "category":
            frame[column.name] = as_category(values, column.known)
        else:
            frame[column.name] = values.astype(column.dtype)
    return frame


def as_category(values: pd.Series, known: tuple[str, ...]) -> pd.Series:
    """A categorical whose categories are the known values, then any other value seen (sorted), so
    frames of different histories concat as categoricals and nothing a newer Deck sends is lost."""
    seen = values.dropna().unique()
    if any(not isinstance(v, str) for v in seen):  # the journal keeps text; anything else is kept as text
        values = values.where(values.isna(), values.astype(object).map(str))
    return values.astype(pd.CategoricalDtype(categories(known, seen)))


def journal_rows(journal, name: str) -> list[tuple]:
    """A frame's rows: runs and connections from the journal's memory, the rest from SQLite."""
    if name in SUMMARIES:
        return journal.summary_rows(name)
    return journal.query(QUERIES[name][0])[1]


# -- from the server's side ---------------------------------------------------------------------


def _unwrap(objects: Any) -> list[Any]:
    if hasattr(objects, "to_dict") or isinstance(objects, dict):
        return [objects]
    if hasattr(objects, "resource"):  # a job: its run once settled (JobPending while it waits)
        return [settled_resource(objects)]
    return [settled_resource(o) for o in objects]


def _server_frame(name: str, objects: Any) -> pd.DataFrame:
    """The frame ``name`` of API objects: journaled in memory and read back with the journal's own
    SELECT, so both sides have one definition. Columns known only by watching a resource over time
    (interaction counts, attempts) are NA here; rows keep the order the objects came in."""
    from .journal import Journal

    kind = RESOURCE_FRAMES[name]
    items = []
    for raw in _unwrap(objects):
        data = plain(raw)
        if data is None:
            raise TypeError(f"{name}_frame takes API objects or dicts, not {type(raw).__name__}")
        data = data if "object" in data else {**data, "object": kind}  # a bare dict of the right shape
        if data["object"] in KINDS and data["object"] != kind:
            raise TypeError(f"{name}_frame takes {kind.replace('_', ' ')}s, not a {data['object']}")
        items.extend(d for d in resources_in(data) if d["object"] == kind)
    order = list(dict.fromkeys(d["id"] for d in items))
    journal = Journal()
    try:
        journal.record(items)  # holds nothing but these objects (and no other kind is read back)
        frame = FRAMES[name]
        rows = journal.query(frame.query)[1]
    finally:
        journal.close()
    position = {id_: i for i, id_ in enumerate(order)}
    rows.sort(key=lambda row: position[row[0]])
    observed = [i for i, c in enumerate(frame.columns) if c.observed]
    rows = [tuple(None if i in observed else v for i, v in enumerate(row)) for row in rows]
    return typed(rows, name)


def runs_frame(runs: Any) -> pd.DataFrame:
    """Task runs of either API (models, dicts, jobs, or a ``list()`` iterator) → the columns of
    ``history().runs``. Interaction counts and attempts are NA: the server does not keep them."""
    return _server_frame("runs", runs)


def connections_frame(connections: Any) -> pd.DataFrame:
    """Connections (models, dicts, jobs, or a ``list()`` iterator) → the columns of ``history().connections``."""
    return _server_frame("connections", connections)


def credentials_frame(credentials: Any) -> pd.DataFrame:
    """Credentials (e.g. ``deck.credentials.list()``) → the columns of ``history().credentials``; ``runs``
    counts only the runs among the objects given (0 here)."""
    return _server_frame("credentials", credentials)


def sessions_frame(sessions: Any) -> pd.DataFrame:
    """Sessions (e.g. ``[deck.sessions.retrieve(id)]``) → the columns of ``history().sessions``; ``runs``
    counts the runs each session lists."""
    return _server_frame("sessions", sessions)


OUTPUT_FRONT = ["run_id", "task_id", "source_id", "item"]


def outputs_frame(runs: Any) -> pd.DataFrame:
    """Flatten task outputs (bills, transactions, usage rows) into one tidy table, the run id beside
    each row; scalar output fields (e.g. ``account_id``) repeat on every row of their run. Typed like
    the history's frames: whole numbers ``Int64``, dates tz-aware UTC, text ``string``. A run whose
    output cannot be flattened (encrypted: an ``enc_`` string) has no rows, and a warning names it,
    so "no bills" and "unreadable" are never confused; the other runs' rows stay."""
    records: list[dict[str, Any]] = []
    unread: dict[str, list[str]] = {}  # why an output has no rows → the runs
    for raw in _unwrap(runs):
        obj = plain(raw)
        if obj is None:
            raise TypeError(f"expected task runs (models or dicts), not {type(raw).__name__}")
        output = obj.get("output")
        if not isinstance(output, dict):
            if output is not None:
                unread.setdefault(_unreadable(output), []).append(str(obj.get("id")))
            continue
        scalars = {k: v for k, v in output.items() if not isinstance(v, list | dict)}
        ident = {"run_id": obj.get("id"), "task_id": obj.get("task_id"), "source_id": obj.get("source_id")}
        for name, items in output.items():
            if isinstance(items, list):
                for item in items:
                    row = _flat(item) if isinstance(item, dict) else {"value": item}
                    records.append({**row, **ident, "item": name, **scalars})
    for why, ids in unread.items():
        warnings.warn(f"outputs_frame: no rows for {', '.join(ids)}: {why}", UserWarning, stacklevel=2)
    columns = list(dict.fromkeys(c for r in records for c in r))
    columns = OUTPUT_FRONT + [c for c in columns if c not in OUTPUT_FRONT]
    return pd.DataFrame({c: _output_column(c, [r.get(c) for r in records]) for c in columns}, columns=columns)


def _unreadable(output: Any) -> str:
    """Why an output that is not an object gives no rows (never the output itself: it may be ciphertext)."""
    if isinstance(output, str) and output.startswith("enc_"):
        return (
            "its output is encrypted (your organisation has Deck encrypt payloads: an `enc_` string); "
            "decrypt it with your key, or read dn.extractions(runs), which stay plain"
        )
    return f"its output is a {type(output).__name__}, not an object of named fields"


def _flat(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted columns (``address.city``), as ``pd.json_normalize`` names them."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _output_column(name: str, values: list[Any]) -> pd.Series:
    present = [v for v in values if v is not None]
    if name in ("task_id", "source_id", "item", "run_id") or (
        present and all(isinstance(v, str) for v in present) and not _is_date(name)
    ):
        return pd.Series(values, dtype="string")
    if _is_date(name):
        return pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", utc=True, format="mixed")
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="Int64")
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pd.Series([float("nan") if v is None else v for v in values], dtype="float64")
    return pd.Series(values, dtype=object)


def _is_date(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last == "date" or last.endswith("_date") or last.endswith("_at")


def detail(frame: pd.DataFrame) -> pd.DataFrame:
    """Expand the JSON ``detail`` column of the events frame into columns."""
    expanded = pd.json_normalize([json.loads(d) if isinstance(d, str) else {} for d in frame["detail"]])
    return pd.concat([frame.drop(columns=["detail"]).reset_index(drop=True), expanded], axis=1)
