"""The Deck v2 client: Deck / AsyncDeck over httpx, typed models and errors, waiting and events.
It speaks both of Deck's API shapes: the seed's (connections) and the current one (credentials and
sessions), chosen by ``Deck(api=...)`` / ``DECK_API`` or detected."""

from typing import TYPE_CHECKING

from deck_nb._observers import add_default_observer, default_observers, remove_default_observer

from ._client import AsyncDeck, Deck
from ._core import Observer
from ._errors import *  # noqa: F403
from ._errors import __all__ as _error_names
from ._events import EventFeed
from ._pagination import AsyncPager, Page, SyncPager
from ._storage_errors import DownloadError, DownloadIncomplete, DownloadTooLarge, FileExpired, FileGone

if TYPE_CHECKING:  # for type checkers and readers; at run time they load on first use (below)
    from ._models import (
        Connection,
        Credential,
        DeckModel,
        ErrorDetail,
        Event,
        EventDestination,
        Field,
        Interaction,
        Option,
        Session,
        SessionRun,
        Source,
        Task,
        TaskRun,
        is_settled,
    )
    from ._storage_models import Screenshot, StorageItem

_MODELS = {
    "Connection",
    "Credential",
    "DeckModel",
    "DownloadError",
    "DownloadIncomplete",
    "DownloadTooLarge",
    "ErrorDetail",
    "Event",
    "EventDestination",
    "Field",
    "FileExpired",
    "FileGone",
    "Interaction",
    "Option",
    "Session",
    "SessionRun",
    "Source",
    "Task",
    "TaskRun",
    "is_settled",
}


_STORAGE_MODELS = {"Screenshot", "StorageItem"}


def __getattr__(name: str):
    """The models load on first use: their pydantic import is most of what a first answer costs."""
    if name in _STORAGE_MODELS:
        from . import _storage_models

        return getattr(_storage_models, name)
    if name in _MODELS:
        from . import _models

        return getattr(_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AsyncDeck",
    "AsyncPager",
    "Connection",
    "Credential",
    "Deck",
    "DeckModel",
    "DownloadError",
    "DownloadIncomplete",
    "DownloadTooLarge",
    "ErrorDetail",
    "Event",
    "EventDestination",
    "EventFeed",
    "Field",
    "FileExpired",
    "FileGone",
    "Interaction",
    "Observer",
    "Option",
    "Page",
    "Screenshot",
    "Session",
    "SessionRun",
    "Source",
    "StorageItem",
    "SyncPager",
    "Task",
    "TaskRun",
    "add_default_observer",
    "default_observers",
    "is_settled",
    "remove_default_observer",
    *_error_names,
]
