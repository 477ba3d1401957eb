"""The seam every httpx transport deck_nb builds passes through: ``wrap(transport)``.

The wrapped transport asks, per request, whether a recording or a replay is active (``activate``):
a recorder sends the request on and keeps the exchange; a replayer answers from its recording and
never touches the network. So ``with dn.record(...)`` also covers clients made before it. A seam can
carry its own handler (``Deck(replay=...)``: that client replays, others do not). Bottom layer:
imports nothing from deck_nb, so the recording package and the client both use it.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Protocol

import httpx


class Handler(Protocol):
    """What a recorder or replayer implements."""

    def handle(self, request: httpx.Request, send: Any) -> httpx.Response: ...

    async def handle_async(self, request: httpx.Request, send: Any) -> httpx.Response: ...


_active: tuple[Handler, ...] = ()
_lock = threading.Lock()


def activate(handler: Handler) -> None:
    """Every seam's requests go through ``handler`` (the latest activated is outermost)."""
    global _active
    with _lock:
        if handler not in _active:
            _active = (*_active, handler)


def deactivate(handler: Handler) -> None:
    global _active
    with _lock:
        _active = tuple(h for h in _active if h is not handler)


def active() -> tuple[Handler, ...]:
    return _active


def _chain(handlers: tuple[Handler, ...], inner: Any) -> Any:
    send = inner
    for handler in handlers:
        send = _Bound(handler, send)
    return send


class _Bound:
    def __init__(self, handler: Handler, send: Any) -> None:
        self.handler, self.send = handler, send

    def __call__(self, request: httpx.Request) -> Any:
        return self.handler.handle(request, self.send)


class SeamTransport(httpx.BaseTransport):
    """A sync transport that consults the active handlers (or its own) on every request."""

    def __init__(self, inner: httpx.BaseTransport, handler: Handler | None = None) -> None:
        self.inner, self.handler = inner, _held(self, handler)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        handlers = (self.handler,) if self.handler is not None else _active
        if not handlers:
            return self.inner.handle_request(request)
        return _chain(handlers, self.inner.handle_request)(request)

    def close(self) -> None:
        _release(self)
        self.inner.close()


class AsyncSeamTransport(httpx.AsyncBaseTransport):
    """The async twin of ``SeamTransport``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, handler: Handler | None = None) -> None:
        self.inner, self.handler = inner, _held(self, handler)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        handlers = (self.handler,) if self.handler is not None else _active
        if not handlers:
            return await self.inner.handle_async_request(request)
        send: Any = _AsyncInner(self.inner)
        for handler in handlers:
            send = _AsyncBound(handler, send)
        return await send(request)

    async def aclose(self) -> None:
        _release(self)
        await self.inner.aclose()


class _AsyncInner:
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)


class _AsyncBound:
    def __init__(self, handler: Handler, send: Any) -> None:
        self.handler, self.send = handler, send

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        return await self.handler.handle_async(request, self.send)


def _held(seam: Any, handler: Any) -> Any:
    """A pinned handler is told of each seam that uses it, and of its end: closed, or collected (a
    client's twin nobody closes), so a replay keeps its virtual clock only while a client uses it."""
    if handler is not None and hasattr(handler, "acquire"):
        handler.acquire()
        seam._finalizer = weakref.finalize(seam, handler.release)
    return handler


def _release(seam: Any) -> None:
    finalizer = getattr(seam, "_finalizer", None)
    if finalizer is not None:
        finalizer()  # runs once: closing, then being collected, releases once


def wrap(transport: Any, handler: Handler | None = None) -> Any:
    """``transport`` behind the seam (sync or async, by its type); ``handler`` pins one handler."""
    if isinstance(transport, httpx.AsyncBaseTransport):
        return AsyncSeamTransport(transport, handler)
    return SeamTransport(transport, handler)
