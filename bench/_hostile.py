"""A hostile front for the simulator, for bench chaos: a small reverse proxy that can take the event
feed down (``GET /v2/events`` answers 503 for a stretch) and trickle a share of responses (one byte
every ``TRICKLE_S`` seconds, as a broken or hostile server might). Everything else is passed through.
The simulator's own ``/_sim/faults`` cannot aim at one path, hence the proxy."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from deck_nb._serve import ServerThread


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
TRICKLE_S = 0.5
HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}


class HostileProxy:
    def __init__(self, upstream_root: str, seed: int = 7) -> None:
        self.upstream_root = upstream_root
        self.rng = random.Random(seed)
        self.outage_until = 0.0
        self.trickle_rate = 0.0
        self.counts = {"outage_503s": 0, "trickled": 0, "passed": 0}
        self._http: httpx.AsyncClient | None = None
        app = Starlette(
            routes=[Route("/{path:path}", self._forward, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]
        )
        self.server = ServerThread(app, host="127.0.0.1", port=0, name="hostile-proxy")

    # -- what the bench calls ----------------------------------------------------------------

    def start(self) -> HostileProxy:
        self.server.start()
        return self

    @property
    def base_url(self) -> str:
        return f"{self.server.root_url}/v2"

    def feed_outage(self, seconds: float) -> None:
        """From now on, for ``seconds``, the event feed answers 503."""
        self.outage_until = time.monotonic() + seconds

    def trickle(self, rate: float) -> None:
        """Trickle this share (0..1) of the API's responses from now on."""
        self.trickle_rate = rate

    def calm(self) -> None:
        self.outage_until, self.trickle_rate = 0.0, 0.0

    def stop(self) -> None:
        self.server.stop()

    # -- the proxy ---------------------------------------------------------------------------

    async def _forward(self, request: Request) -> Response:
        path = request.url.path
        api = path.startswith("/v2/")
        if path == "/v2/events" and time.monotonic() < self.outage_until:
            self.counts["outage_503s"] += 1
            body = {"errors": [{"type": "api", "code": "service_unavailable", "message": "Feed unavailable."}]}
            return JSONResponse(body, 503)
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200))
        try:
            upstream = await self._http.request(
                request.method,
                self.upstream_root + path,
                params=request.query_params.multi_items(),
                headers={k: v for k, v in request.headers.items() if k.lower() not in HOP},
                content=await request.body(),
            )
        except httpx.TransportError:  # the simulator dropped the connection (an injected drop): so do we
            return _Dropped()
        headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP}
        if api and self.trickle_rate and self.rng.random() < self.trickle_rate:
            self.counts["trickled"] += 1
            return StreamingResponse(_trickle(upstream.content), upstream.status_code, headers=headers)
        self.counts["passed"] += 1
        return Response(upstream.content, upstream.status_code, headers=headers)


class _Dropped(Response):
    """Starts the response, then hangs up: the client sees a dropped connection."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[override]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})


async def _trickle(content: bytes) -> Any:
    for i in range(len(content)):
        yield content[i : i + 1]
        await asyncio.sleep(TRICKLE_S)
