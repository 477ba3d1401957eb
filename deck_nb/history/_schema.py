"""The journal's tables and every frame's columns, defined once, with no pandas.

A frame is a list of ``Column``s: its name, the SQL that computes it from the journal's tables and
its dtype. The journal's SELECTs, the frames' dtypes and the server-side frames (``runs_frame`` ...,
which journal the given objects in memory and read them back with the same SELECT) all derive from
these lists, so a column is added in one place."""

from __future__ import annotations

from dataclasses import dataclass

from . import _categories as K
from ._files import FILE_RUN, FILES_TABLE

# resources: one row per connection, task run, credential or session; added columns are migrated
RESOURCE_COLUMNS: dict[str, str] = {
    "id": "TEXT PRIMARY KEY",
    "kind": "TEXT NOT NULL",
    "source_id": "TEXT",
    "task_id": "TEXT",
    "connection_id": "TEXT",
    "credential_id": "TEXT",
    "session_id": "TEXT",
    "external_id": "TEXT",
    "username": "TEXT",  # the login's user name as the analyst gave it (never a password)
    "status": "TEXT",
    "result": "TEXT",
    "created_at": "REAL",
    "updated_at": "REAL",
    "finished_at": "REAL",
    "verified_at": "REAL",
    "invalid_at": "REAL",
    "runtime_ms": "INTEGER",
    "interactions": "INTEGER NOT NULL DEFAULT 0",
    "interaction_types": "TEXT NOT NULL DEFAULT ''",
    "attempts": "INTEGER NOT NULL DEFAULT 0",
    "error_type": "TEXT",
    "error_code": "TEXT",
    "error_message": "TEXT",
    "first_seen": "REAL",
    "last_seen": "REAL",
}

SCHEMA = (
    f"""
CREATE TABLE IF NOT EXISTS timeline(
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, kind TEXT NOT NULL,
    resource_kind TEXT, resource_id TEXT, status TEXT, detail TEXT);
CREATE TABLE IF NOT EXISTS resources({", ".join(f"{name} {decl}" for name, decl in RESOURCE_COLUMNS.items())});
CREATE TABLE IF NOT EXISTS interactions(
    row INTEGER PRIMARY KEY AUTOINCREMENT, resource_kind TEXT, resource_id TEXT, source_id TEXT, task_id TEXT,
    type TEXT, message TEXT, field_names TEXT, field_types TEXT, attempts_remaining INTEGER, expires_at REAL,
    shown_at REAL, answered_at REAL, closed_at REAL, outcome TEXT, submissions INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS errors(
    row INTEGER PRIMARY KEY AUTOINCREMENT, at REAL, origin TEXT, resource_kind TEXT, resource_id TEXT,
    type TEXT, code TEXT, field TEXT, message TEXT, status_code INTEGER, request_id TEXT, method TEXT, path TEXT);
CREATE TABLE IF NOT EXISTS run_links(
    run_id TEXT PRIMARY KEY, session_id TEXT, credential_id TEXT, position INTEGER);
CREATE INDEX IF NOT EXISTS interactions_by_resource ON interactions(resource_id);
CREATE INDEX IF NOT EXISTS run_links_by_session ON run_links(session_id);
CREATE INDEX IF NOT EXISTS run_links_by_credential ON run_links(credential_id);
"""
    + FILES_TABLE
)
# on columns a file of an older deck_nb may lack: made once the journal has migrated it
INDEXES = """
CREATE INDEX IF NOT EXISTS resources_by_connection ON resources(connection_id);
CREATE INDEX IF NOT EXISTS resources_by_credential ON resources(credential_id);
"""


@dataclass(frozen=True)
class Column:
    """One frame column: ``sql`` computes it (over ``r``, the frame's table), ``dtype`` types it.
    ``observed``: known only by watching a resource over time, so NA in frames built from API objects.
    ``known``: a category column's documented values (its categories, with any newer value kept)."""

    name: str
    dtype: str  # "string" | "category" | "time" | "float" | "Int64"
    sql: str = ""
    observed: bool = False
    known: tuple[str, ...] = ()

    @property
    def expression(self) -> str:
        return self.sql or f"r.{self.name}"


@dataclass(frozen=True)
class Frame:
    columns: tuple[Column, ...]
    table: str  # FROM clause, the table aliased ``r``
    where: str = "1"
    order: str = ""

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def select(self, extra_where: str = "") -> str:
        where = f"{self.where} AND {extra_where}" if extra_where else self.where
        return f"SELECT {', '.join(c.expression for c in self.columns)} FROM {self.table} WHERE {where}"

    @property
    def query(self) -> str:
        return self.select() + (f" ORDER BY {self.order}" if self.order else "")


S, C, T, F, N = "string", "category", "time", "float", "Int64"
_ERROR = (
    Column("error_type", C, known=K.ERROR_TYPES),
    Column("error_code", C, known=K.ERROR_CODES),
    Column("error_message", S),
)
_OBSERVED = (
    Column("interactions", N, observed=True),
    Column("interaction_types", S, observed=True),
    Column("attempts", N, observed=True),
)
_BY_CREATION = "r.created_at, r.first_seen"
API = (
    "CASE WHEN r.connection_id IS NOT NULL THEN 'connections' "
    "WHEN r.credential_id IS NOT NULL OR r.session_id IS NOT NULL THEN 'credentials' END"
)
# a run names its account through its login (a connection, or the credential it ran with)
_LOGIN = "(SELECT l.{} FROM resources l WHERE l.id = coalesce(r.connection_id, r.credential_id))"

