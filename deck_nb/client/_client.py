"""Deck (sync, httpx.Client) and AsyncDeck (async, httpx.AsyncClient): the two thin send loops
over the shared core in ``_core.py``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic

import httpx
from tenacity import AsyncRetrying, Retrying

from deck_nb import _clock

from . import _errors as errors
from . import _transport
from ._api import AUTO, PROBE, ApiChoice, resolve_api
from ._core import FETCH, BaseClient, Call, CallState, wait_plan
from ._deadline import call_deadline, deadline_client
from ._endpoints import AsyncShell, ClientT, SyncShell
from ._events import EventFeed
from ._lazy import LazyResource
from ._pagination import AsyncPager, SyncPager

if TYPE_CHECKING:
    from ._credentials import Credentials, Sessions
    from ._interactive import Connections, TaskRuns
    from ._models import Event
    from ._resources import EventDestinations, Events, Sources, Tasks
    from ._storage import Storage


def _limits() -> httpx.Limits:
    return httpx.Limits(max_connections=100, max_keepalive_connections=50)


class _ApiAware:
    """What both shells share about which API they face (see ``_api.py``)."""

    _api: ApiChoice

    @property
    def api(self) -> str:
        """``credentials`` or ``connections``; ``auto`` while not detected yet (never a request)."""
        return self._api.current


class _Resources(Generic[ClientT]):
    """A client's resources, one definition for both shells, each made on first use (their models
    import pydantic, most of what a first answer would cost): see _lazy.py."""

    if TYPE_CHECKING:
        sources: Sources[ClientT]
        tasks: Tasks[ClientT]
        connections: Connections[ClientT]
        credentials: Credentials[ClientT]
        sessions: Sessions[ClientT]
        task_runs: TaskRuns[ClientT]
        events: Events[ClientT]
        event_destinations: EventDestinations[ClientT]
        storage: Storage[ClientT]
    else:
        sources = LazyResource("._resources", "Sources")
        tasks = LazyResource("._resources", "Tasks")
        connections = LazyResource("._interactive", "Connections")
        credentials = LazyResource("._credentials", "Credentials")
        sessions = LazyResource("._credentials", "Sessions")
        task_runs = LazyResource("._interactive", "TaskRuns")
        events = LazyResource("._resources", "Events")
        event_destinations = LazyResource("._resources", "EventDestinations")
        storage = LazyResource("._storage", "Storage")


class Deck(BaseClient, _ApiAware, _Resources["Deck"], SyncShell):
    """Synchronous Deck client. With no key or URL configured it uses the embedded simulator.

    ``api`` is ``"auto"`` (the default; or ``DECK_API``), ``"credentials"`` (Deck's current API) or
    ``"connections"`` (the seed's). ``auto`` detects once, at the first call that needs to know (or
    ``deck.detect_api()``); ``deck.api`` and the repr show the choice.

    >>> deck = Deck()                                   # doctest: +SKIP
    >>> cred = deck.credentials.create("src_sim_power", username="ada", password="...")  # doctest: +SKIP
    """

    def __init__(
        self, *, http_client: httpx.Client | None = None, api: str | None = None, replay: Any = None, **options: Any
    ) -> None:
        self._replayer = _transport.replayer_for(replay, http_client)  # replay=: answers from a recording (docs/ci.md)
        self._owns_replay = self._replayer is not None and self._replayer is not replay  # opened here, not a twin's
        self._api = ApiChoice(resolve_api(api))
        super().__init__(**_transport.replay_options(self._replayer, options))
        self._http = http_client or deadline_client(limits=_limits(), wrap=lambda t: _transport.wrap(t, self))
        self._users_http = http_client is not None  # kept for every call (dn.download: no async twin)
        self._at_close: list[Callable[[], None]] = []  # what layers above opened for this client (dn.download's loop)
        self._http.headers.update(self._default_headers())

    def detect_api(self) -> str:
        """The API this client faces, asking the server once if ``api="auto"`` (shared with twins)."""
        choice = self._api
        with choice.lock:
            if choice.current == AUTO:
                try:
                    self._request(PROBE)
                except errors.DeckError as error:
                    return choice.learn(error)
                return choice.learn(None)
            return choice.current

    def _request_for_api(self, build: Callable[[str], Call]) -> Any:
        return self._request(build(self.detect_api()))

    def _request(self, call: Call, until: float | None = None) -> Any:
        flight = self._begin(call, until)
        call = flight.call
        try:
            if flight.needs_prompt:
                self._request(flight.reading(), flight.until)
                flight.learn_prompt()
            try:  # the first attempt without tenacity's bookkeeping (most calls need no other)
                result, failed = self._send(flight), None
            except errors.DeckError as exc:
                if not self._should_retry(exc):
                    raise
                failed = exc
            if failed is not None:  # outside the except: later errors do not chain onto this one
                result = self._retry(flight, failed)
        except errors.DeckError as error:
            self._observe_error(call, error)
            raise
        self._observe(call, result)
        return result

    def _retry(self, flight: CallState, first: errors.DeckError) -> Any:
        """The attempts after a first one that failed retryably, under tenacity (which is handed the
        first failure as its attempt 1: the same counts, backoff and deadline as if it had run it)."""
        replay = [first]
        for attempt in Retrying(sleep=_clock.sleep, **self._retry_policy(flight)):
            with attempt:
                if replay:
                    raise replay.pop()
                fresh = self._request(flight.reading(), flight.until) if flight.must_check else None
                result = fresh if flight.delivered(fresh) else self._send(flight)
        return result

    def _send(self, flight: CallState) -> Any:
        """One attempt: the request and its whole body, within the deadline and the size cap."""
        call = flight.call
        if self.pacer is not None:
            self.pacer.acquire()
        until = self._attempt_until(flight)
        try:
            with call_deadline(until), self._http.stream(**self._request_kwargs(call, until)) as response:
                reader = self._reader(call, response, until)
                for chunk in response.iter_bytes():
                    reader.feed(chunk)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._httpx_error(exc, call, until) from None
        finally:
            if self.pacer is not None:
                self.pacer.release()
        return self._process(call, response, reader.content)

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
                    _clock.sleep(step)
                    step = next(plan)
        except StopIteration as done:
            return done.value

    def _watch(self, feed: EventFeed, poll_interval: float, timeout: float | None) -> Iterator[Event]:
        deadline = None if timeout is None else _clock.monotonic() + timeout
        while True:
            fresh = feed.accept(list(self.events._list("/events", _event_model(), feed.params())))
            yield from fresh
            if deadline is not None and _clock.monotonic() >= deadline:
                return
            if not fresh:
                _clock.sleep(poll_interval if deadline is None else min(poll_interval, deadline - _clock.monotonic()))

    def to_async(self) -> AsyncDeck:
        """An AsyncDeck with the same configuration, pacer and observers (one org limit, one history)."""
        return self._twin(AsyncDeck)

    def test(self) -> dict[str, Any]:
        """Check the key: ``{"status": "ready", "environment": ...}``."""
        return self._request(Call("GET", "/test"))

    def close(self) -> None:
        """Close the HTTP connection pool (and the signed-URL client and download loop, if
        downloads made them); the client that opened a replay ends it, for its twins too (real time
        again)."""
        while self._at_close:
            self._at_close.pop()()
        self._http.close()
        if self._owns_replay:
            self._replayer.end()
        plain = getattr(self.__dict__.get("storage"), "_http", None)
        if plain is not None:
            plain.close()

    def __enter__(self) -> Deck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncDeck(BaseClient, _ApiAware, _Resources["AsyncDeck"], AsyncShell):
    """Asynchronous Deck client: every resource method is awaited; lists are ``async for``.

    ``api`` as on ``Deck``. With ``api="auto"`` nothing is asked at construction: the first call
    that needs to know (an interaction answer on a task run) detects inside its own awaitable, or
    ``await adeck.detect_api()`` asks up front; until then ``adeck.api`` is ``"auto"``."""

    def __init__(
        self,
        *,
        http_client: httpx.AsyncClient | None = None,
        api: str | None = None,
        replay: Any = None,
        **options: Any,
    ) -> None:
        self._replayer = _transport.replayer_for(replay, http_client)
        self._owns_replay = self._replayer is not None and self._replayer is not replay  # opened here, not a twin's
        self._api = ApiChoice(resolve_api(api))
        super().__init__(**_transport.replay_options(self._replayer, options))
        if http_client is None:
            http_client = httpx.AsyncClient(transport=_transport.wrap(httpx.AsyncHTTPTransport(limits=_limits()), self))
        self._http = http_client
        self._http.headers.update(self._default_headers())
        self._detecting: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def detect_api(self) -> str:
        """The API this client faces, asking the server once if ``api="auto"`` (shared with twins)."""
        if self._api.current != AUTO:
            return self._api.current
        loop = asyncio.get_running_loop()
        if self._detecting is None or self._detecting[0] is not loop:  # a lock belongs to one loop
            self._detecting = (loop, asyncio.Lock())
        async with self._detecting[1]:  # concurrent first calls share one probe
            if self._api.current == AUTO:
                try:
                    await self._request(PROBE)
                except errors.DeckError as error:
                    return self._api.learn(error)
                return self._api.learn(None)
            return self._api.current

    async def _request_for_api(self, build: Callable[[str], Call]) -> Any:
        return await self._request(build(await self.detect_api()))

    async def _request(self, call: Call, until: float | None = None) -> Any:
        flight = self._begin(call, until)
        call = flight.call
        try:
            if flight.needs_prompt:
                await self._request(flight.reading(), flight.until)
                flight.learn_prompt()
            try:  # the first attempt without tenacity's bookkeeping (most calls need no other)
                result, failed = await self._send(flight), None
            except errors.DeckError as exc:
                if not self._should_retry(exc):
                    raise
                failed = exc
            if failed is not None:  # outside the except: later errors do not chain onto this one
                result = await self._retry(flight, failed)
        except errors.DeckError as error:
            self._observe_error(call, error)
            raise
        self._observe(call, result)
        return result

    async def _retry(self, flight: CallState, first: errors.DeckError) -> Any:
        """The attempts after a first one that failed retryably, under tenacity (which is handed the
        first failure as its attempt 1: the same counts, backoff and deadline as if it had run it)."""
        replay = [first]
        async for attempt in AsyncRetrying(sleep=_clock.async_sleep, **self._retry_policy(flight)):
            with attempt:
                if replay:
                    raise replay.pop()
                fresh = await self._request(flight.reading(), flight.until) if flight.must_check else None
                result = fresh if flight.delivered(fresh) else await self._send(flight)
        return result

    async def _send(self, flight: CallState) -> Any:
        """One attempt under one overall timer: connecting, headers and the whole body."""
        call = flight.call
        if self.pacer is not None:
            await self.pacer.acquire_async()
        until = self._attempt_until(flight)
        try:
            async with asyncio.timeout(self._remaining(call, until)):
                async with self._http.stream(**self._request_kwargs(call, until)) as response:
                    reader = self._reader(call, response, until)
                    async for chunk in response.aiter_bytes():
                        reader.feed(chunk)
        except TimeoutError:
            raise self._deadline_error(call) from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise self._httpx_error(exc, call, until) from None
        finally:
            if self.pacer is not None:
                self.pacer.release()
        return self._process(call, response, reader.content)

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
                    await _clock.async_sleep(step)
                    step = next(plan)
        except StopIteration as done:
            return done.value

    async def _watch(self, feed: EventFeed, poll_interval: float, timeout: float | None) -> AsyncIterator[Event]:
        deadline = None if timeout is None else _clock.monotonic() + timeout
        while True:
            fresh = feed.accept(await self.events._list("/events", _event_model(), feed.params()).to_list())
            for event in fresh:
                yield event
            if deadline is not None and _clock.monotonic() >= deadline:
                return
            if not fresh:
                pause = poll_interval if deadline is None else min(poll_interval, deadline - _clock.monotonic())
                await _clock.async_sleep(max(0.0, pause))

    def to_sync(self) -> Deck:
        """A Deck with the same configuration, pacer and observers."""
        return self._twin(Deck)

    async def test(self) -> dict[str, Any]:
        """Check the key: ``{"status": "ready", "environment": ...}``."""
        return await self._request(Call("GET", "/test"))

    async def close(self) -> None:
        """Close the HTTP connection pool (and the signed-URL client, if downloads made one); the
        client that opened a replay ends it, for its twins too (real time again)."""
        await self._http.aclose()
        if self._owns_replay:
            self._replayer.end()
        plain = getattr(self.__dict__.get("storage"), "_http", None)
        if plain is not None:
            await plain.aclose()

    async def __aenter__(self) -> AsyncDeck:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _event_model() -> type:
    from ._models import Event

    return Event
