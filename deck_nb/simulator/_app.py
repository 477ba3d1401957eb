"""The simulator's HTTP face: Deck's v2 routes plus the ``/_sim`` control routes, on Starlette."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import _catalog as catalog
from ._clock import Clock
from ._errors import ApiError, invalid, not_found
from ._idempotency import IdempotencyStore
from ._interactions import read_inputs
from ._limits import Faults, RateLimiter, parse_rate_limit
from ._pagination import paginate
from ._webhooks import Deliverer, subscribed, validate_destination
from ._world import World, iso, micros, new_id

log = logging.getLogger("deck_nb.simulator")

Handler = Callable[[Request, Any], tuple[int, dict[str, Any]]]


class _Dropped(Response):
    """Starts the response, then hangs up: the client sees a dropped connection."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[override]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _parse_time(params: dict[str, str], name: str) -> int | None:
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


class Simulator:
    """One simulated Deck organization: its world, its key, its limits, and its ASGI app."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        clock: str = "real",
        rate_limit: str | None = "200/10s",
        api_key: str | None = None,
    ) -> None:
        self.api_key = api_key or f"sk_sim_{secrets.token_hex(16)}"
        self.rate_limit_spec = rate_limit if rate_limit is not None else "off"
        self.clock = Clock(clock, time_scale)
        self.limiter = RateLimiter(parse_rate_limit(self.rate_limit_spec))
        self.faults = Faults()
        self.idempotency = IdempotencyStore()
        self.deliverer = Deliverer()
        self.world = World(self.clock, on_event=self._dispatch)
        self.counts = {"requests": 0, "connections_created": 0, "task_runs_created": 0}
        self.app = Starlette(
            routes=self._routes(),
            exception_handlers={HTTPException: self._http_exception},
            lifespan=self._lifespan,
        )

    # -- plumbing ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette):
        ticker = asyncio.get_running_loop().create_task(self._tick())
        try:
            yield
        finally:
            ticker.cancel()
            await self.deliverer.aclose()

    async def _tick(self) -> None:
        """Fire due timers on a real clock even when nobody is asking (events, webhooks)."""
        while True:
            if not self.clock.manual:
                self.clock.run_due()
            due = self.clock.next_due()
            wait = 0.05 if due is None or self.clock.manual else min(0.05, max(0.0, due - time.time()))
            await asyncio.sleep(wait)

    def _dispatch(self, event: dict[str, Any]) -> None:
        public = self._event(event)
        for destination in self.world.destinations.values():
            if destination["status"] == "active" and subscribed(destination, event["type"]):
                self.deliverer.submit(destination, public)

    @staticmethod
    def _event(event: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in event.items() if not k.startswith("_")}

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(), self.api_key.encode())

    def _respond(self, status: int, payload: dict[str, Any], request_id: str, headers=None) -> JSONResponse:
        payload = {**payload, "request_id": payload.get("request_id", request_id)}
        return JSONResponse(payload, status, headers={"X-Request-Id": request_id, **(headers or {})})

    async def _http_exception(self, request: Request, exc: HTTPException) -> Response:
        request_id = new_id("req")
        code = "route_not_found" if exc.status_code == 404 else "method_not_allowed"
        message = f"No route for {request.method} {request.url.path}."
        return self._respond(
            exc.status_code, {"errors": [{"type": "request", "code": code, "message": message}]}, request_id
        )

    @staticmethod
    async def _body(request: Request) -> Any:
        raw = await request.body()
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise invalid("body", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise invalid("body", "The request body must be a JSON object.")
        return body

    def _endpoint(self, handler: Handler, *, control: bool = False) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            request_id = new_id("req")
            if not self._authorized(request):
                error = ApiError(401, "request", "api_key_invalid", "The API key is missing or invalid.")
                return self._respond(401, {"errors": [error.detail()]}, request_id)
            try:
                if not control:
                    self._admit()
                    delay = self.faults.delay()
                    if delay:
                        await asyncio.sleep(delay)
                body = await self._body(request) if request.method == "POST" else None
                self.clock.run_due()
                status, payload, headers = self._handle(request, handler, body)
            except ApiError as error:
                status, payload, headers = error.status, {"errors": [error.detail()]}, error.headers
            response = self._respond(status, payload, request_id, headers)
            if not control and self.faults.drop_after():
                return _Dropped()
            return response

        return endpoint

    def _admit(self) -> None:
        """Injected 429s and real 429s are refusals (not counted); injected 500s count."""
        self.faults.before_rate_limit()
        self.limiter.admit()
        self.counts["requests"] += 1
        self.faults.before_error()

    def _handle(self, request: Request, handler: Handler, body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        key = request.headers.get("idempotency-key") if request.method == "POST" else None
        if key is None:
            status, payload = handler(request, body)
            return status, payload, {}
        self.idempotency.check_key(key)
        fingerprint = self.idempotency.fingerprint(request.method, request.url.path, body)
        now = self.clock.read()
        stored = self.idempotency.lookup(key, fingerprint, now)
        if stored is not None:
            return stored.status, stored.body, {"Idempotent-Replayed": "true"}
        status, payload = handler(request, body)
        payload = {**payload, "request_id": payload.get("request_id") or new_id("req")}
        self.idempotency.store(key, fingerprint, status, payload, now)
        return status, payload, {}

    # -- routes ------------------------------------------------------------------------------

    def _routes(self) -> list[Route]:
        e = self._endpoint
        return [
            Route("/v2/test", e(self.test), methods=["GET"]),
            Route("/v2/sources", e(self.list_sources), methods=["GET"]),
            Route("/v2/sources/{id}", e(self.get_source), methods=["GET"]),
            Route("/v2/tasks", e(self.list_tasks), methods=["GET"]),
            Route("/v2/tasks/{id}", e(self.get_task), methods=["GET"]),
            Route("/v2/tasks/{id}/run", e(self.run_task), methods=["POST"]),
            Route("/v2/connections", e(self.list_connections), methods=["GET"]),
            Route("/v2/connections", e(self.create_connection), methods=["POST"]),
            Route("/v2/connections/{id}", e(self.get_connection), methods=["GET"]),
            Route("/v2/connections/{id}/interaction", e(self.submit_connection), methods=["POST"]),
            Route("/v2/connections/{id}/disconnect", e(self.disconnect), methods=["POST"]),
            Route("/v2/task-runs", e(self.list_runs), methods=["GET"]),
            Route("/v2/task-runs/{id}", e(self.get_run), methods=["GET"]),
            Route("/v2/task-runs/{id}/interaction", e(self.submit_run), methods=["POST"]),
            Route("/v2/task-runs/{id}/cancel", e(self.cancel_run), methods=["POST"]),
            Route("/v2/events", e(self.list_events), methods=["GET"]),
            Route("/v2/events/{id}", e(self.get_event), methods=["GET"]),
            Route("/v2/event-destinations", e(self.list_destinations), methods=["GET"]),
            Route("/v2/event-destinations", e(self.create_destination), methods=["POST"]),
            Route("/v2/event-destinations/{id}", e(self.get_destination), methods=["GET"]),
            Route("/v2/event-destinations/{id}", e(self.delete_destination), methods=["DELETE"]),
            Route("/_sim/reset", e(self.sim_reset, control=True), methods=["POST"]),
            Route("/_sim/clock/advance", e(self.sim_advance, control=True), methods=["POST"]),
            Route("/_sim/faults", e(self.sim_faults, control=True), methods=["POST"]),
            Route("/_sim/faults", e(self.sim_clear_faults, control=True), methods=["DELETE"]),
            Route("/_sim/config", e(self.sim_config, control=True), methods=["GET"]),
            Route("/_sim/stats", e(self.sim_stats, control=True), methods=["GET"]),
        ]

    def _page(self, items: Iterable[Any], seq, render, request: Request, filters: dict[str, str]) -> dict[str, Any]:
        return paginate(items, seq, render, request.url.path, filters, request.query_params)

    @staticmethod
    def _filters(request: Request, names: Iterable[str]) -> dict[str, str]:
        return {n: request.query_params[n] for n in names if n in request.query_params}

    def test(self, request: Request, body: Any):
        return 200, {"status": "ready", "environment": "simulator"}

    def list_sources(self, request: Request, body: Any):
        specs = list(catalog.SOURCES.values())
        return 200, self._page(specs, lambda s: specs.index(s) + 1, catalog.source_object, request, {})

    def get_source(self, request: Request, body: Any):
        spec = catalog.SOURCES.get(request.path_params["id"])
        if spec is None:
            raise ApiError(404, "source", "source_not_found", f"No source with id `{request.path_params['id']}`.")
        return 200, catalog.source_object(spec)

    def list_tasks(self, request: Request, body: Any):
        specs = list(catalog.TASKS.values())
        return 200, self._page(specs, lambda s: specs.index(s) + 1, catalog.task_object, request, {})

    def get_task(self, request: Request, body: Any):
        spec = catalog.TASKS.get(request.path_params["id"])
        if spec is None:
            raise not_found("task", request.path_params["id"])
        return 200, catalog.task_object(spec)

    def create_connection(self, request: Request, body: Any):
        conn = self.world.create_connection(body)
        self.counts["connections_created"] += 1
        return 201, conn.public()

    def get_connection(self, request: Request, body: Any):
        return 200, self.world.get_connection(request.path_params["id"]).public()

    def list_connections(self, request: Request, body: Any):
        filters = self._filters(request, ("source_id", "status", "external_id"))
        items = (
            c
            for c in self.world.connections.values()
            if all(getattr(c, name) == value for name, value in filters.items())
        )
        return 200, self._page(items, lambda c: c.seq, lambda c: c.public(), request, filters)

    def submit_connection(self, request: Request, body: Any):
        return 200, self.world.submit_connection(request.path_params["id"], read_inputs(body)).public()

    def disconnect(self, request: Request, body: Any):
        return 200, self.world.disconnect(request.path_params["id"]).public()

    def run_task(self, request: Request, body: Any):
        run = self.world.create_run(request.path_params["id"], body)
        self.counts["task_runs_created"] += 1
        return 201, run.public()

    def get_run(self, request: Request, body: Any):
        include = request.query_params.getlist("include")
        wants_input = any("input" in value.split(",") for value in include)
        return 200, self.world.get_run(request.path_params["id"]).public(include_input=wants_input)

    def list_runs(self, request: Request, body: Any):
        names = ("connection_id", "source_id", "task_id", "status", "result", "created_after", "created_before")
        filters = self._filters(request, names)
        after = _parse_time(filters, "created_after")
        before = _parse_time(filters, "created_before")
        exact = {k: v for k, v in filters.items() if not k.startswith("created_")}
        items = (
            r
            for r in self.world.runs.values()
            if all(str(getattr(r, name)) == value for name, value in exact.items())
            and (after is None or micros(r.created) > after)
            and (before is None or micros(r.created) < before)
        )
        return 200, self._page(items, lambda r: r.seq, lambda r: r.public(), request, filters)

    def submit_run(self, request: Request, body: Any):
        return 200, self.world.submit_run(request.path_params["id"], read_inputs(body)).public()

    def cancel_run(self, request: Request, body: Any):
        return 200, self.world.cancel_run(request.path_params["id"]).public()

    def list_events(self, request: Request, body: Any):
        filters = self._filters(request, ("type", "created_after"))
        after = _parse_time(filters, "created_after")
        wanted = filters.get("type")
        probe = {"events": [wanted]} if wanted else None
        items = (
            ev
            for ev in self.world.events
            if (probe is None or subscribed(probe, ev["type"])) and (after is None or ev["_micros"] > after)
        )
        return 200, self._page(items, lambda ev: ev["_seq"], self._event, request, filters)

    def get_event(self, request: Request, body: Any):
        event = self.world.events_by_id.get(request.path_params["id"])
        if event is None:
            raise not_found("event", request.path_params["id"])
        return 200, self._event(event)

    def create_destination(self, request: Request, body: Any):
        fields = validate_destination(body)
        now = iso(self.clock.now())
        destination = {
            "id": new_id("evtd"),
            "object": "event_destination",
            **fields,
            "status": "active",
            "created_at": now,
            "updated_at": now,
        }
        self.world.destinations[destination["id"]] = destination
        self.world.destination_seq[destination["id"]] = self.world.next_seq()
        return 201, dict(destination)

    def _destination(self, id_: str) -> dict[str, Any]:
        destination = self.world.destinations.get(id_)
        if destination is None:
            raise not_found("event_destination", id_)
        return destination

    def get_destination(self, request: Request, body: Any):
        return 200, dict(self._destination(request.path_params["id"]))

    def list_destinations(self, request: Request, body: Any):
        seqs = self.world.destination_seq
        items = list(self.world.destinations.values())
        return 200, self._page(items, lambda d: seqs[d["id"]], dict, request, {})

    def delete_destination(self, request: Request, body: Any):
        destination = self._destination(request.path_params["id"])
        destination["deleted"] = True
        del self.world.destinations[destination["id"]]
        return 200, {"id": destination["id"], "object": "event_destination", "deleted": True}

    # -- control -----------------------------------------------------------------------------

    def sim_reset(self, request: Request, body: Any):
        self.clock.clear_timers()
        self.world.reset()
        self.idempotency.clear()
        self.faults = Faults()
        self.limiter = RateLimiter(self.limiter.limit)
        for key in self.counts:
            self.counts[key] = 0
        return 200, {"reset": True}

    def sim_advance(self, request: Request, body: Any):
        if not self.clock.manual:
            raise ApiError(400, "request", "clock_not_manual", "Start the simulator with --clock manual to move time.")
        seconds = body.get("seconds")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            raise invalid("seconds", "`seconds` must be a non-negative number.")
        now = self.clock.advance(float(seconds))
        return 200, {"now": iso(now)}

    def sim_faults(self, request: Request, body: Any):
        try:
            self.faults = Faults.from_body(body)
        except (TypeError, ValueError) as exc:
            raise invalid("faults", str(exc)) from None
        return 200, self.faults.describe()

    def sim_clear_faults(self, request: Request, body: Any):
        self.faults = Faults()
        return 200, self.faults.describe()

    def sim_config(self, request: Request, body: Any):
        return 200, {
            "clock": self.clock.mode,
            "time_scale": self.clock.time_scale,
            "rate_limit": self.rate_limit_spec,
            "now": iso(self.clock.read()),
            "faults": self.faults.describe(),
        }

    def sim_stats(self, request: Request, body: Any):
        statuses: dict[str, dict[str, int]] = {"connections": {}, "task_runs": {}}
        for name, items in (("connections", self.world.connections), ("task_runs", self.world.runs)):
            for item in items.values():
                statuses[name][item.status] = statuses[name].get(item.status, 0) + 1
        return 200, {
            **self.counts,
            "rate_limited": self.limiter.refused,
            "faults_injected": dict(self.faults.injected),
            "events": len(self.world.events),
            "webhooks": dict(self.deliverer.stats),
            "statuses": statuses,
        }
