"""The seed's connections: opening one logs in at once, through the shared interaction logic."""

from __future__ import annotations

from typing import Any

from . import _catalog as catalog
from ._dialogue import ACCEPTED, RETRY, Dialogue
from ._errors import ApiError, invalid, missing
from ._models import Connection, Prompt, new_id

CONNECTING_S = 2.0  # the agent types into the portal and reads what it answers


def auth_failure(code: str) -> dict[str, Any]:
    return {"type": catalog.FAILURE_CODES[code], "code": code, "message": catalog.FAILURE_MESSAGES[code]}


def source_of(source_id: Any) -> catalog.SourceSpec:
    """The catalog source named by a body's ``source_id`` (400 when absent or not a string, else 404)."""
    if not source_id:
        raise missing("source_id")
    if not isinstance(source_id, str):
        raise invalid("source_id", "`source_id` must be a string.")
    source = catalog.SOURCES.get(source_id)
    if source is None:
        raise ApiError(404, "source", "source_not_found", f"No source with id `{source_id}`.")
    return source


def check_external_id(body: dict[str, Any]) -> str | None:
    external_id = body.get("external_id")
    if external_id is not None and (not isinstance(external_id, str) or len(external_id) > 255):
        raise invalid("external_id", "`external_id` must be a string of at most 255 characters.")
    return external_id


class Connections(Dialogue):
    def create_connection(self, body: dict[str, Any]) -> Connection:
        source = source_of(body.get("source_id"))
        method = body.get("auth_method", "username_password")
        if method != "username_password":
            raise invalid("auth_method", "`auth_method` must be `username_password`.")
        creds = body.get("auth_credentials")
        if not isinstance(creds, dict):
            raise missing("auth_credentials")
        for key in ("username", "password"):
            if not creds.get(key):
                raise missing(f"auth_credentials.{key}")
            if not isinstance(creds[key], str):
                raise invalid(f"auth_credentials.{key}", f"`auth_credentials.{key}` must be a string.")
        external_id = check_external_id(body)
        now = self.clock.now()
        conn = Connection(
            id=new_id("conn"),
            seq=self.next_seq(),
            created=now,
            updated=now,
            status="connecting",
            source_id=source.id,
            external_id=external_id,
            username=creds["username"],
            password=creds["password"],
            pending=list(source.login),
        )
        self.connections[conn.id] = conn
        self._emit("connection.connecting", conn.public())
        self._after(conn, CONNECTING_S, lambda: self._conn_login_step(conn))
        return conn

    def _conn_login_step(self, conn: Connection) -> None:
        conn.timer = None
        if conn.password == catalog.BAD_PASSWORD:
            self._conn_invalid(conn)
        elif conn.pending:
            self._ask(conn, self._prompt(conn.pending[0], conn.username), lambda: self._conn_timeout(conn))
        else:
            self._set_status(conn, "connected")

    def _conn_invalid(self, conn: Connection) -> None:
        conn.interaction = None
        conn.errors = [auth_failure("auth_invalid")]
        self._set_status(conn, "invalid")

    def _conn_timeout(self, conn: Connection) -> None:
        self._stop_timers(conn)
        conn.timed_out = True
        conn.interaction = None
        conn.errors = [auth_failure("interaction_timeout")]
        self._set_status(conn, "disconnected")

    def submit_connection(self, id_: str, inputs: Any) -> Connection:
        conn = self.get_connection(id_)
        prompt = self._take_answer(conn, inputs, "connecting")
        self._after(conn, CONNECTING_S, lambda: self._conn_verdict(conn, prompt, inputs))
        return conn

    def _conn_verdict(self, conn: Connection, prompt: Prompt, inputs: dict[str, Any]) -> None:
        conn.timer = None
        verdict = self._judge(prompt, inputs, conn.username)
        if verdict == ACCEPTED:
            conn.pending.pop(0)
            conn.prompt = None
            self._conn_login_step(conn)
        elif verdict == RETRY:
            self._ask(conn, prompt, lambda: self._conn_timeout(conn))
        else:
            self._conn_invalid(conn)

    def disconnect(self, id_: str) -> Connection:
        conn = self.get_connection(id_)
        if conn.status in ("disconnected", "invalid"):
            return conn
        self._stop_timers(conn)
        conn.interaction = None
        self._set_status(conn, "disconnected")
        return conn
