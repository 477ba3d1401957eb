"""Deck's current API: credentials and sessions. Served unless ``--api connections``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from ._models import CURRENT
from ._routes_platform import multi_filters, page

if TYPE_CHECKING:
    from ._host import Host


def create_credential(sim: Host, request: Request, body: Any):
    cred = sim.world.create_credential(body)
    sim.counts["credentials_created"] += 1
    return 201, cred.public()


def list_credentials(sim: Host, request: Request, body: Any):
    filters = multi_filters(request, ("source_id", "status", "external_id"))
    items = (
        c for c in sim.world.credentials.values() if all(getattr(c, name) in values for name, values in filters.items())
    )
    return 200, page(items, lambda c: c.seq, lambda c: c.public(), request, filters)


def get_credential(sim: Host, request: Request, body: Any):
    return 200, sim.world.get_credential(request.path_params["id"]).public()


def update_credential(sim: Host, request: Request, body: Any):
    return 200, sim.world.update_credential(request.path_params["id"], body).public()


def delete_credential(sim: Host, request: Request, body: Any):
    return 200, sim.world.delete_credential(request.path_params["id"]).public()


def get_session(sim: Host, request: Request, body: Any):
    return 200, sim.world.get_session(request.path_params["id"]).public()


def end_session(sim: Host, request: Request, body: Any):
    return 200, sim.world.end_session(request.path_params["id"]).public()


def routes(sim: Host) -> list[Route]:
    def e(handler):
        return sim.endpoint(handler, api=CURRENT)

    return [
        Route("/v2/credentials", e(list_credentials), methods=["GET"]),
        Route("/v2/credentials", e(create_credential), methods=["POST"]),
        Route("/v2/credentials/{id}", e(get_credential), methods=["GET"]),
        Route("/v2/credentials/{id}", e(update_credential), methods=["PATCH"]),
        Route("/v2/credentials/{id}", e(delete_credential), methods=["DELETE"]),
        Route("/v2/sessions/{id}", e(get_session), methods=["GET"]),
        Route("/v2/sessions/{id}/end", e(end_session), methods=["POST"]),
    ]
