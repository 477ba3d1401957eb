"""Storage routes: a run's files and screenshots, one file with its signed URL, ``include=`` sections
on a run, and the signed URLs themselves (served with no API key, like a bucket would)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from . import _catalog as catalog
from . import _storage_files as files
from ._errors import invalid
from ._pagination import paginate
from ._screenshots import Screenshot, parse_id, screenshots
from ._signing import FILES_PATH
from ._storage import SCREENSHOT_RETENTION_S, StorageItem

if TYPE_CHECKING:
    from ._host import Host

INCLUDE_SECTIONS = {"input": "input", "storage": "storage", "artifacts": "artifacts", "screenshots": "artifacts"}


def task_object(spec: catalog.TaskSpec) -> dict[str, Any]:
    """A task as ``GET /v2/tasks/{id}`` shows it: with its storage config and its output's count."""
    obj = catalog.task_object(spec)
    count = files.COUNT_FIELD.get(spec.id)
    if count:
        schema = obj["output_schema"]
        obj["output_schema"] = {**schema, "properties": {**schema["properties"], count: {"type": "integer"}}}
    obj["storage"] = files.storage_config(spec.id)
    return obj


def _root(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _url(sim: Host, request: Request, id_: str) -> str:
    expires = sim.clock.read() + sim.clock.scaled(sim.world.storage_settings.url_ttl)
    return sim.signer.url(_root(request), id_, expires)


def run_screenshots(sim: Host, run_id: str) -> list[Screenshot]:
    world = sim.world
    run = world.get_run(run_id)
    shots = screenshots(run, world.events, len(world.items_by_run.get(run.id, [])))
    return [s for s in shots if not world.past_retention(s.created, SCREENSHOT_RETENTION_S)]


def include_sections(request: Request) -> set[str]:
    wanted = set()
    for raw in request.query_params.getlist("include"):
        for value in (v.strip() for v in raw.split(",")):
            if not value:
                continue
            if value not in INCLUDE_SECTIONS:
                raise invalid("include", f"Unknown include `{value}`; accepted: input, storage, artifacts.")
            wanted.add(INCLUDE_SECTIONS[value])
    return wanted


def get_run(sim: Host, request: Request, body: Any):
    """``GET /v2/task-runs/{id}``: sections not asked for are omitted, not null."""
    sections = include_sections(request)
    run = sim.world.get_run(request.path_params["id"])
    obj = run.public(include_input="input" in sections)
    if "storage" in sections:
        obj["storage"] = [item.public() for item in sim.world.run_items(run.id)]
    if "artifacts" in sections:
        shots = run_screenshots(sim, run.id)
        obj["artifacts"] = {"screenshots": [s.public(_url(sim, request, s.id)) for s in shots]}
    return 200, obj


def list_storage(sim: Host, request: Request, body: Any):
    items = sim.world.run_items(request.path_params["id"])
    return 200, paginate(items, lambda i: i.seq, lambda i: i.public(), request.url.path, {}, request.query_params)


def get_storage(sim: Host, request: Request, body: Any):
    item = sim.world.get_item(request.path_params["id"])
    return 200, item.public(_url(sim, request, item.id), with_url=True)


def list_screenshots(sim: Host, request: Request, body: Any):
    shots = run_screenshots(sim, request.path_params["id"])
    render = lambda s: s.public(_url(sim, request, s.id))  # noqa: E731
    return 200, paginate(shots, lambda s: s.number, render, request.url.path, {}, request.query_params)


def _refuse(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"type": "request", "code": code, "message": message}]}, status)


async def _async(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


class _BrokenStream(Response):
    """Declares the whole length, sends part of it and hangs up: a download cut short."""

    def __init__(self, chunks: Iterator[bytes], headers: dict[str, str], media_type: str) -> None:
        super().__init__(None, 200, headers, media_type)
        self.chunks = chunks

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[override]
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        for chunk in self.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})


def _find(sim: Host, id_: str) -> tuple[StorageItem | Screenshot | None, float]:
    world = sim.world
    if id_.startswith("stor_"):
        item = world.items.get(id_)
        return item, item.created if item else 0.0
    parsed = parse_id(id_)
    if parsed is None or parsed[0] not in world.runs:
        return None, 0.0
    shots = screenshots(world.runs[parsed[0]], world.events, len(world.items_by_run.get(parsed[0], [])))
    shot = next((s for s in shots if s.number == parsed[1]), None)
    return shot, shot.created if shot else 0.0


def download_endpoint(sim: Host):
    async def download(request: Request) -> Response:
        """A signed URL: genuine (else 403), the file kept (else 404), not expired (else 403)."""
        stats = sim.world.download_stats
        if "authorization" in request.headers:
            stats["with_authorization"] += 1
        id_ = request.path_params["id"]
        expires_ms = sim.signer.verify(id_, request.query_params.get("expires"), request.query_params.get("signature"))
        if expires_ms is None:
            stats["forbidden"] += 1
            return _refuse(403, "signature_invalid", "This download link is not valid.")
        sim.clock.run_due()
        found, created = _find(sim, id_)
        retention = SCREENSHOT_RETENTION_S if isinstance(found, Screenshot) else None
        if found is None or sim.world.past_retention(created, *((retention,) if retention else ())):
            stats["gone"] += 1
            return _refuse(404, "file_not_found", "This file is no longer kept.")
        if sim.clock.read() * 1000 > expires_ms:
            stats["forbidden"] += 1
            return _refuse(403, "url_expired", "This download link has expired; retrieve the file again.")
        stats["served"] += 1
        if isinstance(found, Screenshot):
            image = found.image()
            size, chunks, name, mime = len(image), iter([image]), found.file_name, "image/png"
        else:
            size, chunks = found.body()
            name, mime = found.file_name, found.capture.file_type
        headers = {
            "Content-Length": str(size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
            "Cache-Control": "private, no-store",
        }
        if isinstance(found, StorageItem) and found.lie == "truncate":
            return _BrokenStream(chunks, headers, mime)
        return StreamingResponse(_async(chunks), media_type=mime, headers=headers)

    return download


def routes(sim: Host) -> list[Route]:
    e = sim.endpoint
    return [
        Route("/v2/task-runs/{id}/storage", e(list_storage), methods=["GET"]),
        Route("/v2/task-runs/{id}/screenshots", e(list_screenshots), methods=["GET"]),
        Route("/v2/storage/{id}", e(get_storage), methods=["GET"]),
        Route(FILES_PATH + "/{id}", download_endpoint(sim), methods=["GET"]),
    ]
