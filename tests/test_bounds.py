"""Everything the client reads is bounded: the per-call deadline covers the whole call (a trickling
body included), response bodies have a size cap, and every failure is a DeckError with a message that
names the call and never quotes the body. Hostile servers are small Starlette apps on loopback."""

from __future__ import annotations

import asyncio
import gzip
import socketserver
import threading
import time

import pytest
from starlette.applications import Starlette
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

import deck_nb as dn
from deck_nb._serve import ServerThread
from deck_nb.client import (
    APIResponseValidationError,
    APITimeoutError,
    DeckError,
    InvalidRequestError,
    ResponseTooLargeError,
)

KEY = "sk_test_bounds_secret"


async def _trickle(request):
    """Headers at once, then one byte every 0.2 s — each read is quick, the whole never ends in time.
    Bounded (60 bytes, 12 s) so the server stops by itself even if a client keeps reading."""

    async def body():
        yield b'{"id": "trun_1", "status": "running", "pad": "'
        for _ in range(60):
            await asyncio.sleep(0.2)
            yield b"x"
        yield b'"}'

    return StreamingResponse(body(), media_type="application/json")


_FIRST_TRICKLES = {"seen": 0}


async def _trickle_once(request):
    """The first answer trickles (as one bad response among many would); the next is whole."""
    _FIRST_TRICKLES["seen"] += 1
    if _FIRST_TRICKLES["seen"] == 1:
        return await _trickle(request)
    return Response(b'{"id": "trun_1", "object": "task_run", "status": "running"}', media_type="application/json")


async def _big(request):
    size = int(request.query_params.get("size", "5000"))
    return Response(b'{"id": "trun_1", "pad": "' + b"x" * size + b'"}', media_type="application/json")


async def _big_chunked(request):
    async def body():  # no content-length: only counting while reading can catch it
        yield b'{"id": "trun_1", "pad": "'
        for _ in range(50):
            yield b"x" * 1000
        yield b'"}'

    return StreamingResponse(body(), media_type="application/json")


async def _bomb(request):
    packed = gzip.compress(b'{"id": "trun_1", "pad": "' + b"0" * 2_000_000 + b'"}')
    return Response(packed, media_type="application/json", headers={"content-encoding": "gzip"})


async def _nested(request):
    depth = 200_000
    inner = b"[" * depth + b"]" * depth
    return Response(b'{"id": "trun_1", "status": "running", "output": ' + inner + b"}", media_type="application/json")


@pytest.fixture(scope="module")
def hostile():
    routes = [
        Route("/v2/task-runs/trickle", _trickle),
        Route("/v2/task-runs/trickle-once", _trickle_once),
        Route("/v2/task-runs/big", _big),
        Route("/v2/task-runs/chunked", _big_chunked),
        Route("/v2/task-runs/bomb", _bomb),
        Route("/v2/task-runs/nested", _nested),
    ]
    server = ServerThread(Starlette(routes=routes), host="127.0.0.1", port=0).start()
    yield f"{server.root_url}/v2"
    server.stop()


def test_a_trickling_body_ends_at_the_deadline_sync(hostile):
    with dn.Deck(api_key=KEY, base_url=hostile, timeout=1, deadline=2, max_retries=3, rate_limit=None) as deck:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            deck.task_runs.retrieve("trickle")
        elapsed = time.monotonic() - started
    assert elapsed < 3.0, f"the call ran {elapsed:.1f}s past a 2 s deadline"
    assert "GET /task-runs/trickle" in str(caught.value) and "deadline" in str(caught.value)


def test_a_trickling_body_ends_at_the_deadline_async(hostile):
    async def main():
        async with dn.AsyncDeck(api_key=KEY, base_url=hostile, timeout=1, deadline=2, rate_limit=None) as deck:
            started = time.monotonic()
            with pytest.raises(APITimeoutError) as caught:
                await deck.task_runs.retrieve("trickle")
            return time.monotonic() - started, caught.value

    elapsed, error = asyncio.run(asyncio.wait_for(main(), 20))
    assert elapsed < 2.5, f"the call ran {elapsed:.1f}s past a 2 s deadline"
    assert "GET /task-runs/trickle" in str(error)


