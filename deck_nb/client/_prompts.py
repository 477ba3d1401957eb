"""What prompt each connection or run showed last, so that a submission whose answer was lost is resent
only to the prompt it was meant for.

A submission's response can be lost after Deck handled it (a 500 or a dropped connection). Resending
it blindly can answer the *next* prompt — a wrong code retried onto the follow-up challenge uses up a
second attempt. The client therefore remembers, from every object it reads (resources, pages, events),
a fingerprint of each resource's state; before a resend it reads the resource again and resends only if
the fingerprint is unchanged (the same prompt is still open).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

Fingerprint = tuple[Any, ...]
_MAX_REMEMBERED = 4096


def _when(raw: Any) -> datetime | str | None:
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            return raw
    return None


def fingerprint(resource: dict[str, Any]) -> Fingerprint:
    """The state a submission answers: status, last update and the open interaction (values unseen)."""
    interaction = resource.get("interaction")
    prompt = json.dumps(interaction, sort_keys=True, default=str) if interaction is not None else None
    return resource.get("status"), _when(resource.get("updated_at")), prompt


class PromptMemory:
    """A bounded map of resource id → fingerprint of the newest state seen (thread-safe)."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, Fingerprint] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, resource_id: str) -> Fingerprint | None:
        with self._lock:
            return self._seen.get(resource_id)

    def remember(self, body: Any) -> None:
        """Note every connection or run in a response body: an object, a page, or events carrying one."""
        if not isinstance(body, dict):
            return
        items = body.get("data") if isinstance(body.get("data"), list) else [body]
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("data"), dict):
                item = item["data"]  # an event carries the object it is about
            if isinstance(item, dict) and isinstance(item.get("id"), str) and "status" in item:
                self._note(item["id"], fingerprint(item))

    def _note(self, resource_id: str, seen: Fingerprint) -> None:
        with self._lock:
            known = self._seen.get(resource_id)
            if known is not None and _older(seen[1], known[1]):
                return  # events may arrive newest first: never step back to an older state
            self._seen[resource_id] = seen
            self._seen.move_to_end(resource_id)
            while len(self._seen) > _MAX_REMEMBERED:
                self._seen.popitem(last=False)


def _older(a: Any, b: Any) -> bool:
    try:
        return isinstance(a, datetime) and isinstance(b, datetime) and a < b
    except TypeError:  # naive against aware: cannot tell, so not older
        return False
