"""The simulator's HTTP plumbing: key check, rate limit, faults, idempotency and the error envelope.

The routes themselves are thin layers over one world: ``_routes_platform`` (shared by both APIs and
the ``/_sim`` control routes), ``_routes_seed`` (connections) and ``_routes_current`` (credentials,
sessions).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._clock import Clock
from ._errors import ApiError, invalid
from ._host import Handler
from ._idempotency import IdempotencyStore
from ._limits import Faults, RateLimiter, parse_rate_limit, parse_session_limit
from ._models import new_id
from ._routes_current import routes as current_routes
from ._routes_platform import routes as platform_routes
from ._routes_seed import routes as seed_routes
from ._sealing import seal
from ._signing import UrlSigner
from ._storage_knobs import StorageSettings
from ._webhooks import Deliverer, subscribed
from ._world import World

log = logging.getLogger("deck_nb.simulator")

IDEMPOTENT_METHODS = ("POST", "PATCH", "DELETE")


class _Dropped(Response):
    """Starts the response, then hangs up: the client sees a dropped connection."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[override]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]})


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


COUNTS = ("requests", "connections_created", "task_runs_created", "credentials_created", "sessions_created")


class Simulator:
    """One simulated Deck organization: its world, its key, its limits, and its ASGI app."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        clock: str = "real",
        rate_limit: str | None = "200/10s",
        api_key: str | None = None,
        api: str = "both",
        session_limit: int | str | None = 25,
        storage: dict[str, Any] | None = None,
    ) -> None:
        self.api_key = api_key or f"sk_sim_{secrets.token_hex(16)}"
        self.rate_limit_spec = rate_limit if rate_limit is not None else "off"
        self.clock = Clock(clock, time_scale)
        self.limiter = RateLimiter(parse_rate_limit(self.rate_limit_spec))
        self.faults = Faults()
        self.idempotency = IdempotencyStore()
        self.deliverer = Deliverer()
        self.world = World(
            self.clock, on_event=self._dispatch, api=api, session_limit=parse_session_limit(session_limit)
        )
        settings = StorageSettings()
        settings.update({k: v for k, v in (storage or {}).items() if v is not None})
        self.world.configure_storage(settings)
        self.signer = UrlSigner()
        self.counts = dict.fromkeys(COUNTS, 0)
        self.app = Starlette(
            routes=[*platform_routes(self), *seed_routes(self), *current_routes(self)],
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
        if event["type"] == "session.queued":
            self.counts["sessions_created"] += 1
        public = self.public_event(event)
        if self.world.storage_settings.encryption:
            public = seal(public)
        for destination in self.world.destinations.values():
            if destination["status"] == "active" and subscribed(destination, event["type"]):
                self.deliverer.submit(destination, public)

    @staticmethod
    def public_event(event: dict[str, Any]) -> dict[str, Any]:
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

    @property
    def api(self) -> str:
        return self.world.api

    def endpoint(
        self, handler: Handler, *, control: bool = False, api: str | None = None
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap ``handler`` in Deck's plumbing; ``api`` names the API a route belongs to, when only one."""

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
                if api is not None and not self.world.serves(api):
                    raise ApiError(404, "request", "not_found", f"This simulator does not serve {request.url.path}.")
                body = await self._body(request) if request.method in ("POST", "PATCH") else None
                self.clock.run_due()
                status, payload, headers = self._handle(request, handler, body)
                if not control and self.world.storage_settings.encryption:
                    payload = seal(payload)
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
        key = request.headers.get("idempotency-key") if request.method in IDEMPOTENT_METHODS else None
        if key is None:
            status, payload = handler(self, request, body)
            return status, payload, {}
        self.idempotency.check_key(key)
        fingerprint = self.idempotency.fingerprint(request.method, request.url.path, body)
        now = self.clock.read()
        stored = self.idempotency.lookup(key, fingerprint, now)
        if stored is not None:
            return stored.status, stored.body, {"Idempotent-Replayed": "true"}
        status, payload = handler(self, request, body)
        payload = {**payload, "request_id": payload.get("request_id") or new_id("req")}
        self.idempotency.store(key, fingerprint, status, payload, now)
        return status, payload, {}
