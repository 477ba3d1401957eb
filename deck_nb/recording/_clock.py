"""Virtual time for a replay: sleeps take no wall time, ``now()`` reads as at recording time.

A sleeper moves the clock on to the earliest wake-up any sleeper asked for, after letting the other
ready tasks run once, so twenty runs polling side by side advance time as they did together, not
one after the other.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta

from deck_nb._clock import RealClock


class VirtualClock(RealClock):
    virtual = True

    def __init__(self, wall_start: datetime) -> None:
        self._offset = 0.0
        self._real_start = time.monotonic()
        self._wall_start = wall_start
        self._pending: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def _advance_to(self, target: float) -> None:
        with self._lock:
            self._offset = max(self._offset, target - time.monotonic())

    def sleep(self, seconds: float) -> None:
        self._advance_to(self.monotonic() + max(0.0, seconds))
        time.sleep(0)

    async def async_sleep(self, seconds: float) -> None:
        target = self.monotonic() + max(0.0, seconds)
        with self._lock:
            self._pending.append(target)
        try:
            while self.monotonic() < target:
                await asyncio.sleep(0)
                with self._lock:
                    earliest = min(self._pending)
                self._advance_to(earliest)
        finally:
            with self._lock:
                self._pending.remove(target)

    def now(self) -> datetime:
        return self._wall_start + timedelta(seconds=self.monotonic() - self._real_start)
