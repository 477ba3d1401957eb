"""Idempotency, rate limiting, events, webhooks, faults, time and the control routes."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from helpers import Api, error_of
from standardwebhooks import Webhook, WebhookVerificationError

CREATE = {
    "source_id": "src_sim_mobile",
    "auth_method": "username_password",
    "auth_credentials": {"username": "ada", "password": "pass_good"},
}


class TestIdempotency:
    def test_same_key_same_body_replays_without_a_new_resource(self, api, sim):
        first = api.post("connections", CREATE, headers={"Idempotency-Key": "k-1"})
        second = api.post("connections", CREATE, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == second.status_code == 201
        assert first.json() == second.json()
        assert second.headers.get("Idempotent-Replayed") == "true"
        assert len(api.ok(api.get("connections"))["data"]) == 1
        assert sim.stats()["connections_created"] == 1

    def test_same_key_different_body_is_409(self, api):
        api.ok(api.post("connections", CREATE, headers={"Idempotency-Key": "k-2"}), 201)
        other = {**CREATE, "external_id": "x"}
        response = api.post("connections", other, headers={"Idempotency-Key": "k-2"})
        assert response.status_code == 409
        assert error_of(response)["type"] == "idempotency" and error_of(response)["code"] == "idempotency_error"

    def test_key_over_256_chars_is_400(self, api):
        response = api.post("connections", CREATE, headers={"Idempotency-Key": "k" * 257})
        assert response.status_code == 400 and error_of(response)["code"] == "idempotency_key_error"
        assert api.post("connections", CREATE, headers={"Idempotency-Key": "k" * 256}).status_code == 201

    def test_only_successes_are_stored(self, api):
        bad = {**CREATE, "source_id": "src_nope"}
        assert api.post("connections", bad, headers={"Idempotency-Key": "k-3"}).status_code == 404
        # the failed attempt stored nothing, so the same key may now carry a different body
        assert api.post("connections", CREATE, headers={"Idempotency-Key": "k-3"}).status_code == 201

    def test_replayed_run_create_does_not_start_a_second_run(self, api):
        conn = api.connected("src_sim_mobile")
        body = {"connection_id": conn["id"], "input": {"months": 2}}
        a = api.post("tasks/task_sim_bills/run", body, headers={"Idempotency-Key": "run-1"})
        b = api.post("tasks/task_sim_bills/run", body, headers={"Idempotency-Key": "run-1"})
        assert a.json()["id"] == b.json()["id"]
        assert len(api.ok(api.get("task-runs"))["data"]) == 1

    def test_keys_expire_after_24h(self, api):
        api.ok(api.post("connections", CREATE, headers={"Idempotency-Key": "k-4"}), 201)
        api.advance(24 * 3600 + 1)
        again = api.post("connections", {**CREATE, "external_id": "new"}, headers={"Idempotency-Key": "k-4"})
        assert again.status_code == 201


@pytest.mark.deck_simulator(clock="manual", rate_limit="5/10s")
def test_rate_limit_refuses_with_retry_after_and_refusals_do_not_count(api, sim):
    for _ in range(5):
        api.ok(api.get("test"))
    refused = api.get("test")
    assert refused.status_code == 429
    assert error_of(refused)["type"] == "rate_limit" and error_of(refused)["code"] == "rate_limit_exceeded"
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert api.get("test").status_code == 429
    # /_sim is never limited, and neither are 401s counted
    assert sim.stats()["rate_limited"] == 2
    assert httpx.get(f"{sim.base_url}/test").status_code == 401


@pytest.mark.deck_simulator(clock="manual", rate_limit="3/1s")
def test_rate_limit_window_slides_on_the_wall_clock(api):
    for _ in range(3):
        api.ok(api.get("test"))
    assert api.get("test").status_code == 429
    time.sleep(1.05)
    assert api.get("test").status_code == 200


class TestEvents:
    def test_one_event_per_status_change_with_the_full_object(self, api):
        conn = api.open("src_sim_power")
        api.advance(2)
        api.ok(api.answer_connection(conn["id"], code="123456"))
        api.advance(2)
        run = api.start_run("task_sim_bills", conn["id"], {"months": 1})
        api.advance(4)
        events = api.events()
        assert [e["type"] for e in events] == [
            "connection.connecting",
            "connection.interaction_required",
            "connection.connecting",
            "connection.connected",
            "task_run.queued",
            "task_run.running",
            "storage.created",  # the run's one bill, stored before the run reports `completed`
            "task_run.completed",
        ]
        for event in events:
            assert event["id"].startswith("evt_") and event["object"] == "event"
            assert "updated_at" not in event and event["created_at"].endswith("Z")
        prompt = events[1]["data"]
        assert prompt["status"] == "interaction_required" and prompt["interaction"]["type"] == "mfa"
        assert events[-1]["data"]["output"]["bills"] and events[-1]["data"]["id"] == run["id"]
        one = api.ok(api.get(f"events/{events[0]['id']}"))
        assert one["type"] == "connection.connecting" and one["data"]["id"] == conn["id"]

    def test_events_have_the_instant_of_each_timer(self, api):
        conn = api.open("src_sim_power")
        api.advance(10)  # fires the 2 s timer at its own instant, not at +10 s
        events = api.events()
        assert events[1]["created_at"] == api.connection(conn["id"])["updated_at"]
        from datetime import datetime

        def ts(e):
            return datetime.fromisoformat(e["created_at"].replace("Z", "+00:00")).timestamp()

        assert ts(events[1]) - ts(events[0]) == pytest.approx(2.0, abs=1e-3)

    def test_filters_type_and_created_after_and_pagination(self, api):
        for i in range(3):
            api.open("src_sim_mobile", username=f"u{i}")
        api.advance(2)
        assert len(api.events(type="connection.connected")) == 3
        assert len(api.events(type="connection.*")) == 6
        first_connected = api.events(type="connection.connected")[0]["created_at"]
        assert api.events(created_after=first_connected) == []
        page = api.ok(api.get("events", limit=4))
        assert len(page["data"]) == 4 and page["has_more"]
        rest = api.ok(api.get("events", limit=4, cursor=page["next_cursor"]))
        assert len(rest["data"]) == 2 and not rest["has_more"]


class _Receiver:
    """A loopback HTTP server that records webhook deliveries and can fail the first N."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = fail_first
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = 500 if len(outer.received) <= outer.fail_first else 204
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.received) >= count, f"{len(self.received)} deliveries, wanted {count}"

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = _Receiver()
    yield r
    r.close()


