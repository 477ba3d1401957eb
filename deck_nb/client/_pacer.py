"""Client-side pacing under Deck's organization rate limit (200 requests per 10 s).

The server counts a request when it arrives; the client cannot see arrivals, but it knows each
arrival came no later than the answer. So a send is allowed while (requests in flight) + (requests
answered within the last window) stays under the limit: conservative, whatever the queueing in
the connection pool. The decision is shared; a sync or async shell does the sleeping.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque

SAFETY_S = 0.05
IDLE_POLL_S = 0.02


class Pacer:
    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("rate limit must be at least 1 request per positive window")
        self.limit = limit
        self.window = window + SAFETY_S
        self._answered: deque[float] = deque()
        self._in_flight = 0
        self._blocked_until = 0.0
        self._lock = threading.Lock()
        self.waits = 0

    def _try_acquire(self) -> float:
        """Take a slot and answer 0, or answer how long to wait before asking again."""
        with self._lock:
            now = time.monotonic()
            if now < self._blocked_until:
                return self._blocked_until - now
            while self._answered and self._answered[0] <= now - self.window:
                self._answered.popleft()
            if self._in_flight + len(self._answered) < self.limit:
                self._in_flight += 1
                return 0.0
            if self._answered and self._in_flight < self.limit:
                return max(IDLE_POLL_S, self._answered[0] + self.window - now)
            return IDLE_POLL_S

    def release(self) -> None:
        """The request was answered (or failed): it now counts from this instant."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            self._answered.append(time.monotonic())

    def block_for(self, seconds: float) -> None:
        """The server said 429: hold every later send until it says we may go on."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)

    def acquire(self) -> None:
        while (delay := self._try_acquire()) > 0:
            self.waits += 1
            time.sleep(delay)

    async def acquire_async(self) -> None:
        while (delay := self._try_acquire()) > 0:
            self.waits += 1
            await asyncio.sleep(delay)
