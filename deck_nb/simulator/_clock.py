"""The simulator's sense of time: a real or manual clock plus a timer queue.

Every state change the simulator makes happens "at an instant". Timers fire in due order, each at
its own instant, so a manual ``advance(30)`` produces the same timeline a real 30 s would.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(order=True)
class Timer:
    due: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """Wall clock (``real``) or a clock that only moves when told (``manual``)."""

    def __init__(self, mode: str = "real", time_scale: float = 1.0) -> None:
        if mode not in ("real", "manual"):
            raise ValueError(f"clock must be 'real' or 'manual', not {mode!r}")
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, not {time_scale!r}")
        self.mode = mode
        self.time_scale = float(time_scale)
        self._manual_now = time.time()
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self._instant: float | None = None

    @property
    def manual(self) -> bool:
        return self.mode == "manual"

    def read(self) -> float:
        """The clock's current reading (ignores the instant of a firing timer)."""
        return self._manual_now if self.manual else time.time()

    def now(self) -> float:
        """The instant at which the current state change happens."""
        return self._instant if self._instant is not None else self.read()

    def scaled(self, seconds: float) -> float:
        return seconds * self.time_scale

    def call_later(self, seconds: float, callback: Callable[[], None]) -> Timer:
        """Schedule ``callback`` ``seconds`` (already scaled) after the current instant."""
        timer = Timer(self.now() + seconds, next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def run_due(self) -> int:
        """Fire every timer due by the clock's reading, in order, each at its own instant."""
        return self._fire_until(self.read())

    def advance(self, seconds: float) -> float:
        """Move a manual clock forward, firing what falls due on the way."""
        if not self.manual:
            raise RuntimeError("only a manual clock can be advanced")
        if seconds < 0:
            raise ValueError("cannot move the clock backwards")
        target = self._manual_now + seconds
        self._fire_until(target)
        self._manual_now = target
        return target

    def clear_timers(self) -> None:
        self._timers.clear()

    def next_due(self) -> float | None:
        self._drop_cancelled()
        return self._timers[0].due if self._timers else None

    def _drop_cancelled(self) -> None:
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)

    def _fire_until(self, until: float) -> int:
        fired = 0
        while True:
            self._drop_cancelled()
            if not self._timers or self._timers[0].due > until:
                return fired
            timer = heapq.heappop(self._timers)
            self._instant = timer.due
            if self.manual:
                self._manual_now = max(self._manual_now, timer.due)
            try:
                timer.callback()
            finally:
                self._instant = None
            fired += 1
