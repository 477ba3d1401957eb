"""The Deck v2 client: Deck / AsyncDeck over httpx, typed models and errors, waiting and events."""

from ._client import AsyncDeck, Deck
from ._core import Observer
from ._errors import *  # noqa: F403
from ._errors import __all__ as _error_names
from ._events import EventFeed
from ._models import (
    Connection,
    DeckModel,
    ErrorDetail,
    Event,
    EventDestination,
    Field,
    Interaction,
    Option,
    Source,
    Task,
    TaskRun,
    is_settled,
)
from ._pagination import AsyncPager, Page, SyncPager

__all__ = [
    "AsyncDeck",
    "AsyncPager",
    "Connection",
    "Deck",
    "DeckModel",
    "ErrorDetail",
    "Event",
    "EventDestination",
    "EventFeed",
    "Field",
    "Interaction",
    "Observer",
    "Option",
    "Page",
    "Source",
    "SyncPager",
    "Task",
    "TaskRun",
    "is_settled",
    *_error_names,
]
