"""One event feed for many jobs: the batch follows ``GET /v2/events`` (one request per tick, whatever
the number of runs) and wakes each job when its resource settles; polling is the fallback."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from deck_nb.client import APIStatusError, AsyncDeck, Connection, EventFeed, TaskRun, is_settled

log = logging.getLogger("deck_nb.batch")
MODELS = {"connection": Connection, "task_run": TaskRun}


class EventWatcher:
    def __init__(self, adeck: AsyncDeck, interval: float = 1.0, receiver: Any = None) -> None:
        self.adeck = adeck
        self.interval = interval
        self.receiver = receiver  # a WebhookReceiver: events pushed to us instead of polled
        self.feed: EventFeed | None = None
        self.latest: dict[str, Any] = {}
        self._waiting: dict[str, asyncio.Event] = {}
        self._task: asyncio.Task | None = None
        self.polls = 0
        self.fallback = False

    # -- what jobs call ----------------------------------------------------------------------

    async def settle(self, job: Any, timeout: float | None) -> Any:
        """The job's resource once it waits for input or ends, newer than what the job holds."""
        if self.fallback:
            return await job._resources(self.adeck).wait(job.id, timeout=timeout)
        self._start(job.resource)
        known = job.resource

        def fresh() -> Any:
            obj = self.latest.get(job.id)
            if obj is None or not is_settled(obj):
                return None
            if _older(obj, known):
                return None
            if (
                obj.status == known.status
                and obj.interaction == known.interaction
                and obj.updated_at == known.updated_at
            ):
                return None  # the very state the job already handled
            return obj

        event = self._waiting.setdefault(job.id, asyncio.Event())
        try:
            async with asyncio.timeout(timeout):
                while (obj := fresh()) is None:
                    if self.fallback:
                        return await job._resources(self.adeck).wait(job.id, timeout=timeout)
                    event.clear()
                    await event.wait()
        finally:
            self._waiting.pop(job.id, None)
        self.latest.pop(job.id, None)
        return obj

    def forget(self, resource_id: str) -> None:
        self.latest.pop(resource_id, None)

    # -- the feed ----------------------------------------------------------------------------

    def _start(self, resource: Any) -> None:
        if self.feed is None and resource is not None and resource.created_at is not None:
            self.feed = EventFeed(since=resource.created_at - timedelta(microseconds=1))
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            if not self._waiting:
                await asyncio.sleep(0.05)
                continue
            if self.receiver is not None:  # verified, deduped webhook deliveries: no request at all
                self._take(self.receiver.drain())
                await asyncio.sleep(0.02)
                continue
            try:
                page_events = await self.adeck.events.list(**self.feed.params()).to_list()
            except APIStatusError as exc:
                if exc.status_code in (403, 404, 405):
                    log.warning("no event feed here (%s); falling back to polling each run", exc.code)
                    self.fallback = True
                    for event in self._waiting.values():
                        event.set()
                    return
                raise
            self.polls += 1
            self._take(self.feed.accept(page_events))
            await asyncio.sleep(self.interval)

    def _take(self, events: list[Any]) -> None:
        """Keep the newest state of each resource (events may come twice or out of order); wake its job."""
        for event in events:
            model = MODELS.get(str(event.data.get("object")))
            if model is None:
                continue
            obj = model.model_validate(event.data)
            previous = self.latest.get(obj.id)
            if previous is None or not _older(obj, previous):
                self.latest[obj.id] = obj
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


def _older(a: Any, b: Any) -> bool:
    """Whether ``a`` is a strictly older snapshot than ``b`` (events may arrive out of order)."""
    return bool(a.updated_at and b.updated_at and a.updated_at < b.updated_at)
