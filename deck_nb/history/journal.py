"""The journal: every status change, interaction shown, answer submitted (field names and outcome,
never values), API error and final result the client observes, written as it happens.

SQLite (stdlib) in WAL mode: each record is committed before the call that produced it returns, so
a killed kernel loses nothing it had shown. Summary tables (one row per resource, interaction and
error) are kept up to date as records arrive, so frames are a plain SELECT away.

This module hears the client (the ``Observer`` hooks) and answers reads; the file is opened in
``_store``, what changed about a resource is recorded by ``_recorder`` (its plain rows in ``_rows``,
what was last known in ``_seen``), and the frames' rows kept current in ``_summaries``."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from deck_nb.client import APIError, DeckError, Observer

from . import _rows as rows
from . import outcomes
from ._files import files_in, record_files, record_saved
from ._objects import LOGIN_KINDS, resources_in, username_sent
from ._recorder import Recorder
from ._store import open_store, transaction
from ._summaries import Summaries

_PATH_KINDS = {"connections": "connection", "task-runs": "task_run", "credentials": "credential", "sessions": "session"}
_PATH_ID = re.compile(r"^/(connections|task-runs|credentials|sessions)/([^/?]+)")


class Journal(Observer):
    """Observer of a client; ``Journal(path)`` persists to SQLite, ``Journal()`` keeps it in memory."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._db = open_store(self.path)
        self._lock = threading.RLock()
        self._summaries = Summaries(self._db)
        self._recorder = Recorder(self._db, self._summaries)

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "memory"
        return f"<Journal {where}: {self.count('resources')} resources, {self.count('timeline')} records>"

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """This thread alone, in one transaction."""
        with self._lock, transaction(self._db):
            yield

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
            return self._summaries.rows(name)

    def close(self) -> None:
        """Close the file (every record is already committed)."""
        with self._lock:
            self._db.close()

    # -- Observer hooks ----------------------------------------------------------------------

    def on_object(self, obj: Any, call: Any = None) -> None:
        """Journal the resources in whatever a call answered (others are skipped), a page's in one go,
        the storage items it listed, and the user name a login was created with (the request's
        ``auth_credentials.username``; never its password)."""
        self.record([obj])  # the storage items it lists too
        username = username_sent(call)
        logins = [d["id"] for d in resources_in(obj) if d["object"] in LOGIN_KINDS] if username is not None else []
        if logins:
            with self._writing():
                self._recorder.name_logins(logins, username)

    def on_files_saved(self, saved: list[Any]) -> None:
        """Journal where downloaded files were saved, and their sha256 (never a URL): one
        transaction for a whole batch of ``dn.download``."""
        with self._writing():
            record_saved(self._db, saved, time.time())

    def on_error(self, error: DeckError, call: Any = None) -> None:
        """Journal an error, on the resource its path names."""
        path = getattr(call, "path", None) or getattr(error, "path", None) or ""
        match = _PATH_ID.match(path)
        kind = _PATH_KINDS.get(match.group(1)) if match else None
        resource_id = match.group(2) if match else None
        origin = "api" if isinstance(error, APIError) and error.status_code else "client"
        with self._writing():
            rows.error(
                self._db,
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
                self._recorder.close_prompt(resource_id, outcomes.TIMED_OUT)

    def on_submission(self, kind: str, id: str, field_names: tuple[str, ...], error: Any) -> None:
        """Journal an answer sent: field names and outcome, never values."""
        with self._writing():
            self._recorder.submission(kind, id, field_names, error)

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
        with self._writing():
            for obj in objects:
                for data in resources_in(obj):
                    self._recorder.apply(data, now)
                    seen += 1
                record_files(self._db, files_in(obj), now)
        return seen
