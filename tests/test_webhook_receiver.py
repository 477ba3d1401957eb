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


# -- bounds and hostile deliveries (issue 13: items 4, 5, 8) ------------------------------------

MARKER = "pa55w0rd-marker"  # a value that must never appear in an error text


def signed_raw(raw: bytes, event_id: str = "evt_1", secret: str = SECRET) -> dict[str, str]:
    """Headers signing arbitrary bytes, as a hostile but key-holding sender would."""
    import base64
    import hashlib
    import hmac

    stamp = str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{event_id}.{stamp}.".encode() + raw, hashlib.sha256).digest()
    return {
        "webhook-id": event_id,
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def test_a_body_over_the_limit_is_refused_with_413(receiver):
    assert receiver.max_body_bytes == 1024 * 1024  # the default
    small = WebhookReceiver(SECRET, max_body_bytes=2000).serve()
    try:
        big = json.dumps({**EVENT, "data": {"pad": "x" * 5000}}).encode()
        assert httpx.post(small.url, content=big, headers=signed_raw(big)).status_code == 413

        def chunked():  # no Content-Length: the receiver counts while it streams
            for _ in range(10):
                yield b"x" * 500

        response = httpx.post(small.url, content=chunked(), headers=signed_raw(b"x" * 5000))
        assert response.status_code == 413 and "2000 bytes limit" in response.json()["error"]
        assert small.rejected == 2 and small.drain() == []
        body, headers = signed(EVENT)  # a normal delivery still arrives
        assert httpx.post(small.url, content=body, headers=headers).status_code == 204
    finally:
        small.stop()
    with pytest.raises(ValueError, match="max_body_bytes"):
        WebhookReceiver(SECRET, max_body_bytes=0)


def test_the_receiver_stops_reading_a_huge_stream_at_the_limit():
    """At the ASGI level, so the count of chunks pulled is exact: 100 MB offered, ~1 MB read."""
    import asyncio

    receiver = WebhookReceiver(SECRET)
    pulled, sent = 0, []
    chunk = b"x" * 65536

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < 1600}  # 1600 × 64 kB = 100 MB

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/webhooks",
        "raw_path": b"/webhooks",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(asyncio.wait_for(receiver.app(scope, receive, send), 20))
    assert sent[0]["status"] == 413
    assert pulled <= 1024 * 1024 // len(chunk) + 2
    assert receiver.rejected == 1


MALFORMED = [
    b"not json " + MARKER.encode(),
    json.dumps([MARKER]).encode(),
    json.dumps({"id": 5, "note": MARKER}).encode(),
    json.dumps({"id": "evt_1", "data": MARKER}).encode(),
    json.dumps({"id": "evt_1", "type": {"x": MARKER}, "data": {}}).encode(),
    json.dumps({"id": "evt_1", "created_at": MARKER}).encode(),
    b'{"id": "evt_1", "data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    b"\xff\xfe" + MARKER.encode(),
]


@pytest.mark.parametrize("raw", MALFORMED, ids=range(len(MALFORMED)))
def test_a_validly_signed_malformed_event_is_a_typed_rejection_answered_400(receiver, raw):
    from deck_nb.client import DeckError, WebhookPayloadError

    direct = WebhookReceiver(SECRET)
    with pytest.raises(WebhookPayloadError) as caught:
        direct.handle(raw, signed_raw(raw))
    assert isinstance(caught.value, WebhookVerificationError) and isinstance(caught.value, DeckError)
    assert MARKER not in str(caught.value) and direct.rejected == 1

    response = httpx.post(receiver.url, content=raw, headers=signed_raw(raw))
    assert response.status_code == 400
    assert MARKER not in response.text and "[[[" not in response.text
    assert receiver.rejected == 1 and receiver.drain() == []


@pytest.mark.parametrize(
    "others",
    [
        ["v1,!!!not-base64!!!"],
        ["garbage"],
        ["v1,a,b"],
        ["v1,AAAA"],
        ["v2,whatever", "v1,%%%"],
    ],
)
def test_one_malformed_signature_among_valid_ones_does_not_reject_the_delivery(receiver, others):
    body, headers = signed(EVENT)
    headers["webhook-signature"] = " ".join([*others, headers["webhook-signature"]])
    assert httpx.post(receiver.url, content=body, headers=headers).status_code == 204
    assert [e.id for e in receiver.drain()] == ["evt_1"]
    headers["webhook-signature"] = " ".join(others)  # without the valid one it is still rejected
    assert httpx.post(receiver.url, content=body, headers=headers).status_code == 400