class TestWebhooks:
    def test_destination_crud_and_generated_secret(self, api, receiver):
        created = api.ok(
            api.post(
                "event-destinations",
                {"name": "mine", "type": "webhook", "webhook": {"url": receiver.url}, "events": ["*"]},
            ),
            201,
        )
        assert created["id"].startswith("evtd_") and created["webhook"]["secret"].startswith("whsec_")
        assert api.ok(api.get(f"event-destinations/{created['id']}"))["name"] == "mine"
        assert [d["id"] for d in api.ok(api.get("event-destinations"))["data"]] == [created["id"]]
        assert api.ok(api.http.delete(f"event-destinations/{created['id']}"))["deleted"] is True
        assert api.get(f"event-destinations/{created['id']}").status_code == 404

    @pytest.mark.parametrize(
        "body,field",
        [
            ({"webhook": {"url": "http://x"}}, "name"),
            ({"name": "a", "webhook": {}}, "webhook.url"),
            ({"name": "a", "webhook": {"url": "ftp://x"}}, "webhook.url"),
            ({"name": "a", "webhook": {"url": "http://x"}, "events": []}, "events"),
            ({"name": "a", "type": "aws_sqs", "webhook": {"url": "http://x"}}, "type"),
        ],
    )
    def test_destination_validation(self, api, body, field):
        response = api.post("event-destinations", body)
        assert response.status_code == 400 and error_of(response)["field"] == field

    def test_deliveries_are_signed_with_standard_webhooks(self, api, receiver):
        secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        api.ok(
            api.post(
                "event-destinations",
                {"name": "n", "webhook": {"url": receiver.url, "secret": secret}, "events": ["connection.connected"]},
            ),
            201,
        )
        witness = _Receiver()  # subscribed to everything: shows what else was sent meanwhile
        try:
            api.ok(api.post("event-destinations", {"name": "w", "webhook": {"url": witness.url}, "events": ["*"]}), 201)
            conn = api.open("src_sim_mobile")
            api.advance(2)
            witness.wait(2)
            receiver.wait(1)
        finally:
            witness.close()
        sent = [json.loads(b)["type"] for _, b in witness.received]
        assert "connection.connecting" in sent and "connection.connected" in sent
        assert len(receiver.received) == 1  # only the subscribed type
        headers, body = receiver.received[0]
        event = Webhook(secret).verify(body, headers)
        assert event["type"] == "connection.connected" and event["data"]["id"] == conn["id"]
        assert headers["webhook-id"] == event["id"]
        assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5  # wall clock, even on a manual clock
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").verify(body, headers)
        tampered = body.replace(b"connected", b"invalid")
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(tampered, headers)

    def test_failed_deliveries_are_retried_with_the_same_id(self, api):
        receiver = _Receiver(fail_first=2)
        try:
            api.ok(
                api.post(
                    "event-destinations",
                    {"name": "n", "webhook": {"url": receiver.url}, "events": ["connection.connecting"]},
                ),
                201,
            )
            api.open("src_sim_mobile")
            receiver.wait(3, timeout=10)
            ids = {h["webhook-id"] for h, _ in receiver.received}
            assert len(ids) == 1 and len(receiver.received) == 3
        finally:
            receiver.close()


