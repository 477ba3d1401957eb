"""The ``/_sim`` control routes (not part of Deck): reset, clock, faults, config, stats, review."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from ._errors import ApiError, invalid
from ._limits import Faults, RateLimiter
from ._models import iso

if TYPE_CHECKING:
    from ._host import Host


def reset(sim: Host, request: Request, body: Any):
    sim.clock.clear_timers()
    sim.world.reset()
    sim.idempotency.clear()
    sim.faults = Faults()
    sim.limiter = RateLimiter(sim.limiter.limit)
    for key in sim.counts:
        sim.counts[key] = 0
    return 200, {"reset": True}


def advance(sim: Host, request: Request, body: Any):
    if not sim.clock.manual:
        raise ApiError(400, "request", "clock_not_manual", "Start the simulator with --clock manual to move time.")
    seconds = body.get("seconds")
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
        raise invalid("seconds", "`seconds` must be a non-negative number.")
    now = sim.clock.advance(float(seconds))
    return 200, {"now": iso(now)}


def set_faults(sim: Host, request: Request, body: Any):
    try:
        sim.faults = Faults.from_body(body)
    except (TypeError, ValueError) as exc:
        raise invalid("faults", str(exc)) from None
    return 200, sim.faults.describe()


def clear_faults(sim: Host, request: Request, body: Any):
    sim.faults = Faults()
    return 200, sim.faults.describe()


def config(sim: Host, request: Request, body: Any):
    limit = sim.world.session_limit
    return 200, {
        "api": sim.world.api,
        "clock": sim.clock.mode,
        "time_scale": sim.clock.time_scale,
        "rate_limit": sim.rate_limit_spec,
        "session_limit": "off" if limit is None else limit,
        "now": iso(sim.clock.read()),
        "faults": sim.faults.describe(),
        "storage": sim.world.storage_settings.describe(),
    }


def stats(sim: Host, request: Request, body: Any):
    world = sim.world
    stores = {
        "connections": world.connections,
        "task_runs": world.runs,
        "credentials": world.credentials,
        "sessions": world.sessions,
    }
    statuses: dict[str, dict[str, int]] = {name: {} for name in stores}
    for name, items in stores.items():
        for item in items.values():
            statuses[name][item.status] = statuses[name].get(item.status, 0) + 1
    logins = sum(1 for r in world.runs.values() if r.logs_in)
    return 200, {
        **sim.counts,
        "logins": logins,
        "rate_limited": sim.limiter.refused,
        "faults_injected": dict(sim.faults.injected),
        "events": len(world.events),
        "webhooks": dict(sim.deliverer.stats),
        "statuses": statuses,
        "storage_items": len(world.items),
        "downloads": dict(world.download_stats),
    }


def set_storage(sim: Host, request: Request, body: Any):
    """Storage knobs: settings that hold (url_ttl, encryption, large_size) and tricks for the next run."""
    try:
        sim.world.storage_settings.update(body)
    except ValueError as exc:
        raise invalid("storage", str(exc)) from None
    return 200, sim.world.storage_settings.describe()


def get_storage(sim: Host, request: Request, body: Any):
    return 200, sim.world.storage_settings.describe()


def clear_storage(sim: Host, request: Request, body: Any):
    """Back to the start-up storage options (the simulator's or the CLI's)."""
    sim.world.storage_settings = sim.world.storage_defaults.copy()
    return 200, sim.world.storage_settings.describe()


def review(sim: Host, request: Request, body: Any):
    """Stand-in for a person approving or rejecting a `review_required` run in Deck's console."""
    return 200, sim.world.review_run(request.path_params["id"], body.get("decision")).public()


def routes(sim: Host) -> list[Route]:
    def e(handler):
        return sim.endpoint(handler, control=True)

    return [
        Route("/_sim/reset", e(reset), methods=["POST"]),
        Route("/_sim/clock/advance", e(advance), methods=["POST"]),
        Route("/_sim/faults", e(set_faults), methods=["POST"]),
        Route("/_sim/faults", e(clear_faults), methods=["DELETE"]),
        Route("/_sim/config", e(config), methods=["GET"]),
        Route("/_sim/stats", e(stats), methods=["GET"]),
        Route("/_sim/task-runs/{id}/review", e(review), methods=["POST"]),
        Route("/_sim/storage", e(set_storage), methods=["POST"]),
        Route("/_sim/storage", e(get_storage), methods=["GET"]),
        Route("/_sim/storage", e(clear_storage), methods=["DELETE"]),
    ]
