"""Hardening against a hostile or broken service: a batch never waits long on an event feed that
answers but reports nothing, or whose requests hang; odd interactions and bad arguments give clear,
typed errors; a boolean field takes only a real yes or no."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest

import deck_nb as dn
from deck_nb.client import WaitTimeout
from deck_nb.notebook import run_many

BOUND_S = 30  # every batch below ends well inside this, or the test fails (no hang)
batch_sim = pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.5, rate_limit="200/10s")


class FeedProxy:
    """A loopback proxy in front of the simulator whose ``/v2/events`` is ``pass`` (forwarded),
    ``empty`` (200, no events ever) or ``stall`` (hangs, at most ``STALL_S``). Counts the GETs of
    single task runs (the jobs' own polls)."""

    STALL_S = 12.0

    def __init__(self, sim, mode: str = "pass") -> None:
        from starlette.applications import Starlette
        from starlette.routing import Route

        from deck_nb._serve import ServerThread

        self.sim = sim
        self.mode = mode
        self.stall_from: float | None = None  # monotonic time the feed starts hanging (mode "stall")
        self.run_polls = 0
        self.released = threading.Event()
        app = Starlette(routes=[Route("/{path:path}", self.forward, methods=["GET", "POST"])])
        self.server = ServerThread(app, host="127.0.0.1", port=0).start()

    async def forward(self, request):
        from starlette.responses import JSONResponse, Response

        path = request.url.path
        if path.startswith("/v2/events"):
            if self.mode == "empty":
                return JSONResponse({"data": [], "has_more": False, "next_cursor": None})
            if self.mode == "stall" and (self.stall_from is None or time.monotonic() >= self.stall_from):
                until = time.monotonic() + self.STALL_S
                while time.monotonic() < until and not self.released.is_set():
                    await asyncio.sleep(0.05)
                return JSONResponse({"errors": [{"type": "api", "code": "service_unavailable"}]}, 503)
        if request.method == "GET" and path.startswith("/v2/task_runs/"):
            self.run_polls += 1
        async with httpx.AsyncClient() as client:
            upstream = await client.request(
                request.method,
                f"{self.sim.root_url}{path}",
                params=request.query_params,
                content=await request.body(),
                headers={k: v for k, v in request.headers.items() if k != "host"},
            )
        return Response(upstream.content, upstream.status_code, media_type="application/json")

    def deck(self, **options) -> dn.Deck:
        return dn.Deck(api_key=self.sim.api_key, base_url=f"{self.server.root_url}/v2", **options)

    def stop(self) -> None:
        self.released.set()
        self.server.stop()


@pytest.fixture
def proxy(sim):
    feed = FeedProxy(sim)
    yield feed
    feed.stop()


@pytest.fixture
def mobile(sim):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
        return dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(30)


def _batch(deck, mobile, n=3):
    items = [dn.RunTask("task_sim_usage", mobile.id, {"days": 1}) for _ in range(n)]
    started = time.monotonic()
    result = asyncio.run(
        asyncio.wait_for(run_many(items, respond={"code": "123456"}, deck=deck, poll_interval=0.2), BOUND_S)
    )
    return result, time.monotonic() - started


@batch_sim
def test_a_feed_that_answers_but_reports_nothing_does_not_slow_the_batch(proxy, mobile):
    proxy.mode = "empty"
    with proxy.deck() as deck:
        result, elapsed = _batch(deck, mobile)
    assert [o.status for o in result] == ["completed"] * 3
    assert elapsed < 12  # ~3 s of work each; the jobs check their own runs, not wait 30 s per step


@batch_sim
def test_a_hanging_feed_request_does_not_freeze_the_waiting_jobs(proxy, mobile):
    proxy.mode = "stall"
    proxy.stall_from = time.monotonic() + 1.0  # the feed reports on the runs first, then hangs
    with proxy.deck() as deck:
        result, elapsed = _batch(deck, mobile)
    assert [o.status for o in result] == ["completed"] * 3
    assert elapsed < 9  # not frozen until the hung request's own 10 s timeout


@batch_sim
def test_a_healthy_feed_adds_no_polls_of_the_runs(proxy, mobile):
    with proxy.deck() as deck:
        result, _ = _batch(deck, mobile)
    assert [o.status for o in result] == ["completed"] * 3 and result.event_polls > 0
    assert proxy.run_polls <= 3  # at most a check of each run's own state: the feed does the waiting


class ScriptedDeck:
    """A loopback Deck-ish server whose one task run ``tr_1`` is ``queued`` for ever, or waits on an
    interaction that names no field. Counts every request it gets."""

    def __init__(self) -> None:
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        from deck_nb._serve import ServerThread

        self.mode = "queued"
        self.requests = 0

        async def respond(request):
            self.requests += 1
            if self.mode == "zero_fields" and request.method == "POST" and request.url.path.endswith("interaction"):
                return JSONResponse({"errors": [{"type": "interaction", "code": "interaction_input_invalid"}]}, 400)
            run = {"id": "tr_1", "object": "task_run", "task_id": "task_x", "connection_id": "conn_1"}
            run["created_at"] = "2026-01-01T00:00:00Z"
            if self.mode == "zero_fields":
                run.update(status="interaction_required", interaction={"type": "mfa", "message": "x", "fields": []})
            else:
                run.update(status="queued", interaction=None)
            return JSONResponse(run)

        app = Starlette(routes=[Route("/{path:path}", respond, methods=["GET", "POST"])])
        self.server = ServerThread(app, host="127.0.0.1", port=0).start()

    def deck(self) -> dn.Deck:
        return dn.Deck(api_key="sk_test", base_url=f"{self.server.root_url}/v2", api="connections", timeout=5)


@pytest.fixture
def scripted():
    server = ScriptedDeck()
    yield server
    server.server.stop()


def test_an_interaction_with_no_field_is_a_typed_error_sync_and_async(scripted):
    from deck_nb.notebook.responders import NoAnswer

    scripted.mode = "zero_fields"
    with scripted.deck() as deck:
        with pytest.raises(NoAnswer, match="names no field"):
            dn.run_task("task_x", "conn_1", respond={"code": "1"}, deck=deck).wait(timeout=10)

        async def go():
            return await dn.run_task("task_x", "conn_1", respond={"code": "1"}, deck=deck).wait_async(timeout=10)

        with pytest.raises(NoAnswer, match="names no field"):
            asyncio.run(go())


def test_a_sync_wait_that_runs_out_says_how_to_resume_in_round_numbers(scripted):
    with scripted.deck() as deck:
        job = dn.run_task("task_x", "conn_1", respond={}, deck=deck)
        with pytest.raises(WaitTimeout) as caught:
            job.wait(timeout=0.5)
    message = str(caught.value)
    assert "within 0.5 s" in message and "job.wait()" in message and "queued" in message


def test_bad_source_ids_and_wait_timeouts_are_refused_before_any_request(scripted):
    with scripted.deck() as deck:
        for bad in (123, None):
            with pytest.raises(TypeError, match="source_id"):
                dn.connect(bad, "ada", "pw", respond={}, deck=deck)
            with pytest.raises(TypeError, match="source_id"):  # no password: nothing would be sent until .wait()
                dn.connect(bad, respond={"password": "pw"}, deck=deck)
        with pytest.raises(ValueError, match="source_id"):
            dn.connect("", "ada", "pw", respond={}, deck=deck)
        for bad in ("x", True, [1]):
            with pytest.raises(TypeError, match="timeout"):
                deck.task_runs.wait("tr_1", timeout=bad)
        with pytest.raises(ValueError, match="timeout"):
            deck.task_runs.wait("tr_1", timeout=-1)
    assert scripted.requests == 0


def test_a_boolean_field_takes_only_a_real_yes_or_no_and_never_echoes_the_value():
    from deck_nb.client import Interaction
    from deck_nb.widgets import InteractionForm

    def form():
        return InteractionForm(
            Interaction(type="consent", message="?", fields=[{"name": "ok", "type": "boolean", "label": "Agree"}])
        )

    refused = form()
    assert refused.fill_and_submit(ok="SECRET") is False
    assert refused.submitted is None and set(refused.errors) == {"ok"}
    assert "SECRET" not in json.dumps(refused.widget.get_state(), default=str) and "SECRET" not in str(refused.errors)
    for given, sent in ((True, True), (False, False), ("TRUE", True), ("false", False)):
        accepted = form()
        assert accepted.fill_and_submit(ok=given) is True and accepted.submitted == {"ok": sent}