class TestFaults:
    def test_injected_500s_and_429s_and_clearing(self, api, sim):
        sim.set_faults(error_rate=1.0)
        response = api.get("test")
        assert response.status_code == 500 and error_of(response)["code"] == "api_error"
        sim.set_faults(rate_limit_rate=1.0)
        response = api.get("test")
        assert response.status_code == 429 and response.headers["Retry-After"] == "1"
        sim.control("DELETE", "faults")
        assert api.get("test").status_code == 200
        assert sim.control("GET", "config")["faults"]["error_rate"] == 0

    def test_injected_500_happens_before_any_work(self, api, sim):
        sim.set_faults(error_rate=1.0)
        assert api.post("connections", CREATE).status_code == 500
        sim.set_faults()
        assert api.ok(api.get("connections"))["data"] == []

    def test_dropped_connection_loses_the_answer_but_not_the_work(self, api, sim):
        sim.set_faults(drop_rate=1.0)
        with pytest.raises(httpx.TransportError):
            api.post("connections", CREATE, headers={"Idempotency-Key": "drop-1"})
        sim.set_faults()
        replay = api.post("connections", CREATE, headers={"Idempotency-Key": "drop-1"})
        assert replay.status_code == 201 and replay.headers.get("Idempotent-Replayed") == "true"
        assert sim.stats()["connections_created"] == 1

    def test_latency_is_added(self, api, sim):
        sim.set_faults(latency_ms=150)
        started = time.perf_counter()
        api.ok(api.get("test"))
        assert time.perf_counter() - started >= 0.14

    @pytest.mark.parametrize("body", [{"error_rate": 2}, {"drop_rate": -1}, {"latency_ms": "x"}, {"bogus": 1}])
    def test_bad_fault_settings_are_refused(self, sim, body):
        response = httpx.post(
            f"{sim.root_url}/_sim/faults", json=body, headers={"Authorization": f"Bearer {sim.api_key}"}
        )
        assert response.status_code == 400


class TestControl:
    def test_advance_answers_the_new_now_and_refuses_bad_values(self, sim):
        before = sim.control("GET", "config")["now"]
        after = sim.advance(90)["now"]
        from datetime import datetime

        def parse(s):
            return datetime.fromisoformat(s.replace("Z", "+00:00"))

        assert (parse(after) - parse(before)).total_seconds() == pytest.approx(90, abs=0.001)
        response = httpx.post(
            f"{sim.root_url}/_sim/clock/advance",
            json={"seconds": -1},
            headers={"Authorization": f"Bearer {sim.api_key}"},
        )
        assert response.status_code == 400

    def test_manual_clock_stands_still(self, api, sim):
        conn = api.open("src_sim_power")
        before = sim.control("GET", "config")["now"]
        time.sleep(0.3)
        assert sim.control("GET", "config")["now"] == before  # a real clock would have moved 0.3 s
        assert api.connection(conn["id"])["status"] == "connecting"
        sim.advance(2)  # the advance, not the wall clock, ends the phase
        assert api.connection(conn["id"])["status"] == "interaction_required"
        assert sim.control("GET", "config")["clock"] == "manual"

    def test_reset_forgets_everything(self, api, sim):
        api.open("src_sim_power")
        sim.reset()
        assert api.ok(api.get("connections"))["data"] == [] and api.events() == []


@pytest.mark.deck_simulator(clock="real", time_scale=0.05, rate_limit="off")
def test_real_clock_with_time_scale_runs_the_whole_flow(api):
    conn = api.open("src_sim_power")
    deadline = time.monotonic() + 5
    while api.connection(conn["id"])["status"] != "interaction_required":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    api.ok(api.answer_connection(conn["id"], code="123456"))
    while api.connection(conn["id"])["status"] != "connected":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    run = api.start_run("task_sim_bills", conn["id"], {"months": 1})
    while api.run(run["id"])["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert api.run(run["id"])["runtime_ms"] == pytest.approx(150, abs=60)


@pytest.mark.deck_simulator(clock="real", time_scale=0.01, rate_limit="off")
def test_real_clock_window_expires_without_any_request(api):
    conn = api.open("src_sim_power")
    time.sleep(0.02 + 1.2 + 0.3)  # 2 s connecting + 120 s window, at 1/100
    assert api.connection(conn["id"])["status"] == "disconnected"


def test_many_concurrent_clients(sim):
    import concurrent.futures

    def flow(i):
        client = Api(sim)
        try:
            conn = client.open("src_sim_mobile", username=f"load{i}")
            return client.get(f"connections/{conn['id']}").status_code
        finally:
            client.http.close()

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(flow, range(200)))
    assert statuses == [200] * 200


def test_event_payload_is_json_serialisable_and_stable(api):
    api.open("src_sim_mobile")
    event = api.events()[0]
    assert json.loads(json.dumps(event)) == event
