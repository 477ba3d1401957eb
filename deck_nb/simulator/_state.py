"""The world's shared bookkeeping: stores, creation order, the event log, status changes, timers.

All state lives on the server's event loop thread, so each handler and timer runs to completion
without interleaving: two racing submissions can never both be accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._clock import Clock
from ._errors import not_found
from ._models import Connection, Credential, Session, TaskRun, iso, micros, new_id

APIS = ("both", "connections", "credentials")

# The live service spells the status `cancelling` and its event `task_run.canceling`.
EVENT_SPELLING = {"task_run.cancelling": "task_run.canceling"}


class WorldCore:
    """Everything the simulator knows; mutated only from the server's loop."""

    def __init__(
        self,
        clock: Clock,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        *,
        api: str = "both",
        session_limit: int | None = 25,
    ) -> None:
        if api not in APIS:
            raise ValueError(f"api must be one of {', '.join(APIS)}, not {api!r}")
        self.clock = clock
        self.on_event = on_event
        self.api = api
        self.session_limit = session_limit
        self.reset()

    def serves(self, api: str) -> bool:
        """Whether the seed's API (``connections``) or the current one (``credentials``) is served."""
        return self.api in ("both", api)

    def reset(self) -> None:
        self._seq = 0
        self.connections: dict[str, Connection] = {}
        self.runs: dict[str, TaskRun] = {}
        self.credentials: dict[str, Credential] = {}
        self.sessions: dict[str, Session] = {}
        self.events: list[dict[str, Any]] = []
        self.events_by_id: dict[str, dict[str, Any]] = {}
        self.destinations: dict[str, dict[str, Any]] = {}
        self.destination_seq: dict[str, int] = {}

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- events and status -------------------------------------------------------------------

    def _emit(self, event_type: str, data: dict[str, Any]) -> None:
        now = self.clock.now()
        event = {
            "id": new_id("evt"),
            "object": "event",
            "type": EVENT_SPELLING.get(event_type, event_type),
            "data": data,
            "created_at": iso(now),
            "_seq": self.next_seq(),
            "_micros": micros(now),
        }
        self.events.append(event)
        self.events_by_id[event["id"]] = event
        if self.on_event:
            self.on_event(event)

    def _set_status(self, resource: Any, status: str, event: str | None = None) -> None:
        """Change a status at the current instant and log it as ``<kind>.<status>`` (or ``event``)."""
        resource.status = status
        resource.updated = self.clock.now()
        self._emit(event or f"{resource.kind}.{status}", resource.public())

    # -- timers ------------------------------------------------------------------------------

    def _after(self, resource: Any, seconds: float, action: Callable[[], None]) -> None:
        """Replace ``resource``'s pending milestone with ``action``, ``seconds`` (unscaled) from now."""
        if resource.timer:
            resource.timer.cancel()
        resource.timer = self.clock.call_later(self.clock.scaled(seconds), action)

    def _stop_timers(self, resource: Any) -> None:
        for name in ("timer", "window"):
            timer = getattr(resource, name, None)
            if timer:
                timer.cancel()
            if hasattr(resource, name):
                setattr(resource, name, None)

    # -- lookups -----------------------------------------------------------------------------

    def get_connection(self, id_: str) -> Connection:
        conn = self.connections.get(id_)
        if conn is None:
            raise not_found("connection", id_)
        return conn

    def get_run(self, id_: str) -> TaskRun:
        run = self.runs.get(id_)
        if run is None:
            raise not_found("task_run", id_)
        return run

    def get_credential(self, id_: str) -> Credential:
        cred = self.credentials.get(id_)
        if cred is None:
            raise not_found("credential", id_)
        return cred

    def get_session(self, id_: str) -> Session:
        session = self.sessions.get(id_)
        if session is None:
            raise not_found("session", id_)
        return session
