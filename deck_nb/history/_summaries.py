"""The rows of the ``runs`` and ``connections`` frames, kept current in memory as records arrive
(loaded once from the file), so reading a frame is no query per row. The caller holds the
journal's lock."""

from __future__ import annotations

import sqlite3

from ._schema import FRAMES, SUMMARIES


class Summaries:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._rows: dict[str, dict[str, tuple]] = {}
        self._by_kind: dict[str, tuple[str, str]] = {}
        self._stale: dict[str, str] = {}  # id → kind of summary rows to re-read at the next read
        for name, kind in SUMMARIES.items():
            rows = db.execute(FRAMES[name].query).fetchall()
            self._rows[name] = {row[0]: row for row in rows}
            self._by_kind[kind] = (name, FRAMES[name].select("r.id = ?"))

    def rows(self, name: str) -> list[tuple]:
        """The rows of the ``runs`` or ``connections`` frame, the stale ones re-read first."""
        stale, self._stale = self._stale, {}
        for resource_id, kind in stale.items():
            self._read(kind, resource_id)
        return list(self._rows[name].values())

    def refresh(self, kind: str, resource_id: str) -> None:
        """A new resource's row is read now (rows keep the order resources were first journaled); a
        known one's is re-read at the next ``rows``: one SELECT per read, not one per record."""
        if kind not in self._by_kind:
            return
        if resource_id in self._rows[self._by_kind[kind][0]]:
            self._stale[resource_id] = kind
        else:
            self._read(kind, resource_id)

    def refresh_login(self, login_id: str) -> None:
        """A login's account names changed: its runs' rows name the account too."""
        self.refresh(self._kind_of(login_id), login_id)
        runs = self._db.execute(
            "SELECT id FROM resources WHERE kind = 'task_run' AND (connection_id = ? OR credential_id = ?)",
            (login_id, login_id),
        ).fetchall()
        for (run_id,) in runs:
            self.refresh("task_run", run_id)

    def _read(self, kind: str, resource_id: str) -> None:
        name, select = self._by_kind[kind]
        row = self._db.execute(select, (resource_id,)).fetchone()
        if row is not None:
            self._rows[name][resource_id] = row

    def _kind_of(self, resource_id: str) -> str:
        row = self._db.execute("SELECT kind FROM resources WHERE id = ?", (resource_id,)).fetchone()
        return row[0] if row else ""
