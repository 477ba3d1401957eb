"""A small hostile Deck Storage for the storage tests: ``/v2`` answers items whose signed URLs
(``/bucket/{id}?sig=…``) misbehave on purpose — refuse once or always, vanish, send more bytes than
``file_size``, hang up midway, end short, stall, trickle — and every request's headers are kept."""

from __future__ import annotations

import asyncio
import secrets

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from deck_nb._serve import ServerThread

SIZE = 300_000
BODY = bytes(range(256)) * (SIZE // 256) + bytes(SIZE % 256)
KEY = "sk_test_hostile_storage"
MODES = ("ok", "expired_once", "expired", "gone", "oversize", "hangup", "short", "stall", "trickle", "bigger_header")


class Dropped(Response):
    """Announces the whole body, sends half, then hangs up."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[override]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(SIZE).encode())]})
        await send({"type": "http.response.body", "body": BODY[: SIZE // 2], "more_body": True})
        raise RuntimeError("hang up")


class StorageServer:
    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}  # every signed URL's token handed out → its item
        self.bucket_headers: list[dict[str, str]] = []
        self.api_headers: list[dict[str, str]] = []
        self.hits: dict[str, int] = {}
        self.names: dict[str, str] = {}
        app = Starlette(
            routes=[
                Route("/v2/storage/{id}", self.item),
                Route("/v2/task-runs/{id}/storage", self.listing),
                Route("/v2/task-runs/{id}", self.run),
                Route("/bucket/{id}", self.bucket),
            ]
        )
        self.server = ServerThread(app, host="127.0.0.1", port=0, name="hostile-storage")

    def start(self) -> StorageServer:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    @property
    def base_url(self) -> str:
        return f"{self.server.root_url}/v2"

    def item_of(self, id_: str, url: str | None = None) -> dict:
        mode = id_.removeprefix("stor_")
        return {
            "id": id_,
            "object": "storage",
            "file_name": self.names.get(id_, f"{mode}.bin"),
            "file_type": "application/octet-stream",
            "file_size": SIZE,
            **({"url": url} if url else {}),
            "metadata": None,
            "extraction": {"total_due": 1.5, "currency": "USD"} if mode == "ok" else None,
            "result": "success",
            "task_run_id": "trun_hostile",
            "created_at": "2026-01-01T00:00:00Z",
        }

    async def item(self, request: Request) -> Response:
        self.api_headers.append(dict(request.headers))
        id_ = request.path_params["id"]
        token = secrets.token_urlsafe(16)
        self.tokens[token] = id_
        return JSONResponse(self.item_of(id_, f"{self.server.root_url}/bucket/{id_}?sig={token}"))

    async def listing(self, request: Request) -> Response:
        self.api_headers.append(dict(request.headers))
        ids = request.path_params["id"].removeprefix("trun_").split("-")
        return JSONResponse({"data": [self.item_of(f"stor_{m}") for m in ids], "has_more": False, "next_cursor": None})

    async def run(self, request: Request) -> Response:
        return JSONResponse({"id": request.path_params["id"], "object": "task_run", "status": "completed"})

    async def bucket(self, request: Request) -> Response:
        self.bucket_headers.append(dict(request.headers))
        id_ = request.path_params["id"]
        if self.tokens.get(request.query_params.get("sig", "")) != id_:
            return Response("tampered", 403)
        mode = id_.removeprefix("stor_")
        self.hits[id_] = self.hits.get(id_, 0) + 1
        if mode == "expired" or (mode == "expired_once" and self.hits[id_] == 1):
            return Response("expired", 403)
        if mode == "gone":
            return Response("gone", 404)
        if mode == "oversize":
            return StreamingResponse(_chunks(BODY + b"more and more"))
        if mode == "bigger_header":
            return Response(BODY + b"x", headers={"content-length": str(SIZE + 1)})
        if mode == "hangup":
            return Dropped()
        if mode == "short":
            return StreamingResponse(_chunks(BODY[:-10]))
        if mode == "stall":
            return StreamingResponse(_stall())
        if mode == "trickle":
            return StreamingResponse(_trickle())
        return StreamingResponse(_chunks(BODY), headers={"content-length": str(SIZE)})


async def _chunks(body: bytes):
    for i in range(0, len(body), 65536):
        yield body[i : i + 65536]


async def _stall():
    yield BODY[:1000]
    await asyncio.sleep(3600)


async def _trickle():
    for i in range(SIZE):
        yield BODY[i : i + 1]
        await asyncio.sleep(0.05)
