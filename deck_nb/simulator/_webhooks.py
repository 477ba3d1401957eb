"""Webhook destinations and at-least-once delivery with Standard Webhooks signatures."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import httpx
from standardwebhooks import Webhook

from ._errors import invalid, missing

log = logging.getLogger("deck_nb.simulator.webhooks")

RETRY_DELAYS_S = (1.0, 2.0, 4.0)
DELIVERY_TIMEOUT_S = 5.0


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def validate_destination(body: dict[str, Any]) -> dict[str, Any]:
    """Check a create body; answer the parts that become the destination object."""
    name = body.get("name")
    if not name:
        raise missing("name")
    if not isinstance(name, str):
        raise invalid("name", "`name` must be a string.")
    if body.get("type", "webhook") != "webhook":
        raise invalid("type", "Only `webhook` destinations are supported by the simulator.")
    webhook = body.get("webhook")
    if not isinstance(webhook, dict) or not webhook.get("url"):
        raise missing("webhook.url")
    url = webhook["url"]
    parsed = urlparse(url) if isinstance(url, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise invalid("webhook.url", "`webhook.url` must be an http or https URL.")
    secret = webhook.get("secret") or new_secret()
    try:
        Webhook(secret)
    except Exception:
        raise invalid("webhook.secret", "`webhook.secret` must be `whsec_` followed by base64.") from None
    events = body.get("events", ["*"])
    if not isinstance(events, list) or not events or not all(isinstance(e, str) and e for e in events):
        raise invalid("events", '`events` must be a non-empty list of event types, or ["*"].')
    return {"name": name, "type": "webhook", "webhook": {"url": url, "secret": secret}, "events": events}


def subscribed(destination: dict[str, Any], event_type: str) -> bool:
    for pattern in destination["events"]:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


class Deliverer:
    """Sends each event to each subscribed destination, retrying after 1 s, 2 s and 4 s."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.stats = {"attempts": 0, "delivered": 0, "failed": 0}

    def submit(self, destination: dict[str, Any], event: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(destination, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, destination: dict[str, Any], event: dict[str, Any]) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_S)
        body = json.dumps(event, separators=(",", ":"))
        signer = Webhook(destination["webhook"]["secret"])
        for attempt, delay in enumerate((0.0, *RETRY_DELAYS_S)):
            if delay:
                await asyncio.sleep(delay)
            if destination.get("deleted"):
                return
            stamp = datetime.fromtimestamp(int(time.time()), UTC)
            headers = {
                "content-type": "application/json",
                "webhook-id": event["id"],
                "webhook-timestamp": str(int(stamp.timestamp())),
                "webhook-signature": signer.sign(event["id"], stamp, body),
            }
            self.stats["attempts"] += 1
            try:
                response = await self._client.post(destination["webhook"]["url"], content=body, headers=headers)
                if 200 <= response.status_code < 300:
                    self.stats["delivered"] += 1
                    return
                log.info("webhook %s answered %s (attempt %d)", event["id"], response.status_code, attempt + 1)
            except httpx.HTTPError as exc:
                log.info("webhook %s failed: %s (attempt %d)", event["id"], type(exc).__name__, attempt + 1)
        self.stats["failed"] += 1
        destination["status"] = "inactive"

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
