"""Receiving Deck's webhooks: Standard Webhooks verification (the ``standardwebhooks`` library),
dedupe by event id, and the same ``EventFeed`` the polling watcher uses.

For users with a public URL: ``receiver = WebhookReceiver(secret); receiver.serve(port=8080)``, then
point an event destination at it; ``receiver.get()`` hands out verified, deduped events in order.

Bounded: a body over ``max_body_bytes`` (1 MB by default) is refused with 413 before it is read whole;
a validly signed body that is not a Deck event is a ``WebhookPayloadError`` (answered 400, never 500).
"""

from __future__ import annotations

import json
import queue
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from standardwebhooks import Webhook
from standardwebhooks import WebhookVerificationError as _LibraryVerificationError

from ._errors import WebhookPayloadError, WebhookVerificationError
from ._events import EventFeed
from ._models import Event

DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # Deck's events are a few kB; anything near this is hostile
_TIMESTAMP_PROBLEMS = ("Missing required headers", "Invalid Signature Headers", "too old", "too new")


class WebhookReceiver:
    def __init__(
        self, secret: str, *, feed: EventFeed | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    ) -> None:
        try:
            self._webhook = Webhook(secret)
        except Exception:
            raise ValueError("the webhook secret must look like whsec_<base64>") from None
        if not isinstance(max_body_bytes, int) or max_body_bytes <= 0:
            raise ValueError("max_body_bytes must be a positive number of bytes")
        self.max_body_bytes = max_body_bytes
        self.feed = feed or EventFeed()
        self._queue: queue.Queue[Event] = queue.Queue()
        self.rejected = 0
        self.duplicates = 0
        self._server: Any = None

    def __repr__(self) -> str:
        where = f" at {self.url}" if self._server else ""
        return f"<WebhookReceiver{where}: {self._queue.qsize()} waiting, {self.rejected} rejected>"

    def verify(self, body: bytes | str, headers: Mapping[str, str]) -> Event:
        """Check signature and timestamp (±5 min), then the event itself; answer the event or raise
        ``WebhookVerificationError`` (``WebhookPayloadError`` for a signed body that is not an event).
        Messages never quote the body."""
        raw = body.encode() if isinstance(body, str) else body
        if len(raw) > self.max_body_bytes:
            raise WebhookPayloadError(f"webhook rejected: the body is over the {self.max_body_bytes} bytes limit")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookPayloadError("webhook rejected: the body is not UTF-8 text") from None
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        self._check_signatures(text, lowered)
        return _event(text, lowered.get("webhook-id"))

    def _check_signatures(self, text: str, headers: dict[str, str]) -> None:
        """Standard Webhooks accepts a delivery if ANY signature in the header is valid; the library
        stops at the first malformed entry, so each candidate is checked on its own (the library still
        does the timestamp check and the HMAC)."""
        candidates = headers.get("webhook-signature", "").split() or [""]
        problem = "no valid signature"
        for candidate in candidates[:16]:  # Deck sends one or two (during a secret rotation)
            try:
                self._webhook.verify(text, {**headers, "webhook-signature": candidate}, json_parse=False)
                return
            except _LibraryVerificationError as exc:
                if any(p in str(exc) for p in _TIMESTAMP_PROBLEMS):
                    raise WebhookVerificationError(f"webhook rejected: {exc}") from None
            except (ValueError, TypeError):  # an entry that is not `v1,<base64>`: try the next one
                problem = "no valid signature (malformed signature entries)"
        raise WebhookVerificationError(f"webhook rejected: {problem}")

    def refuse(self) -> None:
        """Count a delivery the served app turned away before reading it (over the size limit)."""
        self.rejected += 1

    def handle(self, body: bytes | str, headers: Mapping[str, str]) -> Event | None:
        """Verify and enqueue; answer the event, or None for a duplicate (already delivered)."""
        try:
            event = self.verify(body, headers)
        except WebhookVerificationError:
            self.rejected += 1
            raise
        fresh = self.feed.accept([event])
        if not fresh:
            self.duplicates += 1
            return None
        self._queue.put(fresh[0])
        return fresh[0]

    def get(self, timeout: float | None = None) -> Event:
        """The next verified event (blocks up to ``timeout``; raises ``queue.Empty``)."""
        return self._queue.get(timeout=timeout)

    def drain(self) -> list[Event]:
        events = []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                return events

    # -- serving -----------------------------------------------------------------------------

    @property
    def app(self):
        """An ASGI app answering POSTs: 204 accepted or duplicate, 400 rejected, 413 too large (refused
        from Content-Length, or as soon as the streamed body passes the limit)."""
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        def answer(status: int, error: str) -> Response:
            return Response(json.dumps({"error": error}), status, media_type="application/json")

        async def receive(request: Request) -> Response:
            limit = self.max_body_bytes
            too_large = f"webhook rejected: the body is over the {limit} bytes limit"
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                self.refuse()
                return answer(413, too_large)
            chunks, size = [], 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    self.refuse()
                    return answer(413, too_large)
                chunks.append(chunk)
            try:
                self.handle(b"".join(chunks), request.headers)
            except WebhookVerificationError as exc:
                return answer(400, str(exc))
            return Response(status_code=204)

        return Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> WebhookReceiver:
        from .._serve import ServerThread

        self._server = ServerThread(self.app, host=host, port=port, name="deck-webhooks").start()
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("call serve() first")
        return f"{self._server.root_url}/webhooks"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def _event(text: str, webhook_id: str | None) -> Event:
    """A verified body as an Event, or WebhookPayloadError naming what is wrong (never the values)."""
    try:
        payload = json.loads(text)
    except ValueError:
        raise WebhookPayloadError("webhook rejected: the signed body is not JSON") from None
    except RecursionError:
        raise WebhookPayloadError("webhook rejected: the signed body is nested too deeply") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        raise WebhookPayloadError("webhook rejected: the body is not a Deck event (no string `id`)")
    if payload["id"] != webhook_id:
        raise WebhookVerificationError("webhook rejected: webhook-id does not match the event id")
    try:
        return Event.model_validate(payload)
    except ValidationError as exc:
        where = ", ".join(".".join(map(str, e["loc"]))[:40] for e in exc.errors()[:3])
        raise WebhookPayloadError(f"webhook rejected: the body is not a Deck event (bad {where})") from None
    except RecursionError:
        raise WebhookPayloadError("webhook rejected: the signed body is nested too deeply") from None
