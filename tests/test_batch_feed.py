"""A batch never hangs on a failed event feed: a proxy on loopback in front of the simulator makes
``/v2/events`` fail for a while (or for good); the batch polls meanwhile, follows the feed again once
it is back, and always ends."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

import deck_nb as dn
from deck_nb.notebook import run_many

# a run takes ~3 s here (queued, prompt, check, work at half speed): long enough to span an outage
pytestmark = pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.5, rate_limit="200/10s")

BOUND_S = 30  # every batch below ends well inside this, or the test fails (no hang)


class FlakyFeed:
    """A proxy that answers 503 on /v2/events from ``down_from`` to ``down_until`` (monotonic
    seconds; None = for good) and forwards everything else to the simulator."""

    def __init__(self, sim) -> None:
        from starlette.applications import Starlette
        from starlette.routing import Route

        from deck_nb._serve import ServerThread

        self.sim = sim
        self.down_from = 0.0
        self.down_until: float | None = 0.0
        self.served_after_outage = 0  # feed pages answered once the outage ended
        app = Starlette(routes=[Route("/{path:path}", self.forward, methods=["GET", "POST"])])
        self.server = ServerThread(app, host="127.0.0.1", port=0).start()

    def fail(self, seconds: float | None) -> None:
        self.down_from = time.monotonic()
        self.down_until = None if seconds is None else self.down_from + seconds

    @property
    def down(self) -> bool:
        now = time.monotonic()
        return now >= self.down_from and (self.down_until is None or now < self.down_until)

    async def forward(self, request):
        from starlette.responses import JSONResponse, Response

        feed = request.url.path.startswith("/v2/events")
        if feed and self.down:
            return JSONResponse({"errors": [{"type": "api", "code": "service_unavailable"}]}, 503)
        async with httpx.AsyncClient() as client:
            upstream = await client.request(
                request.method,
                f"{self.sim.root_url}{request.url.path}",
                params=request.query_params,
                content=await request.body(),
                headers={k: v for k, v in request.headers.items() if k != "host"},
            )
        if feed and self.down_until is not None and upstream.status_code == 200:
            self.served_after_outage += 1
        return Response(upstream.content, upstream.status_code, media_type="application/json")

    def deck(self, **options) -> dn.Deck:
        return dn.Deck(api_key=self.sim.api_key, base_url=f"{self.server.root_url}/v2", **options)

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def flaky(sim):
    proxy = FlakyFeed(sim)
    yield proxy
    proxy.stop()


@pytest.fixture
def mobile(sim):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
        return dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(30)


def _batch(deck, mobile, n=3, **options):
    items = [dn.RunTask("task_sim_usage", mobile.id, {"days": 1}) for _ in range(n)]
    started = time.monotonic()
    result = asyncio.run(
        asyncio.wait_for(run_many(items, respond={"code": "123456"}, deck=deck, poll_interval=0.2, **options), BOUND_S)
    )
    return result, time.monotonic() - started


def test_a_feed_outage_mid_batch_is_ridden_out_and_the_feed_followed_again(flaky, mobile):
    outage = 2.0
    flaky.fail(outage)
    with flaky.deck(max_retries=1) as deck:  # the client gives up on the feed quickly: the watcher must not
        result, elapsed = _batch(deck, mobile, timeout=None)
    assert [o.status for o in result] == ["completed"] * 3 and all(len(o.output["usage"]) == 1 for o in result)
    assert elapsed < outage + 6  # ~3 s of work each, overlapping the outage: no long stall after it
    assert flaky.served_after_outage > 0 and result.event_polls > 0  # the feed was followed again


def test_a_feed_that_never_answers_still_ends_the_batch_by_polling(flaky, mobile):
    flaky.fail(None)
    with flaky.deck() as deck:
        result, elapsed = _batch(deck, mobile, timeout=None)
    assert [o.status for o in result] == ["completed"] * 3
    assert result.event_polls == 0 and elapsed < 12


def test_a_broken_webhook_receiver_never_strands_the_batch(sim, mobile):
    class Broken:
        """Hands over nothing, then breaks: as a receiver whose server died would."""

        calls = 0

        def drain(self):
            self.calls += 1
            if self.calls > 3:
                raise RuntimeError("receiver gone")
            return []

    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
        result, elapsed = _batch(deck, mobile, webhooks=Broken())
    assert [o.status for o in result] == ["completed"] * 3 and elapsed < 12
