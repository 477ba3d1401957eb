"""What both shells share about waiting: the bound of one wait (``Deadline``) and whether this
thread runs an event loop."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from deck_nb._clock_hints import hint_for
from deck_nb.client import WaitTimeout
from deck_nb.history._categories import ANY_STATUS


class Deadline:
    """The bound of one ``wait``: the whole job (asks and submissions included), not each call."""

    def __init__(self, timeout: float | None) -> None:
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)):
            raise TypeError(f"timeout must be a number of seconds ≥ 0 or None, not {type(timeout).__name__}")
        if timeout is not None and (timeout != timeout or timeout < 0):
            raise ValueError(f"timeout must be a number of seconds ≥ 0 or None, not {timeout!r}")
        self.timeout = timeout
        self.at = None if timeout is None else time.monotonic() + timeout

    def remaining(self) -> float | None:
        return remaining(self.at)

    def expired_error(self, job: Any) -> WaitTimeout:
        what = f"{job.kind.replace('_', ' ')} {job.id or job.card.title}"
        hint = hint_for(getattr(job._deck, "base_url", None))
        unknown = job.resource is not None and job.status not in ANY_STATUS  # a newer Deck's, or a hand edit
        seen = f"`{job.status}`" + (", a status deck_nb does not know, so not taken for an end" if unknown else "")
        return WaitTimeout(
            f"{what} did not finish within {round(self.timeout, 2):g} s (last seen {seen}); "
            + (f"{hint}, then wait again" if hint else "wait again (`await job` or job.wait()) to resume it")
        )

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def check(self, job: Any) -> None:
        if self.expired():
            raise self.expired_error(job)


def remaining(deadline: float | None) -> float | None:
    """Seconds left before ``deadline`` (a monotonic time), or None for no deadline."""
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def loop_running() -> bool:
    """Whether this thread runs an event loop (a kernel cell, or inside ``asyncio.run``)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
