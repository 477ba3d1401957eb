"""Batches on Deck's current API: one session per login, in turn. Items that share a login (the same
credential, or Pulls of the same source and user) form a group; a group holds one slot — one open
session — at a time. Its first item runs alone, so it logs in (one MFA) and the rest reuse its
session; once that login has worked, the next run is created while the current one works
(``SESSION_DEPTH``), so the session never sits idle waiting for the client to notice a run ended and
create the next (Deck queues a run until its session is free: ``queued`` is "waiting for an
available session"). Slots are at most the session limit; ``session_limit_exceeded`` is
back-pressure (wait, try again), never a failed item. A group that is done ends its session when
other groups wait for a slot, so the limit is freed at once rather than after 10 idle minutes."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from deck_nb import _clock
from deck_nb.client import AsyncDeck, DeckError, SessionLimitExceeded

from ._sessions import SESSIONS, login_ids

SESSION_DEPTH = 2  # a group's unfinished runs at once, after its login: the current one and the next
DEFAULT_SESSION_LIMIT = 25  # Deck's documented limit of concurrent sessions (the simulator's default)
LIMIT_WAIT_CAP_S = 11 * 60.0  # longest wait for a session slot (idle sessions end after 10 minutes)
LIMIT_PAUSE_S = (0.5, 5.0)  # pause between tries when Deck gives no Retry-After: first, most
ENDING_WAIT_S = 5.0  # longest wait for an ended session to leave `completing` (it holds a slot till then)


def login_key(spec: Any, index: int) -> Hashable:
    """Which login an item uses: items with the same key share one session, in turn."""
    connection = getattr(spec, "connection", None)
    if connection is not None:  # a RunTask: its credential (or the session it names)
        credential_id, session_id = login_ids(connection)
        return ("credential", credential_id or session_id)
    if getattr(spec, "task_id", None):  # a Pull: one stored credential per source and login
        return ("pull", spec.source_id, spec.username, spec.external_id, spec.password)
    return ("connect", index)  # a Connect only stores a credential: nothing to share


def check_session_limit(session_limit: Any) -> int:
    """The batch's most open sessions at once; refuses anything but a whole number ≥ 1."""
    if isinstance(session_limit, bool) or not isinstance(session_limit, int) or session_limit < 1:
        raise ValueError(f"session_limit must be a whole number ≥ 1 (Deck's default is 25), not {session_limit!r}")
    return session_limit


class SessionGroups:
    """The batch's items grouped by login; ``run`` gives each group one slot and runs it in turn."""

    def __init__(self, outcomes: list[Any], slots: int) -> None:
        self.groups: dict[Hashable, list[Any]] = {}
        for outcome in outcomes:
            self.groups.setdefault(login_key(outcome.spec, outcome.index), []).append(outcome)
        self.slots = slots
        self.waiting = len(self.groups)  # groups that have no slot yet
        self.handing = 0  # of those, how many a finished group is freeing a slot for right now
        self.limit_waits = 0  # how often a run waited for a slot Deck had not freed yet

    async def run(
        self, group: Callable[[list[Any], dict[str, Any]], Awaitable[None]], adeck: AsyncDeck, watcher: Any
    ) -> None:
        """Run every group, at most ``slots`` at once; each gets a dict its items share (the login)."""
        gate = asyncio.Semaphore(self.slots)

        async def one(outcomes: list[Any]) -> None:
            async with gate:
                self.waiting -= 1
                self.handing = max(0, self.handing - 1)
                shared: dict[str, Any] = {}
                try:
                    await group(outcomes, shared)
                finally:
                    if self.waiting > self.handing:  # a group waits that no other finished group frees a slot for
                        self.handing += 1
                        await end_session(adeck, outcomes, watcher)

        await asyncio.gather(*(one(outcomes) for outcomes in self.groups.values()))

    async def back_pressure(self, drive: Callable[[], Awaitable[Any]], job: Any, timeout: float | None) -> Any:
        """Drive ``job``; while Deck says too many sessions are open (after the client's own
        retries), wait and start it again — under the same idempotency key, so never twice."""
        cap = LIMIT_WAIT_CAP_S if timeout is None else timeout
        waited, pause = 0.0, LIMIT_PAUSE_S[0]
        while True:
            try:
                return await drive()
            except SessionLimitExceeded as exc:
                if job.id is not None or waited >= cap:
                    raise
                delay = min(exc.retry_after or pause * (1 + random.random()), LIMIT_PAUSE_S[1], cap - waited)
                self.limit_waits += 1
                started = _clock.monotonic()
                await _clock.async_sleep(max(delay, 0.0))  # virtual during a replay (deck_nb/_clock.py)
                waited += _clock.monotonic() - started
                pause = min(pause * 2, LIMIT_PAUSE_S[1])


async def end_session(adeck: AsyncDeck, outcomes: list[Any], watcher: Any) -> None:
    """End the session a finished group used (its runs are done), freeing a slot of the limit — once
    it has left ``completing`` (it counts against the limit till then, and the waiting group's login
    would meet ``session_limit_exceeded`` with a Retry-After of minutes): heard on the batch's event
    feed, or read while the feed is down; at most ``ENDING_WAIT_S``."""
    credential_ids = {o.run.run.credential_id for o in outcomes if o.run is not None and o.run.run is not None}
    for credential_id in credential_ids - {None}:
        session_id = SESSIONS.latest(adeck, credential_id)
        if session_id is None:
            continue
        SESSIONS.forget(adeck, credential_id, session_id)
        try:
            session = await adeck.sessions.end(session_id)
            await watcher.until_not(session, "completing", ENDING_WAIT_S)
        except DeckError:
            pass  # already ended, or gone: the slot is free either way
