"""The client's webhook receiver: real deliveries from the simulator, and forged/stale/replayed ones."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks import Webhook

import deck_nb
from deck_nb.client import WebhookVerificationError
from deck_nb.client.webhooks import WebhookReceiver

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def signed(event: dict, secret: str = SECRET, at: float | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event)
    stamp = datetime.fromtimestamp(int(at if at is not None else time.time()), UTC)
    headers = {
        "webhook-id": event["id"],
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(event["id"], stamp, body),
    }
    return body.encode(), headers


EVENT = {
    "id": "evt_1",
    "object": "event",
    "type": "task_run.completed",
    "data": {"id": "trun_1", "object": "task_run", "status": "completed"},
    "created_at": "2026-11-28T10:00:00Z",
}


@pytest.fixture
def receiver():
    r = WebhookReceiver(SECRET).serve()
    yield r
    r.stop()


def test_simulator_deliveries_arrive_verified_in_the_receiver(sim, receiver):
    deck = deck_nb.Deck(api_key=sim.api_key, base_url=sim.base_url)
    deck.event_destinations.create(name="local", url=receiver.url, secret=SECRET, events=["connection.*"])
    conn = deck.connections.create("src_sim_mobile", username="a", password="p")
    sim.advance(2)
    got = [receiver.get(timeout=10), receiver.get(timeout=10)]
    assert sorted(e.type for e in got) == ["connection.connected", "connection.connecting"]
    assert {e.resource.id for e in got} == {conn.id}
    deck.close()


def test_valid_signature_is_accepted_and_a_replay_is_not_delivered_twice(receiver):
    body, headers = signed(EVENT)
    first = httpx.post(receiver.url, content=body, headers=headers)
    replay = httpx.post(receiver.url, content=body, headers=headers)
    assert first.status_code == replay.status_code == 204
    assert [e.id for e in receiver.drain()] == ["evt_1"]
    assert receiver.duplicates == 1


@pytest.mark.parametrize(
    "tamper",
    [
        lambda b, h: (b, {**h, "webhook-signature": "v1,AAAA"}),  # forged
        lambda b, h: (b.replace(b"completed", b"failed"), h),  # body changed after signing
        lambda b, h: (b, {k: v for k, v in h.items() if k != "webhook-signature"}),  # unsigned
        lambda b, h: (b, {**h, "webhook-signature": "garbage"}),  # malformed header
        lambda b, h: (b, {**h, "webhook-id": "evt_other"}),  # id swapped
    ],
)
def test_forged_tampered_and_unsigned_deliveries_are_rejected(receiver, tamper):
    body, headers = tamper(*signed(EVENT))
    response = httpx.post(receiver.url, content=body, headers=headers)
    assert response.status_code == 400
    assert receiver.drain() == [] and receiver.rejected == 1


def test_stale_deliveries_older_than_five_minutes_are_rejected():
    receiver = WebhookReceiver(SECRET)
    body, headers = signed(EVENT, at=time.time() - 301)
    with pytest.raises(WebhookVerificationError, match="too old"):
        receiver.handle(body, headers)
    body, headers = signed(EVENT, at=time.time() - 200)
    assert receiver.handle(body, headers).id == "evt_1"


def test_wrong_secret_is_rejected_and_bad_secret_refused():
    body, headers = signed(EVENT, secret="whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    with pytest.raises(WebhookVerificationError):
        WebhookReceiver(SECRET).handle(body, headers)
    with pytest.raises(ValueError):
        WebhookReceiver("")


def test_out_of_order_deliveries_are_all_kept_once():
    receiver = WebhookReceiver(SECRET)
    later = {**EVENT, "id": "evt_2", "created_at": "2026-11-28T10:00:05Z"}
    for event in (later, EVENT, later):
        receiver.handle(*signed(event))
    assert sorted(e.id for e in receiver.drain()) == ["evt_1", "evt_2"]
