"""Every wait on a job is bounded, against servers that never let go: a prompt that keeps coming
back after each accepted answer, answers that come slowly, and a slow create inside an event loop.
Hostile servers are small Starlette apps on loopback; every test ends within seconds."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import deck_nb as dn
from deck_nb._serve import ServerThread
from deck_nb.client import WaitTimeout
from deck_nb.notebook import AnswerLoop


class AskingForever:
    """A source that asks for a code, accepts every answer, and asks again. With ``vary`` the
    message changes each time (so the prompt is never the same twice); ``answer_delay`` slows each
    accepted answer; ``create_delay`` slows ``POST /connections``."""

    def __init__(self, *, vary: bool = False, answer_delay: float = 0.0, create_delay: float = 0.0) -> None:
        self.vary, self.answer_delay, self.create_delay = vary, answer_delay, create_delay
        self.posts = 0
        self.counter = itertools.count()
        app = Starlette(
            routes=[
                Route("/v2/connections", self.create, methods=["POST"]),
                Route("/v2/connections/{cid}", self.read, methods=["GET"]),
                Route("/v2/connections/{cid}/interaction", self.answer, methods=["POST"]),
            ]
        )
        self.server = ServerThread(app, host="127.0.0.1", port=0).start()
        self.deck = dn.Deck(api_key="sk_test_x", base_url=f"{self.server.root_url}/v2", max_retries=0)

    def state(self) -> dict:
        message = f"Enter the code (#{next(self.counter)})" if self.vary else "Enter the code"
        interaction = {"type": "mfa", "message": message, "fields": [{"name": "code", "type": "string"}]}
        return {
            "id": "conn_hostile",
            "object": "connection",
            "status": "interaction_required",
            "source_id": "src_x",
            "interaction": interaction,
        }

    async def create(self, request: Request) -> JSONResponse:
        await asyncio.sleep(self.create_delay)
        return JSONResponse(self.state(), status_code=201)

    async def read(self, request: Request) -> JSONResponse:
        return JSONResponse(self.state())

    async def answer(self, request: Request) -> JSONResponse:
        self.posts += 1
        await asyncio.sleep(self.answer_delay)
        return JSONResponse(self.state())

    def close(self) -> None:
        self.deck.close()
        self.server.stop()


@pytest.fixture
def hostile(request):
    servers = []

    def make(**options):
        servers.append(AskingForever(**options))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_a_headless_responder_stops_when_the_same_prompt_keeps_coming_back(hostile):
    server = hostile()
    job = dn.connect("src_x", "ada", "pw", respond=lambda i: {"code": "123456"}, deck=server.deck)
    started = time.monotonic()
    with pytest.raises(AnswerLoop, match="same `mfa` prompt again after 3 accepted answers") as info:
        job.wait()  # no timeout at all: the cap alone ends it
    assert time.monotonic() - started < 10 and server.posts == 3
    assert "123456" not in str(info.value)
    assert "stopped (AnswerLoop)" in repr(job)


def test_a_headless_responder_stops_when_a_source_asks_without_end(hostile):
    server = hostile(vary=True)
    job = dn.connect("src_x", "ada", "pw", respond=lambda i: {"code": "123456"}, deck=server.deck)
    with pytest.raises(AnswerLoop, match="kept asking after 50 accepted answers"):
        job.wait(timeout=30)
    assert server.posts == 50


def test_wait_timeout_bounds_the_ask_and_submit_loop(hostile):
    server = hostile(vary=True, answer_delay=0.1)
    job = dn.connect("src_x", "ada", "pw", respond=lambda i: {"code": "123456"}, deck=server.deck)
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match="did not finish within 1 s"):
        job.wait(timeout=1)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 and server.posts <= 11, (elapsed, server.posts)


def test_wait_async_timeout_bounds_the_whole_job_a_persons_answer_included(hostile):
    server = hostile(vary=True, answer_delay=0.1)

    async def never_answers(interaction):
        await asyncio.sleep(3600)

    async def cell():
        job = dn.connect("src_x", "ada", "pw", respond=lambda i: {"code": "1"}, deck=server.deck)
        started = time.monotonic()
        with pytest.raises(WaitTimeout):
            await job.wait_async(timeout=1)
        looping = time.monotonic() - started
        slow = dn.connect("src_x", "ada", "pw", respond=never_answers, deck=server.deck)
        started = time.monotonic()
        with pytest.raises(WaitTimeout, match=r"did not finish within 0\.5 s"):
            await slow.wait_async(timeout=0.5)
        return looping, time.monotonic() - started

    looping, person = asyncio.run(asyncio.wait_for(cell(), 20))
    assert looping < 1.5 and person < 1.0


def test_connect_with_a_password_inside_an_event_loop_does_not_block_it(hostile):
    server = hostile(create_delay=1.0, vary=True, answer_delay=0.1)

    async def program():
        gaps = []

        async def ticker():
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.02)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        tick = asyncio.ensure_future(ticker())
        await asyncio.sleep(0.05)
        job = dn.connect("src_x", "ada", "pw", respond=lambda i: {"code": "1"}, deck=server.deck)
        with pytest.raises(WaitTimeout):
            await job.wait_async(timeout=1.5)  # the create alone takes 1 s
        tick.cancel()
        return job, max(gaps)

    job, worst = asyncio.run(asyncio.wait_for(program(), 20))
    assert job.id == "conn_hostile"  # created, through the async client
    assert worst < 0.5, f"the loop stalled {worst:.2f} s"
