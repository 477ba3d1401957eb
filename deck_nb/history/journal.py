"""The journal: every status change, interaction shown, answer submitted (field names and outcome,
never values), API error and final result the client observes, written as it happens.

SQLite (stdlib) in WAL mode: each record is committed before the call that produced it returns, so
a killed kernel loses nothing it had shown. Summary tables (one row per resource, interaction and
error) are kept up to date as records arrive, so frames are a plain SELECT away."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deck_nb.client import APIError, DeckError, Observer

from . import outcomes
from ._files import files_in, record_files, record_saved
from ._objects import (
    LOGIN_KINDS,
    TERMINAL,
    as_int,
    as_text,
    finished_at,
    links_of,
    resources_in,
    ts,
    username_in,
    username_sent,
)
from ._schema import FRAMES, INDEXES, RESOURCE_COLUMNS, SCHEMA, SUMMARIES

_PATH_KINDS = {"connections": "connection", "task-runs": "task_run", "credentials": "credential", "sessions": "session"}
_PATH_ID = re.compile(r"^/(connections|task-runs|credentials|sessions)/([^/?]+)")
# when a credential reached these statuses (Deck sends no dedicated timestamp: its last update then)
_STATUS_TIMES = {"verified": "verified_at", "invalid": "invalid_at"}


@dataclass
class _Seen:
    """What the journal last knew of a resource (rebuilt from the file when resuming)."""

    status: str | None = None
    prompt: dict[str, Any] | None = None
    pending_row: int | None = None
    answered: bool = False
    updated: float | None = None
    types: list[str] = field(default_factory=list)


class Journal(Observer):
    """Observer of a client; ``Journal(path)`` persists to SQLite, ``Journal()`` keeps it in memory."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            str(self.path) if self.path else ":memory:", check_same_thread=False, isolation_level=None
        )
        if self.path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # survives a killed process; see README
        self._db.executescript(SCHEMA)
        self._migrate()
        self._db.executescript(INDEXES)
        self._lock = threading.RLock()
        self._seen: dict[str, _Seen] = {}
        # the runs and connections frames' rows, kept current in memory (loaded once from the file)
        self._summary: dict[str, dict[str, tuple]] = {}
        self._summary_by_kind: dict[str, tuple[str, str]] = {}
        self._stale: dict[str, str] = {}  # id → kind of summary rows to re-read at the next read
        for name, kind in SUMMARIES.items():
            rows = self._db.execute(FRAMES[name].query).fetchall()
            self._summary[name] = {row[0]: row for row in rows}
            self._summary_by_kind[kind] = (name, FRAMES[name].select("r.id = ?"))

    def _migrate(self) -> None:
        """Add the columns a file written by an older deck_nb lacks (its rows keep NULL there)."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(resources)")}
        for name, decl in RESOURCE_COLUMNS.items():
            if name not in have:
                self._db.execute(f"ALTER TABLE resources ADD COLUMN {name} {decl}")

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "memory"
        return f"<Journal {where}: {self.count('resources')} resources, {self.count('timeline')} records>"

    def kinds(self) -> dict[str, int]:
        """How many resources of each kind (connection, task_run, credential, session) are journaled."""
        return dict(self.query("SELECT kind, count(*) FROM resources GROUP BY kind ORDER BY kind")[1])

    def count(self, table: str) -> int:
        """Rows in one of the journal's tables."""
        with self._lock:
            return self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def query(self, sql: str, params: tuple = ()) -> tuple[list[str], list[tuple]]:
        """Run a read-only SELECT on the journal: (column names, rows)."""
        with self._lock:
            cursor = self._db.execute(sql, params)
            return [c[0] for c in cursor.description], cursor.fetchall()

    def summary_rows(self, name: str) -> list[tuple]:
        """The rows of the ``runs`` or ``connections`` frame, kept current in memory."""
        with self._lock:
            stale, self._stale = self._stale, {}
            for resource_id, kind in stale.items():
                self._read_summary(kind, resource_id)
            return list(self._summary[name].values())

    def _refresh_summary(self, kind: str, resource_id: str) -> None:
        """A new resource's row is read now (rows keep the order resources were first journaled); a
        known one's is re-read at the next ``summary_rows``: one SELECT per read, not one per record."""
        if kind not in self._summary_by_kind:
            return
        if resource_id in self._summary[self._summary_by_kind[kind][0]]:
            self._stale[resource_id] = kind
        else:
            self._read_summary(kind, resource_id)

    def _read_summary(self, kind: str, resource_id: str) -> None:
        name, select = self._summary_by_kind[kind]
        row = self._db.execute(select, (resource_id,)).fetchone()
        if row is not None:
            self._summary[name][resource_id] = row

    def _refresh_login(self, login_id: str) -> None:
        """A login's account names changed: its runs' rows name the account too."""
        self._refresh_summary(self._kind_of(login_id), login_id)
        runs = self._db.execute(
            "SELECT id FROM resources WHERE kind = 'task_run' AND (connection_id = ? OR credential_id = ?)",
            (login_id, login_id),
        ).fetchall()
        for (run_id,) in runs:
            self._refresh_summary("task_run", run_id)

    def _kind_of(self, resource_id: str) -> str:
        row = self._db.execute("SELECT kind FROM resources WHERE id = ?", (resource_id,)).fetchone()
        return row[0] if row else ""

    def close(self) -> None:
        """Close the file (every record is already committed)."""
        with self._lock:
            self._db.close()

    # -- Observer hooks ----------------------------------------------------------------------

    def on_object(self, obj: Any, call: Any = None) -> None:
        """Journal the resources in whatever a call answered (others are skipped), a page's in one go,
        the storage items it listed, and the user name a login was created with (the request's
        ``auth_credentials.username``; never its password)."""
        self.record([obj])
        found = files_in(obj)
        if found:
            with self._lock, self._db:
                record_files(self._db, found, time.time())
        username = username_sent(call)
        logins = [d["id"] for d in resources_in(obj) if d["object"] in LOGIN_KINDS] if username is not None else []
        if logins:
            with self._lock, self._db:
                for login in logins:
                    self._db.execute("UPDATE resources SET username = ? WHERE id = ?", (username, login))
                    self._refresh_login(login)

    def on_file_saved(self, fetched: Any) -> None:
        """Journal where a downloaded file was saved, and its sha256 (never its URL)."""
        with self._lock, self._db:
            record_saved(self._db, fetched, time.time())

    def on_error(self, error: DeckError, call: Any = None) -> None:
        """Journal an error, on the resource its path names."""
        path = getattr(call, "path", None) or getattr(error, "path", None) or ""
        match = _PATH_ID.match(path)
        kind = _PATH_KINDS.get(match.group(1)) if match else None
        resource_id = match.group(2) if match else None
        origin = "api" if isinstance(error, APIError) and error.status_code else "client"
        with self._lock, self._db:
            self._error(
                origin,
                kind,
                resource_id,
                getattr(error, "type", None),
                getattr(error, "code", None) or type(error).__name__,
                getattr(error, "field", None),
                getattr(error, "message", str(error)),
                getattr(error, "status_code", None),
                getattr(error, "request_id", None),
                getattr(call, "method", None),
                path or None,
            )
            if isinstance(error, APIError) and error.code == "interaction_timeout" and resource_id:
                self._close_prompt(resource_id, outcomes.TIMED_OUT)

    def on_submission(self, kind: str, id: str, field_names: tuple[str, ...], error: Any) -> None:
        """Journal an answer sent: field names and outcome, never values."""
        now = time.time()
        outcome = "sent" if error is None else getattr(error, "code", None) or type(error).__name__
        with self._lock, self._db:
            self._timeline(now, "answer", kind, id, None, {"fields": list(field_names), "outcome": outcome})
            seen = self._state(id)
            if seen.pending_row is not None:  # a refused answer counts as a submission, not as the answer
                self._db.execute(
                    "UPDATE interactions SET submissions = submissions + 1, answered_at = coalesce(?, answered_at)"
                    " WHERE row = ?",
                    (now if error is None else None, seen.pending_row),
                )
            if error is None:
                seen.answered = True
                self._db.execute("UPDATE resources SET attempts = attempts + 1 WHERE id = ?", (id,))
                self._refresh_summary(kind, id)

    # -- recording ---------------------------------------------------------------------------

    def observe(self, data: Any, at: float | None = None) -> None:
        """Record what changed about one resource (a model or a plain dict from the API)."""
        self.record([data], at)

    def record(self, objects: Any, at: float | None = None) -> int:
        """Journal API objects of either API — connections, task runs, credentials, sessions, as models,
        dicts, pages, events or a ``list()`` iterator — in one transaction, e.g. the server's own
        history of runs. Anything else is skipped. Answers how many resources were seen."""
        now = at if at is not None else time.time()
        seen = 0
        if hasattr(objects, "to_dict") or isinstance(objects, dict):
            objects = [objects]
        with self._lock, self._db:
            for obj in objects:
                for data in resources_in(obj):
                    self._apply(data, now)
                    seen += 1
                record_files(self._db, files_in(obj), now)
        return seen

    def _apply(self, data: dict[str, Any], now: float) -> None:
        kind, resource_id = data["object"], data["id"]
        for link in links_of(data):
            self._link(*link, data, now)
        status = data.get("status")
        prompt = data.get("interaction") if status == "interaction_required" else None
        updated = ts(data.get("updated_at"))
        seen = self._state(resource_id)
        if updated is not None and seen.updated is not None and updated < seen.updated:
            return  # an older snapshot (events arrive out of order): never go back in time
        seen.updated = updated if updated is not None else seen.updated
        if status == seen.status and (prompt is None or outcomes.shown_again(prompt, seen.prompt)):
            runtime = data.get("runtime_ms")  # a session's runtime grows while it stays idle
            self._db.execute(
                "UPDATE resources SET last_seen = ?, runtime_ms = coalesce(?, runtime_ms) WHERE id = ?",
                (now, runtime if isinstance(runtime, int) else None, resource_id),
            )
            if kind in LOGIN_KINDS:
                self._rename(kind, resource_id, data)
            return
        self._record(kind, resource_id, data, status, prompt, seen, now)
        self._refresh_summary(kind, resource_id)

    def _record(self, kind, resource_id, data, status, prompt, seen: _Seen, now: float) -> None:
        if status != seen.status:
            self._timeline(now, "status", kind, resource_id, status, {"from": seen.status})
        self._judge_pending(seen, data, now)
        if prompt is not None and not outcomes.shown_again(prompt, seen.prompt):
            self._prompt(kind, resource_id, data, prompt, seen, now)
        errors = [e for e in data.get("errors") or [] if isinstance(e, dict)]
        if status in TERMINAL[kind] and status != seen.status:
            for e in errors:
                self._error(
                    "resource",
                    kind,
                    resource_id,
                    e.get("type"),
                    e.get("code"),
                    e.get("field"),
                    e.get("message"),
                    None,
                    None,
                    None,
                    None,
                    at=now,
                )
            self._timeline(now, "result", kind, resource_id, status, {"result": data.get("result")})
        first = errors[0] if errors else {}
        became = {column: None for column in _STATUS_TIMES.values()}
        if kind == "credential" and status in _STATUS_TIMES and status != seen.status:
            became[_STATUS_TIMES[status]] = ts(data.get(_STATUS_TIMES[status]) or data.get("updated_at")) or now
        session_credential = next((c for _, _, c, _ in links_of(data) if c), None)
        username = username_in(data)
        names = self._names(kind, resource_id)
        self._db.execute(
            """INSERT INTO resources(id, kind, source_id, task_id, connection_id, credential_id, session_id,
                   external_id, status, result, created_at, updated_at, finished_at, verified_at, invalid_at,
                   runtime_ms, error_type, error_code, error_message, first_seen, last_seen, username)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(id) DO UPDATE SET status=excluded.status, result=excluded.result,
                   source_id=coalesce(excluded.source_id, source_id),
                   credential_id=coalesce(excluded.credential_id, credential_id),
                   session_id=coalesce(excluded.session_id, session_id),
                   created_at=coalesce(excluded.created_at, created_at),
                   updated_at=excluded.updated_at, finished_at=coalesce(excluded.finished_at, finished_at),
                   verified_at=coalesce(excluded.verified_at, verified_at),
                   invalid_at=coalesce(excluded.invalid_at, invalid_at),
                   runtime_ms=coalesce(excluded.runtime_ms, runtime_ms),
                   error_type=excluded.error_type, error_code=excluded.error_code,
                   error_message=excluded.error_message, last_seen=excluded.last_seen,
                   external_id=coalesce(excluded.external_id, external_id),
                   username=coalesce(excluded.username, username)""",
            (
                resource_id,
                kind,
                as_text(data.get("source_id")),
                as_text(data.get("task_id")),
                as_text(data.get("connection_id")),
                as_text(data.get("credential_id")) or session_credential,
                as_text(data.get("session_id")),
                as_text(data.get("external_id")),
                as_text(status),
                as_text(data.get("result")),
                ts(data.get("created_at")),
                ts(data.get("updated_at")),
                finished_at(data),
                became["verified_at"],
                became["invalid_at"],
                as_int(data.get("runtime_ms")),
                first.get("type"),
                first.get("code"),
                first.get("message"),
                now,
                now,
                username,
            ),
        )
        seen.status = status
        if names is not None and names != self._names(kind, resource_id):
            self._refresh_login(resource_id)

    def _rename(self, kind: str, resource_id: str, data: dict[str, Any]) -> None:
        """A login whose external id (or user name) changed without a status change (a PATCH)."""
        before = self._names(kind, resource_id)
        external = as_text(data.get("external_id")) if "external_id" in data else before and before[0]
        username = username_in(data) or (before and before[1])
        if before is not None and (external, username) != tuple(before):
            self._db.execute(
                "UPDATE resources SET external_id = ?, username = ? WHERE id = ?", (external, username, resource_id)
            )
            self._refresh_login(resource_id)

    def _names(self, kind: str, resource_id: str) -> tuple | None:
        """A login's (external id, user name) as journaled; None for other kinds."""
        if kind not in LOGIN_KINDS:
            return None
        return self._db.execute("SELECT external_id, username FROM resources WHERE id = ?", (resource_id,)).fetchone()

    def _prompt(self, kind, resource_id, data, prompt: dict[str, Any], seen: _Seen, now: float) -> None:
        fields = [f for f in prompt.get("fields") or [] if isinstance(f, dict)]
        names = ",".join(str(f.get("name")) for f in fields)
        cursor = self._db.execute(
            """INSERT INTO interactions(resource_kind, resource_id, source_id, task_id, type, message, field_names,
                   field_types, attempts_remaining, expires_at, shown_at, outcome)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
            (
                kind,
                resource_id,
                data.get("source_id"),
                data.get("task_id"),
                prompt.get("type"),
                prompt.get("message"),
                names,
                ",".join(str(f.get("type")) for f in fields),
                prompt.get("attempts_remaining"),
                ts(prompt.get("expires_at")),
                now,
                outcomes.PENDING,
            ),
        )
        seen.prompt, seen.pending_row, seen.answered = prompt, cursor.lastrowid, False
        seen.types.append(str(prompt.get("type")))
        self._timeline(
            now,
            "interaction",
            kind,
            resource_id,
            "interaction_required",
            {"type": prompt.get("type"), "fields": names.split(",") if names else []},
        )
        self._db.execute(
            "UPDATE resources SET interactions = interactions + 1, interaction_types = ? WHERE id = ?",
            (",".join(seen.types), resource_id),
        )

    def _judge_pending(self, seen: _Seen, data: dict[str, Any], now: float) -> None:
        if seen.pending_row is None or seen.prompt is None:
            return
        verdict = outcomes.settle(seen.prompt, seen.answered, data)
        if verdict is not None:
            self._db.execute(
                "UPDATE interactions SET outcome = ?, closed_at = ? WHERE row = ?", (verdict, now, seen.pending_row)
            )
            seen.pending_row, seen.answered = None, False

    def _close_prompt(self, resource_id: str, outcome: str) -> None:
        seen = self._state(resource_id)
        if seen.pending_row is not None:
            self._db.execute(
                "UPDATE interactions SET outcome = ?, closed_at = ? WHERE row = ?",
                (outcome, time.time(), seen.pending_row),
            )
            seen.pending_row = None

    def _link(self, run_id, session_id, credential_id, position, data: dict[str, Any], now: float) -> None:
        """Place a run in its session and credential, and give both a row: a session is often known
        only from its runs (Deck lists no sessions), a credential from the runs that use it."""
        self._db.execute(
            """INSERT INTO run_links(run_id, session_id, credential_id, position) VALUES (?,?,?,?)
               ON CONFLICT(run_id) DO UPDATE SET session_id=coalesce(excluded.session_id, session_id),
                   credential_id=coalesce(excluded.credential_id, credential_id),
                   position=coalesce(excluded.position, position)""",
            (run_id, session_id, credential_id, position),
        )
        if session_id is not None:  # a session's runs share its credential, whichever run named it
            self._db.execute(
                """UPDATE run_links SET credential_id = (SELECT credential_id FROM run_links
                       WHERE session_id = ? AND credential_id IS NOT NULL LIMIT 1)
                   WHERE session_id = ? AND credential_id IS NULL""",
                (session_id, session_id),
            )
        placeholder = "INSERT OR IGNORE INTO resources(id, kind, source_id, created_at, first_seen, last_seen)"
        if session_id is not None and data.get("object") == "task_run":
            self._db.execute(
                placeholder + " VALUES (?,'session',NULL,?,?,?)", (session_id, ts(data.get("created_at")), now, now)
            )
        if credential_id is not None:
            source = as_text(data.get("source_id")) if data.get("object") == "task_run" else None
            self._db.execute(placeholder + " VALUES (?,'credential',?,NULL,?,?)", (credential_id, source, now, now))

    def _error(
        self,
        origin,
        kind,
        resource_id,
        type_,
        code,
        field_,
        message,
        status_code,
        request_id,
        method,
        path,
        at: float | None = None,
    ) -> None:
        now = at if at is not None else time.time()
        self._db.execute(
            """INSERT INTO errors(at, origin, resource_kind, resource_id, type, code, field, message, status_code,
                   request_id, method, path) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
            (now, origin, kind, resource_id, type_, code, field_, message, status_code, request_id, method, path),
        )
        self._timeline(
            now,
            "error",
            kind,
            resource_id,
            None,
            {"origin": origin, "type": type_, "code": code, "field": field_, "status_code": status_code},
        )

    def _timeline(self, at: float, kind: str, resource_kind, resource_id, status, detail: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT INTO timeline(at, kind, resource_kind, resource_id, status, detail) VALUES (?,?,?,?,?,?)",
            (at, kind, resource_kind, resource_id, status, json.dumps(detail, default=str)),
        )

    def _state(self, resource_id: str) -> _Seen:
        seen = self._seen.get(resource_id)
        if seen is None:
            seen = self._seen[resource_id] = self._load_state(resource_id)
        return seen

    def _load_state(self, resource_id: str) -> _Seen:
        row = self._db.execute(
            "SELECT status, interaction_types, updated_at FROM resources WHERE id = ?", (resource_id,)
        ).fetchone()
        if row is None:
            return _Seen()
        seen = _Seen(status=row[0], types=[t for t in (row[1] or "").split(",") if t], updated=row[2])
        pending = self._db.execute(
            "SELECT row, type, field_names, answered_at FROM interactions WHERE resource_id = ? AND outcome = ? "
            "ORDER BY row DESC LIMIT 1",
            (resource_id, outcomes.PENDING),
        ).fetchone()
        if pending is not None:
            seen.pending_row, seen.answered = pending[0], pending[3] is not None
            seen.prompt = {"type": pending[1], "fields": [{"name": n} for n in (pending[2] or "").split(",") if n]}
        return seen
