"""The call's deadline on every socket wait of the sync client.

httpx's timeouts bound each wait (connect, one read, one write), not the whole exchange: a server that
sends a byte every half second — in its headers or its body — is never "timed out". AsyncDeck puts one
``asyncio.timeout`` around each attempt. Threads have no such timer, so Deck's own transport caps every
connect, read and write by what is left of the call's deadline (set per attempt in a context variable):
the exchange ends at the deadline, whatever the server does. A client passed in by the user keeps its
own transport and gets the per-chunk check only (in ``_flight.BodyReader``).
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from deck_nb import _clock

_UNTIL: ContextVar[float | None] = ContextVar("deck_nb_call_until", default=None)


@contextmanager
def call_deadline(until: float):
    """Every socket wait inside this block ends by ``until`` (a ``time.monotonic()`` value)."""
    token = _UNTIL.set(until)
    try:
        yield
    finally:
        _UNTIL.reset(token)


def _cap(timeout: float | None, error: type[Exception]) -> float | None:
    until = _UNTIL.get()
    if until is None:
        return timeout
    left = until - _clock.monotonic()
    if left <= 0:
        raise error("the call's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _cap(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _cap(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None):
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _cap(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, **options: Any):
        return _Stream(self._inner.connect_tcp(host, port, _cap(timeout, httpcore.ConnectTimeout), **options))

    def connect_unix_socket(self, path: str, timeout: float | None = None, **options: Any):
        return _Stream(self._inner.connect_unix_socket(path, _cap(timeout, httpcore.ConnectTimeout), **options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def deadline_client(**options: Any) -> httpx.Client:
    """An httpx.Client whose connections honour the call deadline. httpx exposes no network-backend
    option, so the pool's backend is wrapped; if a future httpx lays its pool out differently the
    client still works, with the per-chunk deadline check only. ``wrap`` (the recording seam, see
    ``_transport.py``) wraps the transport."""
    transport = httpx.HTTPTransport(limits=options.pop("limits", httpx.Limits()))
    wrap = options.pop("wrap", None)
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.ConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = _Backend(pool._network_backend)
    return httpx.Client(transport=wrap(transport) if wrap else transport, **options)
