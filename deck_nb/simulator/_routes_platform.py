"""Routes both APIs share: key check, sources, tasks, task runs, events, event destinations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from . import _catalog as catalog
from . import _routes_storage as storage_routes
from ._errors import ApiError, invalid, not_found
from ._interactions import read_inputs
from ._models import CURRENT, iso, micros, new_id
from ._pagination import paginate
from ._webhooks import subscribed, validate_destination

if TYPE_CHECKING:
    from ._host import Host

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RUN_FILTERS = (
    "connection_id",
    "credential_id",
    "session_id",
    "source_id",
    "task_id",
    "status",
    "result",
    "created_after",
    "created_before",
)
STATUS_SPELLINGS = {"canceling": "cancelling"}


def parse_time(params: dict[str, Any], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(name, f"`{name}` must be an ISO 8601 timestamp.") from None
    if parsed.tzinfo is None:
        raise invalid(name, f"`{name}` must include a time zone (e.g. `Z`).")
    return (parsed - _EPOCH) // timedelta(microseconds=1)


def page(items: Iterable[Any], seq, render, request: Request, filters: dict[str, Any]) -> dict[str, Any]:
    return paginate(items, seq, render, request.url.path, filters, request.query_params)


def filters_of(request: Request, names: Iterable[str]) -> dict[str, str]:
    return {n: request.query_params[n] for n in names if n in request.query_params}


def multi_filters(request: Request, names: Iterable[str]) -> dict[str, list[str]]:
    """Filters that may repeat (``status=a&status=b``) or list values with commas; AND across names."""
    out: dict[str, list[str]] = {}
    for name in names:
        values = [v for raw in request.query_params.getlist(name) for v in raw.split(",") if v]
        if values:
            out[name] = values
    return out


def test(sim: Host, request: Request, body: Any):
    return 200, {"status": "ready", "environment": "simulator"}


def list_sources(sim: Host, request: Request, body: Any):
    specs = list(catalog.SOURCES.values())
    return 200, page(specs, lambda s: specs.index(s) + 1, catalog.source_object, request, {})


def get_source(sim: Host, request: Request, body: Any):
    spec = catalog.SOURCES.get(request.path_params["id"])
    if spec is None:
        raise ApiError(404, "source", "source_not_found", f"No source with id `{request.path_params['id']}`.")
    return 200, catalog.source_object(spec)


def list_tasks(sim: Host, request: Request, body: Any):
    specs = list(catalog.TASKS.values())
    return 200, page(specs, lambda s: specs.index(s) + 1, storage_routes.task_object, request, {})


def get_task(sim: Host, request: Request, body: Any):
    spec = catalog.TASKS.get(request.path_params["id"])
    if spec is None:
        raise not_found("task", request.path_params["id"])
    return 200, storage_routes.task_object(spec)


def run_task(sim: Host, request: Request, body: Any):
    run = sim.world.create_run(request.path_params["id"], body)
    sim.counts["task_runs_created"] += 1
    return 201, run.public()


def list_runs(sim: Host, request: Request, body: Any):
    filters = multi_filters(request, (*RUN_FILTERS, "outcome"))
    if "outcome" in filters:  # Deck's API reference names the `result` filter `outcome`
        filters.setdefault("result", filters["outcome"])
        del filters["outcome"]
    if "status" in filters:
        filters["status"] = [STATUS_SPELLINGS.get(s, s) for s in filters["status"]]
    times = {k: filters.pop(k)[-1] for k in ("created_after", "created_before") if k in filters}
    after, before = parse_time(times, "created_after"), parse_time(times, "created_before")
    items = (
        r
        for r in sim.world.runs.values()
        if all(str(getattr(r, name)) in values for name, values in filters.items())
        and (after is None or micros(r.created) > after)
        and (before is None or micros(r.created) < before)
    )
    return 200, page(items, lambda r: r.seq, lambda r: r.public(), request, {**filters, **times})


def submit_run(sim: Host, request: Request, body: Any):
    run = sim.world.get_run(request.path_params["id"])
    inputs = read_inputs(body, "input" if run.api == CURRENT else "inputs")
    return 200, sim.world.submit_run(run.id, inputs).public()


def cancel_run(sim: Host, request: Request, body: Any):
    return 200, sim.world.cancel_run(request.path_params["id"]).public()


def list_events(sim: Host, request: Request, body: Any):
    filters = filters_of(request, ("type", "created_after"))
    after = parse_time(filters, "created_after")
    wanted = filters.get("type")
    probe = {"events": [wanted]} if wanted else None
    items = (
        ev
        for ev in sim.world.events
        if (probe is None or subscribed(probe, ev["type"])) and (after is None or ev["_micros"] > after)
    )
    return 200, page(items, lambda ev: ev["_seq"], sim.public_event, request, filters)


def get_event(sim: Host, request: Request, body: Any):
    event = sim.world.events_by_id.get(request.path_params["id"])
    if event is None:
        raise not_found("event", request.path_params["id"])
    return 200, sim.public_event(event)


def create_destination(sim: Host, request: Request, body: Any):
    fields = validate_destination(body)
    now = iso(sim.clock.now())
    destination = {
        "id": new_id("evtd"),
        "object": "event_destination",
        **fields,
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }
    sim.world.destinations[destination["id"]] = destination
    sim.world.destination_seq[destination["id"]] = sim.world.next_seq()
    return 201, dict(destination)


def _destination(sim: Host, id_: str) -> dict[str, Any]:
    destination = sim.world.destinations.get(id_)
    if destination is None:
        raise not_found("event_destination", id_)
    return destination


def get_destination(sim: Host, request: Request, body: Any):
    return 200, dict(_destination(sim, request.path_params["id"]))


def list_destinations(sim: Host, request: Request, body: Any):
    seqs = sim.world.destination_seq
    items = list(sim.world.destinations.values())
    return 200, page(items, lambda d: seqs[d["id"]], dict, request, {})


def delete_destination(sim: Host, request: Request, body: Any):
    destination = _destination(sim, request.path_params["id"])
    destination["deleted"] = True
    del sim.world.destinations[destination["id"]]
    return 200, {"id": destination["id"], "object": "event_destination", "deleted": True}


def routes(sim: Host) -> list[Route]:
    from ._routes_control import routes as control_routes

    e = sim.endpoint
    return [
        Route("/v2/test", e(test), methods=["GET"]),
        Route("/v2/sources", e(list_sources), methods=["GET"]),
        Route("/v2/sources/{id}", e(get_source), methods=["GET"]),
        Route("/v2/tasks", e(list_tasks), methods=["GET"]),
        Route("/v2/tasks/{id}", e(get_task), methods=["GET"]),
        Route("/v2/tasks/{id}/run", e(run_task), methods=["POST"]),
        Route("/v2/task-runs", e(list_runs), methods=["GET"]),
        Route("/v2/task-runs/{id}", e(storage_routes.get_run), methods=["GET"]),
        Route("/v2/task-runs/{id}/interaction", e(submit_run), methods=["POST"]),
        Route("/v2/task-runs/{id}/cancel", e(cancel_run), methods=["POST"]),
        Route("/v2/events", e(list_events), methods=["GET"]),
        Route("/v2/events/{id}", e(get_event), methods=["GET"]),
        Route("/v2/event-destinations", e(list_destinations), methods=["GET"]),
        Route("/v2/event-destinations", e(create_destination), methods=["POST"]),
        Route("/v2/event-destinations/{id}", e(get_destination), methods=["GET"]),
        Route("/v2/event-destinations/{id}", e(delete_destination), methods=["DELETE"]),
        *storage_routes.routes(sim),
        *control_routes(sim),
    ]
