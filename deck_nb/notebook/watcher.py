"""One event feed for many jobs: the batch follows ``GET /v2/events`` (one request per tick, whatever
the number of runs) and wakes each job when its resource settles.

The feed is a shortcut, never a dependency: when it fails (an outage, a malformed page, a watcher that
died) every waiting job is woken and polls its own resource until the feed answers again, so no job
ever waits on an event that nobody will deliver. Nor does a job trust a feed that answers but says
nothing about its resource (it checks the resource itself after a few seconds), or a feed request
that hangs (after ``FEED_STALL_S`` the waiting jobs count the feed as down)."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from datetime import timedelta
from typing import Any

from deck_nb import _clock
from deck_nb.client import (
    APIStatusError,
    AsyncDeck,
    Connection,
    Credential,
    EventFeed,
    RateLimitError,
    Session,
    TaskRun,
    is_settled,
)

from ._sessions import SESSIONS

log = logging.getLogger("deck_nb.batch")
MODELS = {"connection": Connection, "task_run": TaskRun, "credential": Credential, "session": Session}

FEED_RETRY_S = 0.25  # first pause after a failed feed request; doubles on each failure...
FEED_RETRY_MAX_S = 5.0  # ...up to this, so a feed that comes back is heard within seconds
FEED_REQUEST_S = 10.0  # longest wait for one feed request (the watcher retries, not the client)
POLL_MAX_S = 5.0  # while the feed is down, the longest pause between two polls of one job
VERIFY_S = 30.0  # a job the feed has reported on, hearing nothing more for this long, checks its resource
QUIET_S = 3.0  # a job the feed has said nothing about checks its resource after this (then backs off)
FEED_STALL_S = 3.0  # a feed request in flight for longer counts as the feed being down for waiting jobs
SATURATED_TICK = 2.0  # the feed's tick is this many times longer while the rate limit is saturated
LATEST_MEMORY = 10_000  # newest states kept (the feed also carries resources outside the batch)
NO_FEED = (403, 404, 405)  # the service has no event feed for us: poll for good


class EventWatcher:
    def __init__(
        self, adeck: AsyncDeck, interval: float = 1.0, receiver: Any = None, verify_after: float = VERIFY_S
    ) -> None:
        self.adeck = adeck
        self.interval = interval
        self.receiver = receiver  # a WebhookReceiver: events pushed to us instead of polled
        self.verify_after = verify_after
        self.feed: EventFeed | None = None
        self.latest: OrderedDict[str, Any] = OrderedDict()
        self._waiting: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task | None = None
        self._client: AsyncDeck | None = None
        self.polls = 0  # feed requests that answered
        self.outages = 0  # times the feed went down
        self.feed_ok = True  # False while the feed fails (jobs poll meanwhile)
        self.fallback = False  # True for good: no feed here

    @property
    def listening(self) -> bool:
        """Whether an event will wake a waiting job (else jobs poll their own resource)."""
        return not self.fallback and self.feed_ok and self._task is not None and not self._task.done()

    @property
    def requests(self) -> int:
        return self._client.stats.requests if self._client is not None else 0

    @property
    def retries(self) -> int:
        return self._client.stats.retries if self._client is not None else 0

    # -- what jobs call ----------------------------------------------------------------------

    async def settle(self, job: Any, timeout: float | None) -> Any:
        """The job's resource once it waits for input or ends, newer than what the job holds."""
        known = job.resource
        async with asyncio.timeout(timeout):
            if known is not None and is_settled(known):  # the job already holds a settled state: ask the server once
                obj = await self._poll(job)
                if obj is not None:
                    return obj
            self._start(known)
            event = self._waiting.setdefault(job.id, asyncio.Event())
            delay = self.interval
            quiet = max(QUIET_S, 3 * self.interval)  # a healthy feed reports a resource well within this
            try:
                while True:
                    obj = self._fresh(job.id, known)
                    if obj is not None:
                        return obj
                    event.clear()
                    listening = self.listening
                    trusted = listening and job.id in self.latest  # the feed reports on this resource
                    pause = self.verify_after if trusted else (max(delay, quiet) if listening else delay)
                    try:
                        async with asyncio.timeout(pause):
                            await event.wait()
                        continue  # an event, or the feed went down or came back: look again
                    except TimeoutError:
                        pass
                    if not trusted:
                        delay = min(delay * 1.5, max(POLL_MAX_S, self.interval))
                    obj = await self._poll(job)  # the feed is down, silent about it, or silent for too long
                    if obj is not None:
                        return obj
            finally:
                self._waiting.pop(job.id, None)

    async def until_not(self, resource: Any, status: str, timeout: float) -> Any:
        """Wait, at most ``timeout`` s, while ``resource`` is in ``status`` (an ended session still
        ``completing``): heard on the feed (no request), or read about once a second while the feed is
        down. Returns its newest state known."""
        latest = resource
        event = self._waiting.setdefault(resource.id, asyncio.Event())
        self._start(resource)
        try:
            async with asyncio.timeout(timeout):
                while latest.status == status:
                    event.clear()
                    if self.listening:
                        try:
                            async with asyncio.timeout(self.verify_after):
                                await event.wait()
                        except TimeoutError:
                            latest = await _resources_of(self.adeck, latest).retrieve(latest.id)
                    else:
                        await _clock.async_sleep(min(1.0, POLL_MAX_S))
                        latest = await _resources_of(self.adeck, latest).retrieve(latest.id)
                    heard = self.latest.get(resource.id)
                    if heard is not None and not _older(heard, latest):
                        latest = heard
        except TimeoutError:
            pass
        finally:
            self._waiting.pop(resource.id, None)
            self.latest.pop(resource.id, None)
        return latest

    def forget(self, resource_id: str) -> None:
        self.latest.pop(resource_id, None)

    def _fresh(self, resource_id: str, known: Any) -> Any:
        obj = self.latest.get(resource_id)
        if obj is None or not is_settled(obj) or _older(obj, known):
            return None
        if obj.status == known.status and obj.interaction == known.interaction and obj.updated_at == known.updated_at:
            return None  # the very state the job already handled
        self.latest.pop(resource_id, None)
        return obj

    async def _poll(self, job: Any) -> Any:
        """The resource as the server has it now, if settled (the truth, whatever the feed said)."""
        obj = await job._resources(self.adeck).retrieve(job.id)
        if not is_settled(obj):
            job.machine.observe(obj)  # its card says what Deck answered (a status deck_nb does not know too)
            return None
        self.latest.pop(job.id, None)
        return obj

    # -- the feed ----------------------------------------------------------------------------

    def _start(self, resource: Any) -> None:
        if self.feed is None and resource is not None and resource.created_at is not None:
            self.feed = EventFeed(since=resource.created_at - timedelta(microseconds=1))
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())
            self._task.add_done_callback(self._stopped)

    def _stopped(self, task: asyncio.Task) -> None:
        """However the watcher ends, nobody is left waiting for it: jobs switch to polling."""
        if not task.cancelled() and task.exception() is not None:
            log.warning("the event watcher stopped (%r); jobs poll their own resource", task.exception())
        self._wake()

    def _wake(self) -> None:
        for event in self._waiting.values():
            event.set()

    async def _run(self) -> None:
        pause = FEED_RETRY_S
        while True:
            if not self._waiting:
                await asyncio.sleep(0.05)
                continue
            try:
                if self.receiver is not None:  # verified, deduped webhook deliveries: no request at all
                    self._take(self.receiver.drain())
                    tick = 0.02
                else:
                    page = await self._unless_stalled(self._feed_client().events.list(**self.feed.params()).to_list())
                    self.polls += 1
                    self._take(self.feed.accept(page))
                    tick = self._tick()
            except APIStatusError as exc:
                if exc.status_code in NO_FEED and self.receiver is None:
                    log.warning("no event feed here (%s); falling back to polling each run", exc.code)
                    self.fallback = True
                    return  # _stopped wakes every waiting job
                if isinstance(exc, RateLimitError):  # the feed works, we are asked to slow down
                    await _clock.async_sleep(exc.retry_after or pause)
                    pause = min(pause * 2, FEED_RETRY_MAX_S)
                    continue
                await self._down(exc, pause)
                pause = min(pause * 2, FEED_RETRY_MAX_S)
                continue
            except Exception as exc:  # a dropped connection, a malformed page, a broken receiver
                await self._down(exc, pause)
                pause = min(pause * 2, FEED_RETRY_MAX_S)
                continue
            if not self.feed_ok:
                log.warning("the event feed is back; jobs follow it again")
                self.feed_ok = True
                self._wake()
            pause = FEED_RETRY_S
            await _clock.async_sleep(tick)

    def _tick(self) -> float:
        """The pause before the next feed request: half the pace while callers queue for the rate
        limit, whose every slot then carries a run's request (their wait dwarfs the feed's delay)."""
        pacer = self._client.pacer if self._client is not None else None
        return self.interval * SATURATED_TICK if pacer is not None and pacer.queued else self.interval

    async def _unless_stalled(self, request: Any) -> Any:
        """The feed request's answer; while it hangs past ``FEED_STALL_S`` the feed counts as down, so
        no job waits on it (they poll their own resource until the feed answers again)."""
        task = asyncio.ensure_future(request)
        try:
            done, _ = await asyncio.wait({task}, timeout=FEED_STALL_S)
            if not done:
                self._mark_down(f"no answer within {FEED_STALL_S:g} s")
            return await task
        finally:
            if not task.done():
                task.cancel()

    async def _down(self, exc: Exception, pause: float) -> None:
        self._mark_down(_describe(exc))
        await _clock.async_sleep(pause)

    def _mark_down(self, why: str) -> None:
        if self.feed_ok:
            log.warning("the event feed failed (%s); jobs poll their own resource until it is back", why)
            self.feed_ok = False
            self.outages += 1
            self._wake()

    def _feed_client(self) -> AsyncDeck:
        """The feed's own client: one try per request, short timeout (the watcher retries, with backoff,
        while the jobs poll). A twin of the batch's client: same pacer (ahead of the jobs' own requests),
        observers and API choice."""
        if self._client is None:
            client = self.adeck._twin(AsyncDeck)
            client.timeout = client.deadline = min(self.adeck.timeout, FEED_REQUEST_S)
            client.max_retries = 0
            if client.pacer is not None:  # one feed request serves every job: it goes first
                client.pacer = client.pacer.ahead()
            self._client = client
        return self._client

    def _take(self, events: list[Any]) -> None:
        """Keep the newest state of each resource (events may come twice or out of order); wake its job."""
        for event in events:
            model = MODELS.get(str(event.data.get("object")))
            if model is None:
                continue
            try:
                obj = model.model_validate(event.data)
            except ValueError:
                log.warning("skipping a malformed %s event", event.type)
                continue
            if isinstance(obj, Credential):  # a login verified it, or refused it: runs need not read it
                SESSIONS.saw(self.adeck, obj)
                continue
            previous = self.latest.get(obj.id)
            if previous is None or not _older(obj, previous):
                self.latest[obj.id] = obj
                self.latest.move_to_end(obj.id)
                while len(self.latest) > LATEST_MEMORY:
                    self.latest.popitem(last=False)
            waiter = self._waiting.get(obj.id)
            if waiter is not None:
                waiter.set()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        if self._client is not None:
            await self._client.close()


def _resources_of(adeck: AsyncDeck, resource: Any) -> Any:
    return {"session": adeck.sessions, "credential": adeck.credentials}.get(resource.object, adeck.task_runs)


def _describe(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__}{f' {code}' if code else ''}"


def _older(a: Any, b: Any) -> bool:
    """Whether ``a`` is a strictly older snapshot than ``b`` (events may arrive out of order)."""
    return bool(a.updated_at and b.updated_at and a.updated_at < b.updated_at)
