"""What changed about a resource, recorded: a status change, a prompt shown and how it ended, an
answer sent, a login's account names, a terminal result with its errors. The journal (``journal``)
hears the client and hands each resource here; the caller holds its lock and its transaction."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from . import _rows as rows
from . import outcomes
from ._objects import LOGIN_KINDS, TERMINAL, as_int, as_text, finished_at, links_of, ts, username_in
from ._seen import Seen, SeenStates
from ._summaries import Summaries

# when a credential reached these statuses (Deck sends no dedicated timestamp: its last update then)
_STATUS_TIMES = {"verified": "verified_at", "invalid": "invalid_at"}

_UPSERT = """INSERT INTO resources(id, kind, source_id, task_id, connection_id, credential_id, session_id,
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
       username=coalesce(excluded.username, username)"""


class Recorder:
    def __init__(self, db: sqlite3.Connection, summaries: Summaries) -> None:
        self._db = db
        self._summaries = summaries
        self.seen = SeenStates(db)

    def apply(self, data: dict[str, Any], now: float) -> None:
        """Record one resource as the API answered it (a dict from ``resources_in``)."""
        kind, resource_id = data["object"], data["id"]
        for link in links_of(data):
            rows.link(self._db, *link, data, now)
        status = data.get("status")
        prompt = data.get("interaction") if status == "interaction_required" else None
        updated = ts(data.get("updated_at"))
        seen = self.seen[resource_id]
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
        self._summaries.refresh(kind, resource_id)

    def submission(self, kind: str, id: str, field_names: tuple[str, ...], error: Any) -> None:
        """An answer sent: field names and outcome, never values."""
        now = time.time()
        outcome = "sent" if error is None else getattr(error, "code", None) or type(error).__name__
        rows.timeline(self._db, now, "answer", kind, id, None, {"fields": list(field_names), "outcome": outcome})
        seen = self.seen[id]
        if seen.pending_row is not None:  # a refused answer counts as a submission, not as the answer
            self._db.execute(
                "UPDATE interactions SET submissions = submissions + 1, answered_at = coalesce(?, answered_at)"
                " WHERE row = ?",
                (now if error is None else None, seen.pending_row),
            )
        if error is None:
            seen.answered = True
            self._db.execute("UPDATE resources SET attempts = attempts + 1 WHERE id = ?", (id,))
            self._summaries.refresh(kind, id)

    def name_logins(self, logins: list[str], username: str) -> None:
        """The user name the logins were created with (the request's; never its password)."""
        for login in logins:
            self._db.execute("UPDATE resources SET username = ? WHERE id = ?", (username, login))
            self._summaries.refresh_login(login)

    def close_prompt(self, resource_id: str, outcome: str) -> None:
        seen = self.seen[resource_id]
        if seen.pending_row is not None:
            self._db.execute(
                "UPDATE interactions SET outcome = ?, closed_at = ? WHERE row = ?",
                (outcome, time.time(), seen.pending_row),
            )
            seen.pending_row = None

    def _record(self, kind, resource_id, data, status, prompt, seen: Seen, now: float) -> None:
        if status != seen.status:
            rows.timeline(self._db, now, "status", kind, resource_id, status, {"from": seen.status})
        self._judge_pending(seen, data, now)
        if prompt is not None and not outcomes.shown_again(prompt, seen.prompt):
            self._prompt(kind, resource_id, data, prompt, seen, now)
        errors = [e for e in data.get("errors") or [] if isinstance(e, dict)]
        if status in TERMINAL[kind] and status != seen.status:
            for e in errors:
                rows.error(
                    self._db,
                    "resource",
                    kind,
                    resource_id,
                    e.get("type"),
                    e.get("code"),
                    e.get("field"),
                    e.get("message"),
                    at=now,
                )
            rows.timeline(self._db, now, "result", kind, resource_id, status, {"result": data.get("result")})
        first = errors[0] if errors else {}
        became = {column: None for column in _STATUS_TIMES.values()}
        if kind == "credential" and status in _STATUS_TIMES and status != seen.status:
            became[_STATUS_TIMES[status]] = ts(data.get(_STATUS_TIMES[status]) or data.get("updated_at")) or now
        session_credential = next((c for _, _, c, _ in links_of(data) if c), None)
        username = username_in(data)
        names = self._names(kind, resource_id)
        self._db.execute(
            _UPSERT,
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
            self._summaries.refresh_login(resource_id)

    def _rename(self, kind: str, resource_id: str, data: dict[str, Any]) -> None:
        """A login whose external id (or user name) changed without a status change (a PATCH)."""
        before = self._names(kind, resource_id)
        external = as_text(data.get("external_id")) if "external_id" in data else before and before[0]
        username = username_in(data) or (before and before[1])
        if before is not None and (external, username) != tuple(before):
            self._db.execute(
                "UPDATE resources SET external_id = ?, username = ? WHERE id = ?", (external, username, resource_id)
            )
            self._summaries.refresh_login(resource_id)

    def _names(self, kind: str, resource_id: str) -> tuple | None:
        """A login's (external id, user name) as journaled; None for other kinds."""
        if kind not in LOGIN_KINDS:
            return None
        return self._db.execute("SELECT external_id, username FROM resources WHERE id = ?", (resource_id,)).fetchone()

    def _prompt(self, kind, resource_id, data, prompt: dict[str, Any], seen: Seen, now: float) -> None:
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
        rows.timeline(
            self._db,
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

    def _judge_pending(self, seen: Seen, data: dict[str, Any], now: float) -> None:
        if seen.pending_row is None or seen.prompt is None:
            return
        verdict = outcomes.settle(seen.prompt, seen.answered, data)
        if verdict is not None:
            self._db.execute(
                "UPDATE interactions SET outcome = ?, closed_at = ? WHERE row = ?", (verdict, now, seen.pending_row)
            )
            seen.pending_row, seen.answered = None, False
