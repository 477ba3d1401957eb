"""The journal's plain rows, each written by one function: a timeline entry, an error (with its
timeline entry), and a run's place in its session and credential. The caller holds the journal's
lock and its transaction."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from ._objects import as_text, ts


def timeline(db: sqlite3.Connection, at: float, kind: str, resource_kind, resource_id, status, detail: dict) -> None:
    db.execute(
        "INSERT INTO timeline(at, kind, resource_kind, resource_id, status, detail) VALUES (?,?,?,?,?,?)",
        (at, kind, resource_kind, resource_id, status, json.dumps(detail, default=str)),
    )


def error(
    db: sqlite3.Connection,
    origin,
    kind,
    resource_id,
    type_,
    code,
    field_,
    message,
    status_code=None,
    request_id=None,
    method=None,
    path=None,
    at: float | None = None,
) -> None:
    now = at if at is not None else time.time()
    db.execute(
        """INSERT INTO errors(at, origin, resource_kind, resource_id, type, code, field, message, status_code,
               request_id, method, path) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
        (now, origin, kind, resource_id, type_, code, field_, message, status_code, request_id, method, path),
    )
    timeline(
        db,
        now,
        "error",
        kind,
        resource_id,
        None,
        {"origin": origin, "type": type_, "code": code, "field": field_, "status_code": status_code},
    )


def link(db: sqlite3.Connection, run_id, session_id, credential_id, position, data: dict[str, Any], now: float) -> None:
    """Place a run in its session and credential, and give both a row: a session is often known
    only from its runs (Deck lists no sessions), a credential from the runs that use it."""
    db.execute(
        """INSERT INTO run_links(run_id, session_id, credential_id, position) VALUES (?,?,?,?)
           ON CONFLICT(run_id) DO UPDATE SET session_id=coalesce(excluded.session_id, session_id),
               credential_id=coalesce(excluded.credential_id, credential_id),
               position=coalesce(excluded.position, position)""",
        (run_id, session_id, credential_id, position),
    )
    if session_id is not None:  # a session's runs share its credential, whichever run named it
        db.execute(
            """UPDATE run_links SET credential_id = (SELECT credential_id FROM run_links
                   WHERE session_id = ? AND credential_id IS NOT NULL LIMIT 1)
               WHERE session_id = ? AND credential_id IS NULL""",
            (session_id, session_id),
        )
    placeholder = "INSERT OR IGNORE INTO resources(id, kind, source_id, created_at, first_seen, last_seen)"
    if session_id is not None and data.get("object") == "task_run":
        db.execute(placeholder + " VALUES (?,'session',NULL,?,?,?)", (session_id, ts(data.get("created_at")), now, now))
    if credential_id is not None:
        source = as_text(data.get("source_id")) if data.get("object") == "task_run" else None
        db.execute(placeholder + " VALUES (?,'credential',?,NULL,?,?)", (credential_id, source, now, now))
