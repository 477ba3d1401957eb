"""One logical API call, as data: what the resources build, the shells send and a call in flight
reads. It stands below the core (``_core``) and the flight (``_flight``) so both can name it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    """One logical API call; retries reuse it (and its idempotency key) unchanged."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    cast: Callable[[Any], Any] | None = None
    idempotency_key: str | None = None
    submission: tuple[str, str, tuple[str, ...]] | None = None  # (kind, id, field names) — never values
    observe: bool = True  # False for the client's own probes (API detection): observers hear only user calls

    def describe(self) -> str:
        path = self.path if len(self.path) <= 120 else self.path[:119] + "…"
        return f"{self.method} {path}"
