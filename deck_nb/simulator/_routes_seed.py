"""The seed's API: connections (opening one logs in). Served unless ``--api credentials``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from ._interactions import read_inputs
from ._models import SEED
from ._routes_platform import filters_of, page

if TYPE_CHECKING:
    from ._host import Host


def create_connection(sim: Host, request: Request, body: Any):
    conn = sim.world.create_connection(body)
    sim.counts["connections_created"] += 1
    return 201, conn.public()


def get_connection(sim: Host, request: Request, body: Any):
    return 200, sim.world.get_connection(request.path_params["id"]).public()


def list_connections(sim: Host, request: Request, body: Any):
    filters = filters_of(request, ("source_id", "status", "external_id"))
    items = (
        c for c in sim.world.connections.values() if all(getattr(c, name) == value for name, value in filters.items())
    )
    return 200, page(items, lambda c: c.seq, lambda c: c.public(), request, filters)


def submit_connection(sim: Host, request: Request, body: Any):
    # The seed's rule: when a body has both `inputs` and `input`, `inputs` wins.
    return 200, sim.world.submit_connection(request.path_params["id"], read_inputs(body, "inputs")).public()


def disconnect(sim: Host, request: Request, body: Any):
    return 200, sim.world.disconnect(request.path_params["id"]).public()


def routes(sim: Host) -> list[Route]:
    def e(handler):
        return sim.endpoint(handler, api=SEED)

    return [
        Route("/v2/connections", e(list_connections), methods=["GET"]),
        Route("/v2/connections", e(create_connection), methods=["POST"]),
        Route("/v2/connections/{id}", e(get_connection), methods=["GET"]),
        Route("/v2/connections/{id}/interaction", e(submit_connection), methods=["POST"]),
        Route("/v2/connections/{id}/disconnect", e(disconnect), methods=["POST"]),
    ]
