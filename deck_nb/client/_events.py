"""Following Deck's event feed: many runs watched with one request per tick, not one per run.

The feed dedupes by event id (delivery is at-least-once) and keeps a cursor on ``created_at``; the
webhook receiver pushes into the same feed, so a job cannot tell where an event came from.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._models import Event

SEEN_MEMORY = 50_000


class EventFeed:
    """A cursor over Deck's event log that yields each event once, in order (polls and webhooks alike)."""

    def __init__(self, types: list[str] | None = None, since: datetime | None = None) -> None:
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware (e.g. datetime.now(timezone.utc))")
        self.types = types
        self.since = since
        self._floor = since  # the caller's bound is exclusive: events strictly after it
        self._seen: OrderedDict[str, None] = OrderedDict()

    def params(self) -> dict[str, Any]:
        """Query for the next poll: from one microsecond before the newest seen event (ties included)."""
        params: dict[str, Any] = {"limit": 100}
        if self.since is not None:
            params["created_after"] = (self.since - timedelta(microseconds=1)).isoformat().replace("+00:00", "Z")
        if self.types and len(self.types) == 1:
            params["type"] = self.types[0]
        return params

    def accept(self, events: list[Event]) -> list[Event]:
        """Keep the events not seen before (in created_at order); advance the cursor."""
        fresh = []
        for event in sorted(events, key=lambda e: e.created_at.timestamp() if e.created_at else 0.0):
            if event.id in self._seen:
                continue
            stamp = event.created_at
            if self._floor is not None and stamp is not None and stamp.tzinfo and stamp <= self._floor:
                continue
            self._seen[event.id] = None
            if len(self._seen) > SEEN_MEMORY:
                self._seen.popitem(last=False)
            if stamp is not None and stamp.tzinfo is not None and (self.since is None or stamp > self.since):
                self.since = stamp
            if self.types and not any(_matches(p, event.type) for p in self.types):
                continue
            fresh.append(event)
        return fresh


def _matches(pattern: str, event_type: str) -> bool:
    if pattern in ("*", event_type):
        return True
    return pattern.endswith(".*") and event_type.startswith(pattern[:-1])
