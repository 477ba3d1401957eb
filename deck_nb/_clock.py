"""The one clock deck_nb's waits read: ``monotonic``, ``sleep``, ``async_sleep`` and ``now``.

Normally the real clock. A replay (``deck_nb.recording``) swaps in a virtual one, so poll
intervals, ``Retry-After`` pauses and interaction countdowns take no wall time and ``now()`` reads
as it did when the session was recorded. Bottom layer: imports nothing from deck_nb.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime


class RealClock:
    """Wall time, as the standard library gives it."""

    virtual = False

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))

    async def async_sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def now(self) -> datetime:
        return datetime.now(UTC)


_current: RealClock = RealClock()


def current() -> RealClock:
    """The clock in use (``.virtual`` is True during a replay)."""
    return _current


def use(clock: RealClock | None) -> RealClock:
    """Make ``clock`` the process's clock (None: the real one); returns the previous one."""
    global _current
    previous, _current = _current, clock or RealClock()
    return previous


def monotonic() -> float:
    return _current.monotonic()


def sleep(seconds: float) -> None:
    _current.sleep(seconds)


async def async_sleep(seconds: float) -> None:
    await _current.async_sleep(seconds)


def now() -> datetime:
    return _current.now()
