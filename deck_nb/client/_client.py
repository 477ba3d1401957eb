"""Deck (sync, httpx.Client) and AsyncDeck (async, httpx.AsyncClient): the two thin send loops
over the shared core in ``_core.py``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
from tenacity import AsyncRetrying, Retrying

from . import _errors as errors
from ._core import FETCH, BaseClient, Call, wait_plan
from ._events import EventFeed
from ._models import Event
from ._pagination import AsyncPager, SyncPager
from ._resources import Connections, EventDestinations, Events, Sources, TaskRuns, Tasks


def _limits() -> httpx.Limits:
    return httpx.Limits(max_connections=100, max_keepalive_connections=50)


class _Resources:
    def _attach_resources(self) -> None:
        self.sources = Sources(self)  # type: ignore[arg-type]
        self.tasks = Tasks(self)  # type: ignore[arg-type]
        self.connections = Connections(self)  # type: ignore[arg-type]
        self.task_runs = TaskRuns(self)  # type: ignore[arg-type]
        self.events = Events(self)  # type: ignore[arg-type]
        self.event_destinations = EventDestinations(self)  # type: ignore[arg-type]


class Deck(BaseClient, _Resources):
    """Synchronous Deck client. With no key or URL configured it uses the embedded simulator.

    >>> deck = Deck()                                   # doctest: +SKIP
    >>> conn = deck.connections.create("src_sim_power", username="ada", password="...")  # doctest: +SKIP
    """

    def __init__(self, *, http_client: httpx.Client | None = None, **options: Any) -> None:
        super().__init__(**options)
        self._http = http_client or httpx.Client(limits=_limits())
        self._http.headers.update(self._default_headers())
        self._attach_resources()

    def _request(self, call: Call) -> Any:
        call = self._prepare(call)
        started = time.monotonic()
        try:
            for attempt in Retrying(**self._retry_policy(call)):
                with attempt:
                    if self.pacer is not None:
                        self.pacer.acquire()
                    try:
                        response = self._http.request(**self._request_kwargs(call, started))
                    except httpx.TransportError as exc:
                        raise self._transport_error(exc, call) from None
                    finally:
                        if self.pacer is not None:
                            self.pacer.release()
                    result = self._process(call, response)
        except errors.DeckError as error:
            self._observe_error(call, error)
            raise
        self._observe(call, result)
        return result

    def _paginate(self, call: Call, cast: Callable[[Any], Any]) -> SyncPager:
        return SyncPager(self._request, call, cast)

    def _wait(self, call: Call, until, timeout, poll_interval, what: str) -> Any:
        plan = wait_plan(until, timeout, poll_interval, what)
        step = next(plan)
        try:
            while True:
                if step is FETCH:
                    step = plan.send(self._request(call))
                else:
                    time.sleep(step)
                    step = next(plan)
        except StopIteration as done:
            return done.value

    def _watch(self, feed: EventFeed, poll_interval: float, timeout: float | None) -> Iterator[Event]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            fresh = feed.accept(list(self.events._list("/events", Event, feed.params())))
            yield from fresh
            if deadline is not None and time.monotonic() >= deadline:
                return
            if not fresh:
                time.sleep(poll_interval if deadline is None else min(poll_interval, deadline - time.monotonic()))

    def to_async(self) -> AsyncDeck:
        """An AsyncDeck with the same configuration, pacer and observers (one org limit, one history)."""
        return self._twin(AsyncDeck)

    def test(self) -> dict[str, Any]:
        """Check the key: ``{"status": "ready", "environment": ...}``."""
        return self._request(Call("GET", "/test"))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Deck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncDeck(BaseClient, _Resources):
    """Asynchronous Deck client: every resource method is awaited; lists are ``async for``."""

    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **options: Any) -> None:
        super().__init__(**options)
        self._http = http_client or httpx.AsyncClient(limits=_limits())
        self._http.headers.update(self._default_headers())
        self._attach_resources()

    async def _request(self, call: Call) -> Any:
        call = self._prepare(call)
        started = time.monotonic()
        try:
            async for attempt in AsyncRetrying(**self._retry_policy(call)):
                with attempt:
                    if self.pacer is not None:
                        await self.pacer.acquire_async()
                    try:
                        response = await self._http.request(**self._request_kwargs(call, started))
                    except httpx.TransportError as exc:
                        raise self._transport_error(exc, call) from None
                    finally:
                        if self.pacer is not None:
                            self.pacer.release()
                    result = self._process(call, response)
        except errors.DeckError as error:
            self._observe_error(call, error)
            raise
        self._observe(call, result)
        return result

    def _paginate(self, call: Call, cast: Callable[[Any], Any]) -> AsyncPager:
        return AsyncPager(self._request, call, cast)

    async def _wait(self, call: Call, until, timeout, poll_interval, what: str) -> Any:
        plan = wait_plan(until, timeout, poll_interval, what)
        step = next(plan)
        try:
            while True:
                if step is FETCH:
                    step = plan.send(await self._request(call))
                else:
                    await asyncio.sleep(step)
                    step = next(plan)
        except StopIteration as done:
            return done.value

    async def _watch(self, feed: EventFeed, poll_interval: float, timeout: float | None) -> AsyncIterator[Event]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            fresh = feed.accept(await self.events._list("/events", Event, feed.params()).to_list())
            for event in fresh:
                yield event
            if deadline is not None and time.monotonic() >= deadline:
                return
            if not fresh:
                pause = poll_interval if deadline is None else min(poll_interval, deadline - time.monotonic())
                await asyncio.sleep(max(0.0, pause))

    def to_sync(self) -> Deck:
        """A Deck with the same configuration, pacer and observers."""
        return self._twin(Deck)

    async def test(self) -> dict[str, Any]:
        return await self._request(Call("GET", "/test"))

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncDeck:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
