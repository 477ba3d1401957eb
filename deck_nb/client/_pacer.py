"""Client-side pacing under Deck's organization rate limit (200 requests per 10 s).

The server counts a request when it arrives; the client cannot see arrivals, but it knows each
arrival came no later than the answer. So a send is allowed while (requests in flight) + (requests
answered within the last window) stays under the limit: conservative, whatever the queueing in
the connection pool. The decision is shared; a sync or async shell does the sleeping.

A window is also spread over its tenths (at most ~11 % of the limit per tenth): a pacer that lets a
whole window go in one burst starves every caller until that burst ages out — and, since the next
burst takes every slot that frees, keeps doing so, window after window (the event feed unanswered for
seconds, answers missing their windows). Spread, the steady rate is the same and waits are short.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from deck_nb import _clock

SAFETY_S = 0.05
IDLE_POLL_S = 0.02
TENTHS = 10  # the window is spread over this many parts...
SPREAD_SLACK = 1.1  # ...each allowed this share of its even part (the window's own limit still holds)


class Pacer:
    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("rate limit must be at least 1 request per positive window")
        self.limit = limit
        self.window = window + SAFETY_S
        self.part = self.window / TENTHS
        self.part_limit = max(1, math.ceil(limit * SPREAD_SLACK / TENTHS))
        self._answered: deque[float] = deque()
        self._sent: deque[float] = deque()  # when recent requests were sent: the spread counts these
        self._in_flight = 0
        self._blocked_until = 0.0
        self._lock = threading.Lock()
        self._ahead_waiting = 0  # requests of the lane ahead (the event feed) waiting for a slot
        self._queue: list[int] = []  # tickets of the other waiters, first come first served
        self._next_ticket = 0
        self.waits = 0

    @property
    def queued(self) -> int:
        """Callers waiting for a slot: the limit, not the callers, sets the pace right now."""
        return len(self._queue)

    def ahead(self) -> PacerLane:
        """The same pacer, ahead of the queue: for a request that serves every job (the event feed),
        which must not wait behind a hundred jobs' own requests when the limit is saturated."""
        return PacerLane(self)

    def _try_acquire(self, ticket: int | None) -> float:
        """Take a slot and answer 0, or answer how long to wait before asking again. Waiters are served
        in turn (``ticket`` None: the lane ahead), so no caller starves while others keep winning."""
        with self._lock:
            now = _clock.monotonic()
            if now < self._blocked_until:
                return self._blocked_until - now
            if ticket is not None:
                if self._ahead_waiting:
                    return IDLE_POLL_S  # the next free slot is the lane ahead's
                if position := bisect.bisect_left(self._queue, ticket):  # not before ~position slots free
                    return max(IDLE_POLL_S, position * self.window / self.limit / 2)
            while self._answered and self._answered[0] <= now - self.window:
                self._answered.popleft()
            # the spread counts sends, not answers: a slow answer must not hold a part of the window
            # (with in-flight requests counted there, a few slow ones capped the whole pace)
            while self._sent and self._sent[0] <= now - self.part:
                self._sent.popleft()
            whole = len(self._answered)
            if self._in_flight + whole < self.limit and len(self._sent) < self.part_limit:
                self._in_flight += 1
                self._sent.append(now)
                return 0.0
            if self._in_flight + whole >= self.limit:  # the window is full: until its oldest ages out
                frees_at = self._answered[0] + self.window if whole and self._in_flight < self.limit else 0.0
            else:  # this part of the window is full: until its first send leaves it
                frees_at = self._sent[0] + self.part
            return max(IDLE_POLL_S, frees_at - now)

    def release(self) -> None:
        """The request was answered (or failed): it now counts from this instant."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            self._answered.append(_clock.monotonic())

    def block_for(self, seconds: float) -> None:
        """The server said 429: hold every later send until it says we may go on."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, _clock.monotonic() + seconds)

    def acquire(self, ahead: bool = False) -> None:
        # a blocking wait on a thread that runs an event loop (a sync call inside a coroutine) would
        # stop the very coroutines queued before it: it must not wait for their turn, or it waits forever
        with self._waiting(ahead or _loop_runs_here()) as ticket:
            while (delay := self._try_acquire(ticket)) > 0:
                self.waits += 1
                _clock.sleep(min(delay, IDLE_POLL_S) if ahead else delay)

    async def acquire_async(self, ahead: bool = False) -> None:
        with self._waiting(ahead) as ticket:
            while (delay := self._try_acquire(ticket)) > 0:
                self.waits += 1
                await _clock.async_sleep(min(delay, IDLE_POLL_S) if ahead else delay)

    @contextmanager
    def _waiting(self, ahead: bool) -> Iterator[int | None]:
        """A place in the queue while the caller waits (left however the wait ends, cancelled too)."""
        with self._lock:
            if ahead:
                ticket = None
                self._ahead_waiting += 1
            else:
                ticket = self._next_ticket
                self._next_ticket += 1
                self._queue.append(ticket)
        try:
            yield ticket
        finally:
            with self._lock:
                if ticket is None:
                    self._ahead_waiting -= 1
                else:
                    self._queue.remove(ticket)


def _loop_runs_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class PacerLane:
    """A view of a :class:`Pacer` whose requests take the next free slot before any other waiter."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    @property
    def waits(self) -> int:
        return self.pacer.waits

    @property
    def queued(self) -> int:
        return self.pacer.queued

    def acquire(self) -> None:
        self.pacer.acquire(ahead=True)

    async def acquire_async(self) -> None:
        await self.pacer.acquire_async(ahead=True)

    def release(self) -> None:
        self.pacer.release()

    def block_for(self, seconds: float) -> None:
        self.pacer.block_for(seconds)

    def ahead(self) -> PacerLane:
        return self