class _TrickledHeaders(socketserver.BaseRequestHandler):
    """A raw server whose *headers* come one byte every 0.2 s (bounded: 60 bytes, then it hangs up)."""

    def handle(self) -> None:
        self.request.settimeout(15)
        self.request.recv(65536)
        try:
            self.request.sendall(b"HTTP/1.1 200 OK\r\nX-Pad: ")
            for _ in range(60):
                time.sleep(0.2)
                self.request.sendall(b"x")
        except OSError:
            return  # the client gave up, as it should


@pytest.fixture(scope="module")
def trickled_headers():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _TrickledHeaders)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v2"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_trickled_headers_end_at_the_deadline_too(trickled_headers, mode):
    options = {"api_key": KEY, "base_url": trickled_headers, "timeout": 1, "deadline": 2, "rate_limit": None}

    async def run_async():
        async with dn.AsyncDeck(**options) as deck:
            await deck.test()

    started = time.monotonic()
    with pytest.raises(APITimeoutError, match="deadline"):
        if mode == "async":
            asyncio.run(asyncio.wait_for(run_async(), 20))
        else:
            with dn.Deck(**options) as deck:
                deck.test()
    assert time.monotonic() - started < 2.6


@pytest.mark.parametrize("route", ["big", "chunked", "bomb"])  # declared length, chunked, gzip bomb
def test_a_body_over_the_cap_is_refused_before_it_is_read_whole(hostile, route):
    deck = dn.Deck(api_key=KEY, base_url=hostile, max_response_bytes=4096, rate_limit=None)
    with deck, pytest.raises(ResponseTooLargeError, match="over the 4096 bytes cap") as caught:
        deck.task_runs.retrieve(route)
    assert "xxxx" not in str(caught.value) and "0000" not in str(caught.value)
    assert isinstance(caught.value, DeckError)


def test_the_default_cap_is_20_mb_and_bodies_below_it_are_read(hostile):
    with dn.Deck(api_key=KEY, base_url=hostile, rate_limit=None) as deck:
        assert deck.max_response_bytes == 20 * 1024 * 1024
        assert deck.task_runs.retrieve("big").id == "trun_1"
    with pytest.raises(ValueError, match="max_response_bytes"):
        dn.Deck(api_key=KEY, base_url=hostile, max_response_bytes=0)


def test_a_body_over_the_cap_is_refused_by_the_async_client_too(hostile):
    async def main():
        async with dn.AsyncDeck(api_key=KEY, base_url=hostile, max_response_bytes=4096, rate_limit=None) as deck:
            await deck.task_runs.retrieve("chunked")

    with pytest.raises(ResponseTooLargeError):
        asyncio.run(asyncio.wait_for(main(), 20))


def test_deeply_nested_json_is_a_clear_deck_error(hostile):
    deck = dn.Deck(api_key=KEY, base_url=hostile, rate_limit=None)
    with deck, pytest.raises(APIResponseValidationError, match="nested too deeply") as caught:
        deck.task_runs.retrieve("nested")
    assert "[[[" not in str(caught.value)


def test_an_id_too_long_for_a_url_is_a_deck_error_before_anything_is_sent(hostile):
    with dn.Deck(api_key=KEY, base_url=hostile, rate_limit=None) as deck:
        with pytest.raises(InvalidRequestError, match="task_run_id is 100000 characters long"):
            deck.task_runs.retrieve("x" * 100_000)
        with pytest.raises(DeckError, match="URL is invalid"):  # a query too long for a URL, too
            list(deck.connections.list(external_id="x" * 70_000))
        assert deck.stats.requests == 0


@pytest.mark.parametrize("shell", ["sync", "async"])
def test_one_trickling_answer_is_cut_at_the_attempt_timeout_and_retried(hostile, shell):
    """``timeout`` bounds each attempt as a whole, so one trickled answer costs one attempt, not the
    whole call: the retry gets the real answer well inside the deadline."""
    _FIRST_TRICKLES["seen"] = 0
    options = {"api_key": KEY, "base_url": hostile, "timeout": 1, "deadline": 20, "rate_limit": None}

    async def run_async():
        async with dn.AsyncDeck(**options) as deck:
            return await deck.task_runs.retrieve("trickle-once")

    started = time.monotonic()
    if shell == "sync":
        with dn.Deck(**options) as deck:
            run = deck.task_runs.retrieve("trickle-once")
    else:
        run = asyncio.run(run_async())
    elapsed = time.monotonic() - started
    assert run.status == "running" and _FIRST_TRICKLES["seen"] == 2
    assert elapsed < 6.0, f"one trickled answer held the call {elapsed:.1f}s"
