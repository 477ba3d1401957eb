"""The journal's tables and the frames' columns: one place, with no pandas, shared by the journal
(which keeps the summary rows in memory) and the frames (which type them)."""

from __future__ import annotations

SCHEMA = """
CREATE TABLE IF NOT EXISTS timeline(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, kind TEXT NOT NULL,
    resource_kind TEXT, resource_id TEXT, status TEXT, detail TEXT);
CREATE TABLE IF NOT EXISTS resources(
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, source_id TEXT, task_id TEXT, connection_id TEXT,
    external_id TEXT, status TEXT, result TEXT, created_at REAL, updated_at REAL, finished_at REAL,
    runtime_ms INTEGER, interactions INTEGER NOT NULL DEFAULT 0, interaction_types TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0, error_type TEXT, error_code TEXT, error_message TEXT,
    first_seen REAL, last_seen REAL);
CREATE TABLE IF NOT EXISTS interactions(
    row INTEGER PRIMARY KEY AUTOINCREMENT, resource_kind TEXT, resource_id TEXT, source_id TEXT, task_id TEXT,
    type TEXT, message TEXT, field_names TEXT, field_types TEXT, attempts_remaining INTEGER, expires_at REAL,
    shown_at REAL, answered_at REAL, closed_at REAL, outcome TEXT, submissions INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS errors(
    row INTEGER PRIMARY KEY AUTOINCREMENT, at REAL, origin TEXT, resource_kind TEXT, resource_id TEXT,
    type TEXT, code TEXT, field TEXT, message TEXT, status_code INTEGER, request_id TEXT, method TEXT, path TEXT);
CREATE INDEX IF NOT EXISTS interactions_by_resource ON interactions(resource_id);
"""

RUN_COLUMNS = [
    "id",
    "task_id",
    "source_id",
    "connection_id",
    "status",
    "result",
    "created_at",
    "finished_at",
    "duration_s",
    "runtime_s",
    "interactions",
    "interaction_types",
    "attempts",
    "error_type",
    "error_code",
    "error_message",
]
CONNECTION_COLUMNS = [
    "id",
    "source_id",
    "external_id",
    "status",
    "created_at",
    "finished_at",
    "duration_s",
    "interactions",
    "interaction_types",
    "attempts",
    "error_type",
    "error_code",
    "error_message",
]
INTERACTION_COLUMNS = [
    "resource_kind",
    "resource_id",
    "source_id",
    "task_id",
    "type",
    "message",
    "field_names",
    "field_types",
    "attempts_remaining",
    "shown_at",
    "answered_at",
    "closed_at",
    "expires_at",
    "time_to_answer_s",
    "submissions",
    "outcome",
]
ERROR_COLUMNS = [
    "at",
    "origin",
    "resource_kind",
    "resource_id",
    "type",
    "code",
    "field",
    "message",
    "status_code",
    "request_id",
    "method",
    "path",
]
EVENT_COLUMNS = ["seq", "at", "kind", "resource_kind", "resource_id", "status", "detail"]


RUN_SELECT = """SELECT id, task_id, source_id, connection_id, status, result, created_at, finished_at,
       finished_at - created_at, runtime_ms / 1000.0, interactions, interaction_types, attempts,
       error_type, error_code, error_message
FROM resources WHERE kind = 'task_run'"""
CONNECTION_SELECT = """SELECT id, source_id, external_id, status, created_at, finished_at, finished_at - created_at,
       interactions, interaction_types, attempts, error_type, error_code, error_message
FROM resources WHERE kind = 'connection'"""
# frames kept as rows in memory by the journal, one per resource: (resource kind, select, columns)
SUMMARIES: dict[str, tuple[str, str, list[str]]] = {
    "runs": ("task_run", RUN_SELECT, RUN_COLUMNS),
    "connections": ("connection", CONNECTION_SELECT, CONNECTION_COLUMNS),
}
ORDER = " ORDER BY created_at, first_seen"
QUERIES: dict[str, tuple[str, list[str]]] = {
    "runs": (RUN_SELECT + ORDER, RUN_COLUMNS),
    "connections": (CONNECTION_SELECT + ORDER, CONNECTION_COLUMNS),
    "interactions": (
        """SELECT resource_kind, resource_id, source_id, task_id, type, message, field_names, field_types,
                  attempts_remaining, shown_at, answered_at, closed_at, expires_at, answered_at - shown_at,
                  submissions, outcome
           FROM interactions ORDER BY row""",
        INTERACTION_COLUMNS,
    ),
    "errors": (f"SELECT {', '.join(ERROR_COLUMNS)} FROM errors ORDER BY row", ERROR_COLUMNS),
    "events": (f"SELECT {', '.join(EVENT_COLUMNS)} FROM timeline ORDER BY seq", EVENT_COLUMNS),
}
