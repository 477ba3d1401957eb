"""The simulator as its routes see it: the world they serve and the plumbing's state they read or
reset. A protocol, so each ``_routes_*`` module types its ``sim`` without importing ``_app`` (which
imports the routes to assemble them); ``Simulator`` in ``_app`` provides it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from ._clock import Clock
from ._idempotency import IdempotencyStore
from ._limits import Faults, RateLimiter
from ._signing import UrlSigner
from ._webhooks import Deliverer
from ._world import World


class Host(Protocol):
    """What a route handler may use of the simulator it is served by."""

    clock: Clock
    world: World
    faults: Faults
    limiter: RateLimiter
    idempotency: IdempotencyStore
    deliverer: Deliverer
    signer: UrlSigner
    counts: dict[str, int]
    rate_limit_spec: str

    def public_event(self, event: dict[str, Any]) -> dict[str, Any]: ...

    def endpoint(
        self, handler: Handler, *, control: bool = False, api: str | None = None
    ) -> Callable[[Request], Awaitable[Response]]: ...


Handler = Callable[[Host, Request, Any], tuple[int, dict[str, Any]]]
