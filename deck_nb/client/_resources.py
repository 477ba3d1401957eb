"""Resources 1:1 with Deck's REST API, written once for both clients: each method builds a ``Call``
and hands it to the client, which answers a value (Deck) or an awaitable (AsyncDeck); the
``@returns`` / ``@lists`` / ``@streams`` decorators (``_endpoints.py``) type that for both shells.

This module holds the shared helpers and the plain resources (sources, tasks, events, event
destinations); ``_interactive.py`` holds connections and task runs, ``_credentials.py`` credentials
and sessions."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import BaseModel

from ._call import Call
from ._endpoints import ClientT, Resource, lists, returns, streams
from ._errors import InvalidRequestError
from ._models import Deleted, Event, EventDestination, Source, Task

if TYPE_CHECKING:
    from ._pagination import SyncPager

EventTypes = str | list[str] | None  # one event type or several (module level: ``list`` is a method below)


MAX_ID_LENGTH = 256  # far above any Deck id, far below what a URL can carry


def _id(value: Any, what: str) -> str:
    """Accept an id or an object with ``.id``; refuse anything that is not a non-empty string."""
    value = getattr(value, "id", value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty id string, not {value!r}")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidRequestError(f"{what} is {len(value)} characters long; Deck ids are at most {MAX_ID_LENGTH}")
    return quote(value, safe="")


def _iso(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware (e.g. datetime.now(timezone.utc))")
    return value.isoformat().replace("+00:00", "Z")


def _validator(model: type[BaseModel]) -> Callable[[Any], Any]:
    return model.model_validate


class _Resource(Resource[ClientT]):
    def _do(self, method: str, path: str, model: type | None, **kwargs: Any) -> Any:
        return self._client._request(Call(method, path, cast=_validator(model) if model else None, **kwargs))

    def _list(self, path: str, model: type, params: dict[str, Any]) -> Any:
        limit = params.get("limit")
        if limit is not None and not (isinstance(limit, int) and 1 <= limit <= 100):
            raise ValueError("limit must be an integer from 1 to 100")
        return self._client._paginate(Call("GET", path, params=params), _validator(model))


class Sources(_Resource[ClientT]):
    """The sites Deck's agents can log in to (``deck.sources``)."""

    @lists
    def list(self, *, limit: int | None = None) -> SyncPager[Source]:
        """Every source, page by page (``limit`` is the page size, 1–100)."""
        return self._list("/sources", Source, {"limit": limit})

    @returns
    def retrieve(self, source_id: str) -> Source:
        """One source by id."""
        return self._do("GET", f"/sources/{_id(source_id, 'source_id')}", Source)


class Tasks(_Resource[ClientT]):
    """The tasks agents run on a source (``deck.tasks``)."""

    @lists
    def list(self, *, limit: int | None = None) -> SyncPager[Task]:
        """Every task, page by page, with its input and output schemas."""
        return self._list("/tasks", Task, {"limit": limit})

    @returns
    def retrieve(self, task_id: str) -> Task:
        """One task by id."""
        return self._do("GET", f"/tasks/{_id(task_id, 'task_id')}", Task)


def _event_types(types: EventTypes, type: str | None, method: str) -> list[str] | None:
    if type is not None:
        warnings.warn(f"events.{method}(type=...) is deprecated: use types=...", DeprecationWarning, stacklevel=3)
        if types is not None:
            raise TypeError("pass types=... only (type=... is its deprecated spelling)")
        types = type
    if types is None:
        return None
    listed = [types] if isinstance(types, str) else list(types)
    if not listed or not all(isinstance(t, str) and t for t in listed):
        raise ValueError("types must be an event type or a non-empty list of event types")
    return listed


def _event_since(created_after: datetime | None, since: datetime | None) -> datetime | None:
    if since is not None:
        warnings.warn("events.watch(since=...) is deprecated: use created_after=...", DeprecationWarning, stacklevel=3)
        if created_after is not None:
            raise TypeError("pass created_after=... only (since=... is its deprecated spelling)")
        return since
    return created_after


class Events(_Resource[ClientT]):
    """Deck's event log (``deck.events``): ``list`` reads it once, ``watch`` follows it.

    Both take the same names: ``types`` (one event type or a list; ``watch`` also matches patterns
    such as ``"task_run.*"``) and ``created_after`` (events strictly after this instant)."""

    @lists
    def list(
        self,
        *,
        types: EventTypes = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        limit: int | None = None,
        type: str | None = None,
    ) -> SyncPager[Event]:
        """Events oldest first, filtered by Deck (``types`` is sent as Deck's repeatable ``type``)."""
        names = _event_types(types, type, "list")
        params = {
            "type": names[0] if names and len(names) == 1 else names,
            "created_after": _iso(created_after),
            "created_before": _iso(created_before),
            "limit": limit,
        }
        return self._list("/events", Event, params)

    @returns
    def retrieve(self, event_id: str) -> Event:
        """One event by id."""
        return self._do("GET", f"/events/{_id(event_id, 'event_id')}", Event)

    @streams
    def watch(
        self,
        *,
        types: EventTypes = None,
        created_after: datetime | None = None,
        poll_interval: float = 1.0,
        timeout: float | None = None,
        since: datetime | None = None,
    ) -> Iterator[Event]:
        """New events as they appear, deduped and in order; stops after ``timeout`` seconds if given."""
        from ._events import EventFeed

        feed = EventFeed(_event_types(types, None, "watch"), _event_since(created_after, since))
        return self._client._watch(feed, poll_interval, timeout)


class EventDestinations(_Resource[ClientT]):
    """Webhook destinations Deck delivers events to (``deck.event_destinations``)."""

    @returns
    def create(
        self,
        *,
        name: str,
        url: str,
        events: list[str] | None = None,
        secret: str | None = None,
        idempotency_key: str | None = None,
    ) -> EventDestination:
        """Register a webhook (all events unless ``events`` names some); the answer carries its secret."""
        webhook = {"url": url, **({"secret": secret} if secret else {})}
        body = {"name": name, "type": "webhook", "webhook": webhook, "events": events or ["*"]}
        return self._do("POST", "/event-destinations", EventDestination, body=body, idempotency_key=idempotency_key)

    @lists
    def list(self, *, limit: int | None = None) -> SyncPager[EventDestination]:
        """Every event destination, page by page."""
        return self._list("/event-destinations", EventDestination, {"limit": limit})

    @returns
    def retrieve(self, destination_id: str) -> EventDestination:
        """One event destination by id."""
        return self._do("GET", f"/event-destinations/{_id(destination_id, 'destination_id')}", EventDestination)

    @returns
    def delete(self, destination_id: str) -> Deleted:
        """Stop delivering to a destination."""
        return self._do("DELETE", f"/event-destinations/{_id(destination_id, 'destination_id')}", Deleted)
