"""The plain HTTP client that fetches signed URLs, made in one place (``signed_url_client``) so a
recording or a test can hook it. A signed URL is a capability of its own: this client sends no
``Authorization`` and no Deck header, only what httpx sends by default, and the URL never reaches a
log line (httpx logs every request's URL at INFO: a filter masks the ones fetched here). Its
transport sits behind the recording seam (``_transport.wrap``) like every client's, so downloads are
recorded and replayed; ``deck=`` is the client it fetches for (its ``Deck(replay=...)``, if any)."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from typing import Any

import httpx

from . import _transport
from ._deadline import deadline_client

CONNECT_S = 10.0
READ_S = 30.0
_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=16)
HIDDEN = "<signed URL>"


def _timeout(read: float) -> httpx.Timeout:
    return httpx.Timeout(connect=CONNECT_S, read=read, write=read, pool=CONNECT_S)


def signed_url_client(*, asynchronous: bool = False, read_timeout: float = READ_S, deck: Any = None) -> Any:
    """An ``httpx.Client`` (or ``AsyncClient``) for signed URLs: no auth, no Deck headers, bounded
    connect and read timeouts, behind the recording seam (with ``deck``'s own replay, if it has one);
    the sync one also honours the download's overall deadline (``_deadline.call_deadline``). Replace
    ``deck_nb.client._signed.signed_url_client`` to hook it."""
    options: dict[str, Any] = {"timeout": _timeout(read_timeout), "follow_redirects": True, "max_redirects": 3}
    if asynchronous:
        transport = _transport.wrap(httpx.AsyncHTTPTransport(limits=_LIMITS), deck)
        return httpx.AsyncClient(transport=transport, event_hooks={"request": [_remember_async]}, **options)
    return deadline_client(
        limits=_LIMITS, event_hooks={"request": [_remember]}, wrap=lambda t: _transport.wrap(t, deck), **options
    )


def _remember(request: httpx.Request) -> None:  # a redirect's target is masked too
    SIGNED_URLS.add(str(request.url))


async def _remember_async(request: httpx.Request) -> None:
    SIGNED_URLS.add(str(request.url))


class _SignedUrls(logging.Filter):
    """Masks the signed URLs this module fetched in httpx's log records (known by their digest)."""

    def __init__(self) -> None:
        super().__init__()
        self._digests: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, url: str) -> None:
        with self._lock:
            self._digests[_digest(url)] = None
            while len(self._digests) > 100_000:
                self._digests.popitem(last=False)

    def known(self, url: str) -> bool:
        return _digest(url) in self._digests

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, httpx.URL | str) and self.known(str(a)) for a in args):
            record.args = tuple(_mask(a) if self.known(str(a)) else a for a in args)
        return True


def _digest(url: str) -> bytes:
    return hashlib.sha256(url.encode("utf-8", "replace")).digest()


def _mask(url: Any) -> str:
    try:
        parsed = httpx.URL(str(url))
        return f"{parsed.scheme}://{parsed.host}/{HIDDEN}"
    except Exception:
        return HIDDEN


SIGNED_URLS = _SignedUrls()
logging.getLogger("httpx").addFilter(SIGNED_URLS)


def remember(url: str) -> str:
    """Mark ``url`` as a signed URL before fetching it (so httpx's log line masks it)."""
    SIGNED_URLS.add(url)
    return url
