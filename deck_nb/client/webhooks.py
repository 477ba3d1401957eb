"""Receiving Deck's webhooks: Standard Webhooks verification (the ``standardwebhooks`` library),
dedupe by event id, and the same ``EventFeed`` the polling watcher uses.

For users with a public URL: ``receiver = WebhookReceiver(secret); receiver.serve(port=8080)``, then
point an event destination at it; ``receiver.get()`` hands out verified, deduped events in order.
"""

from __future__ import annotations

import json
import queue
from collections.abc import Mapping
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks import WebhookVerificationError as _LibraryVerificationError

from ._errors import WebhookVerificationError
from ._events import EventFeed
from ._models import Event


class WebhookReceiver:
    def __init__(self, secret: str, *, feed: EventFeed | None = None) -> None:
        try:
            self._webhook = Webhook(secret)
        except Exception:
            raise ValueError("the webhook secret must look like whsec_<base64>") from None
        self.feed = feed or EventFeed()
        self._queue: queue.Queue[Event] = queue.Queue()
        self.rejected = 0
        self.duplicates = 0
        self._server: Any = None

    def __repr__(self) -> str:
        where = f" at {self.url}" if self._server else ""
        return f"<WebhookReceiver{where}: {self._queue.qsize()} waiting, {self.rejected} rejected>"

    def verify(self, body: bytes | str, headers: Mapping[str, str]) -> Event:
        """Check signature and timestamp (±5 min); answer the event or raise WebhookVerificationError."""
        try:
            payload = self._webhook.verify(body, dict(headers))
        except _LibraryVerificationError as exc:
            raise WebhookVerificationError(f"webhook rejected: {exc}") from None
        except (ValueError, TypeError):  # malformed signature header or body
            raise WebhookVerificationError("webhook rejected: malformed signature header or body") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
            raise WebhookVerificationError("webhook rejected: the body is not a Deck event")
        if payload["id"] != {k.lower(): v for k, v in headers.items()}.get("webhook-id"):
            raise WebhookVerificationError("webhook rejected: webhook-id does not match the event id")
        return Event.model_validate(payload)

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
        """An ASGI app answering POSTs: 204 accepted or duplicate, 400 rejected."""
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        async def receive(request: Request) -> Response:
            body = await request.body()
            try:
                self.handle(body, request.headers)
            except WebhookVerificationError as exc:
                return Response(json.dumps({"error": str(exc)}), 400, media_type="application/json")
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
