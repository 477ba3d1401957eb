"""A retried answer never answers a later prompt: when a submission's response is lost (a 500 or a
dropped connection after Deck handled it), the client reads the resource before resending and resends
only if the same prompt is still open.

A small proxy in front of the simulator loses the first answer's response. It also strips the
Idempotency-Key, as Deck does in effect when the handling failed after the answer landed (only
successful responses are stored, so the retry's key does not dedupe it).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import deck_nb as dn
from deck_nb._serve import ServerThread

WRONG, RIGHT = "000000", "123456"  # the simulator's MFA code is 123456


class _Dropped(Response):
    """Starts the response, then hangs up."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[override]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})


class LossyProxy:
    """Forwards to the simulator; the first interaction POST is handled (or not) and its answer lost."""

    def __init__(self, sim, *, lose: str, lands: bool) -> None:
        self.sim, self.lose, self.lands = sim, lose, lands
        self.answers: list[str] = []  # codes that reached the simulator, in order
        self.lost = 0

        async def forward(request: Request) -> Response:
            body = await request.body()
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "idempotency-key")}
            is_answer = request.method == "POST" and request.url.path.endswith("/interaction")
            if is_answer and self.lost == 0:
                self.lost += 1
                if self.lands:
                    await self._send(request, headers, body)
                    await self._control("clock/advance", {"seconds": 3})  # the source asks again meanwhile
                return _Dropped() if self.lose == "drop" else Response(b'{"errors": []}', 500)
            upstream = await self._send(request, headers, body)
            return Response(upstream.content, upstream.status_code, media_type="application/json")

        self.server = ServerThread(
            Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])]), host="127.0.0.1", port=0
        ).start()
        self.base_url = f"{self.server.root_url}/v2"

    async def _send(self, request: Request, headers: dict, body: bytes) -> httpx.Response:
        if request.url.path.endswith("/interaction"):
            self.answers.append(httpx.Response(200, content=body).json()["inputs"]["code"])
        async with httpx.AsyncClient(timeout=10) as http:
            return await http.request(
                request.method, self.sim.root_url + request.url.path, params=request.query_params, headers=headers,
                content=body,
            )  # fmt: skip

    async def _control(self, path: str, body: dict) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            headers = {"Authorization": f"Bearer {self.sim.api_key}"}
            (await http.post(f"{self.sim.root_url}/_sim/{path}", json=body, headers=headers)).raise_for_status()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def proxy_factory(sim):
    proxies = []

    def make(**options) -> LossyProxy:
        proxies.append(LossyProxy(sim, **options))
        return proxies[-1]

    yield make
    for proxy in proxies:
        proxy.stop()


def _prompted_connection(sim):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url, rate_limit=None) as setup:
        conn = setup.connections.create("src_sim_power", username="ada", password="pass_good")
        sim.advance(3)
        conn = setup.connections.retrieve(conn.id)
    assert conn.status == "interaction_required" and conn.interaction.attempts_remaining == 3
    return conn


def _submit(proxy, sim, conn, code, *, mode, read_first):
    async def run_async():
        async with dn.AsyncDeck(api_key=sim.api_key, base_url=proxy.base_url, rate_limit=None, deadline=30) as deck:
            if read_first:
                await deck.connections.retrieve(conn.id)
            return await deck.connections.submit_interaction(conn.id, code=code)

    if mode == "async":
        return asyncio.run(asyncio.wait_for(run_async(), 40))
    with dn.Deck(api_key=sim.api_key, base_url=proxy.base_url, rate_limit=None, deadline=30) as deck:
        if read_first:
            list(deck.events.list())  # the client learns the open prompt from the event feed
        return deck.connections.submit_interaction(conn.id, code=code)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("lose", ["500", "drop"])
@pytest.mark.parametrize("read_first", [True, False], ids=["prompt-seen", "prompt-unseen"])
def test_a_lost_answer_that_landed_is_not_resent_to_the_next_prompt(sim, proxy_factory, mode, lose, read_first):
    conn = _prompted_connection(sim)
    proxy = proxy_factory(lose=lose, lands=True)
    fresh = _submit(proxy, sim, conn, WRONG, mode=mode, read_first=read_first)
    # the wrong code answered prompt 1 only; the caller gets the new prompt to judge, one attempt lower
    assert proxy.answers == [WRONG]
    assert fresh.status == "interaction_required" and fresh.interaction.attempts_remaining == 2
    # the right code then answers prompt 2
    fresh = _submit(proxy, sim, conn, RIGHT, mode=mode, read_first=False)
    sim.advance(3)
    assert proxy.answers == [WRONG, RIGHT]
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url, rate_limit=None) as deck:
        assert deck.connections.retrieve(conn.id).status == "connected"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_lost_answer_that_did_not_land_is_resent_to_the_same_prompt(sim, proxy_factory, mode):
    conn = _prompted_connection(sim)
    proxy = proxy_factory(lose="500", lands=False)
    fresh = _submit(proxy, sim, conn, RIGHT, mode=mode, read_first=True)
    assert proxy.answers == [RIGHT]  # resent once, after the read showed the same prompt still open
    assert fresh.status == "connecting"
    sim.advance(3)
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url, rate_limit=None) as deck:
        assert deck.connections.retrieve(conn.id).status == "connected"