FRAMES: dict[str, Frame] = {
    "runs": Frame(
        (
            Column("id", S),
            Column("task_id", S),
            Column("source_id", S),
            Column("api", C, API, known=K.APIS),
            Column("connection_id", S),
            Column("credential_id", S),
            Column("session_id", S),
            Column("username", S, _LOGIN.format("username")),
            Column("external_id", S, _LOGIN.format("external_id")),
            Column("status", C, known=K.RUN_STATUSES),
            Column("result", C, known=K.RESULTS),
            Column("created_at", T),
            Column("finished_at", T),
            Column("duration_s", F, "r.finished_at - r.created_at"),
            Column("runtime_s", F, "r.runtime_ms / 1000.0"),
            *_OBSERVED,
            *_ERROR,
        ),
        "resources r",
        "r.kind = 'task_run'",
        _BY_CREATION,
    ),
    "connections": Frame(
        (
            Column("id", S),
            Column("source_id", S),
            Column("username", S),
            Column("external_id", S),
            Column("status", C, known=K.CONNECTION_STATUSES),
            Column("created_at", T),
            Column("finished_at", T),
            Column("duration_s", F, "r.finished_at - r.created_at"),
            *_OBSERVED,
            *_ERROR,
        ),
        "resources r",
        "r.kind = 'connection'",
        _BY_CREATION,
    ),
    "credentials": Frame(
        (
            Column("id", S),
            Column("source_id", S),
            Column("username", S),
            Column("external_id", S),
            Column("status", C, known=K.CREDENTIAL_STATUSES),
            Column("created_at", T),
            Column("verified_at", T),
            Column("invalid_at", T),
            Column("runs", N, "(SELECT count(*) FROM run_links l WHERE l.credential_id = r.id)"),
        ),
        "resources r",
        "r.kind = 'credential'",
        _BY_CREATION,
    ),
    "sessions": Frame(
        (
            Column("id", S),
            Column(
                "credential_id",
                S,
                "coalesce(r.credential_id, (SELECT l.credential_id FROM run_links l WHERE l.session_id = r.id "
                "AND l.credential_id IS NOT NULL LIMIT 1))",
            ),
            Column("status", C, known=K.SESSION_STATUSES),
            Column("created_at", T),
            Column("ended_at", T, "r.finished_at"),
            Column("runs", N, "(SELECT count(*) FROM run_links l WHERE l.session_id = r.id)"),
            Column("runtime_s", F, "r.runtime_ms / 1000.0"),
        ),
        "resources r",
        "r.kind = 'session'",
        _BY_CREATION,
    ),
    "interactions": Frame(
        (
            Column("resource_kind", C, known=K.RESOURCE_KINDS),
            Column("resource_id", S),
            Column("source_id", S),
            Column("task_id", S),
            Column("type", C, known=K.INTERACTION_TYPES),
            Column("message", S),
            Column("field_names", S),
            Column("field_types", S),
            Column("attempts_remaining", N),
            Column("shown_at", T),
            Column("answered_at", T),
            Column("closed_at", T),
            Column("expires_at", T),
            Column("time_to_answer_s", F, "r.answered_at - r.shown_at"),
            Column("submissions", N),
            Column("outcome", C, known=K.OUTCOMES),
        ),
        "interactions r",
        order="r.row",
    ),
    "errors": Frame(
        (
            Column("at", T),
            Column("origin", C, known=K.ORIGINS),
            Column("resource_kind", C, known=K.RESOURCE_KINDS),
            Column("resource_id", S),
            Column("type", C, known=K.ERROR_TYPES),
            Column("code", C, known=K.ERROR_CODES),
            Column("field", S),
            Column("message", S),
            Column("status_code", N),
            Column("request_id", S),
            Column("method", C, known=K.METHODS),
            Column("path", S),
        ),
        "errors r",
        order="r.row",
    ),
    "events": Frame(
        (
            Column("seq", N),
            Column("at", T),
            Column("kind", C, known=K.EVENT_KINDS),
            Column("resource_kind", C, known=K.RESOURCE_KINDS),
            Column("resource_id", S),
            Column("status", C, known=K.ANY_STATUS),
            Column("detail", S),
        ),
        "timeline r",
        order="r.seq",
    ),
    "files": Frame(
        (
            Column("storage_id", S),
            Column("run_id", S),
            Column("task_id", S, FILE_RUN.format("task_id")),
            Column("source_id", S, FILE_RUN.format("source_id")),
            Column("file_name", S),
            Column("file_type", S),  # a MIME type: open-ended, so text (frames of any two histories concat)
            Column("file_size", N),
            Column("result", C, known=K.RESULTS),
            Column("created_at", T),
            Column("path", S),
            Column("sha256", S),
        ),
        "files r",
        order="r.created_at, r.first_seen",
    ),
}

# the frames the journal keeps as rows in memory (one per resource, refreshed as records arrive)
SUMMARIES: dict[str, str] = {"runs": "task_run", "connections": "connection"}
# the resource kind each frame of one row per resource lists
RESOURCE_FRAMES: dict[str, str] = {**SUMMARIES, "credentials": "credential", "sessions": "session"}

RUN_COLUMNS = FRAMES["runs"].names
CONNECTION_COLUMNS = FRAMES["connections"].names
CREDENTIAL_COLUMNS = FRAMES["credentials"].names
SESSION_COLUMNS = FRAMES["sessions"].names
INTERACTION_COLUMNS = FRAMES["interactions"].names
ERROR_COLUMNS = FRAMES["errors"].names
EVENT_COLUMNS = FRAMES["events"].names
QUERIES: dict[str, tuple[str, list[str]]] = {name: (frame.query, frame.names) for name, frame in FRAMES.items()}

# runs that waited for a person's approval at some point, and how each run joined its session
REVIEWED_RUNS = "SELECT DISTINCT resource_id FROM timeline WHERE kind = 'status' AND status = 'review_required'"
RUN_LINKS = "SELECT run_id, session_id, credential_id, position FROM run_links"
