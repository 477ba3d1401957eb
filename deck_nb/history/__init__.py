"""Run histories: the journal of everything the client observes, as pandas DataFrames."""

from __future__ import annotations

import os
import sys
import threading
import types
from typing import Any

from deck_nb.client import Observer
from deck_nb.client._core import DEFAULT_OBSERVERS

from .journal import Journal

ENV_PATH = "DECK_NB_HISTORY"
_session: Journal | None = None
_lock = threading.Lock()


def session_journal() -> Journal:
    """This session's journal: the file named by DECK_NB_HISTORY, else in memory."""
    global _session
    with _lock:
        if _session is None:
            _session = Journal(os.environ.get(ENV_PATH) or None)
        return _session


class _SessionObserver(Observer):
    """Forwards to whichever journal the session uses now (it may be switched to a file later)."""

    def on_object(self, obj: Any, call: Any) -> None:
        session_journal().on_object(obj, call)

    def on_error(self, error: Any, call: Any) -> None:
        session_journal().on_error(error, call)

    def on_submission(self, kind: str, id: str, field_names: tuple[str, ...], error: Any) -> None:
        session_journal().on_submission(kind, id, field_names, error)


SESSION_OBSERVER = _SessionObserver()
if SESSION_OBSERVER not in DEFAULT_OBSERVERS:
    DEFAULT_OBSERVERS.append(SESSION_OBSERVER)  # every client from now on journals to the session


def use_history_file(path: str | os.PathLike[str] | None) -> Journal:
    """Journal this session to ``path`` from now on (None: back to memory)."""
    global _session
    with _lock:
        _session = Journal(path)
        return _session


def history(path: str | os.PathLike[str] | None = None):
    """The session's history (or the history file at ``path``) as DataFrames."""
    from ._history import History

    return History.load(path) if path is not None else History([session_journal()])


def __getattr__(name: str):
    if name in ("History",):
        from ._history import History

        return History
    if name in ("runs_frame", "connections_frame", "outputs_frame"):
        from . import frames

        return getattr(frames, name)
    raise AttributeError(name)


class _CallableModule(types.ModuleType):
    """``deck_nb.history()`` is the documented call, and ``deck_nb.history`` is also this package."""

    def __call__(self, path: str | os.PathLike[str] | None = None):
        return history(path)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "SESSION_OBSERVER",
    "History",
    "Journal",
    "connections_frame",
    "history",
    "outputs_frame",
    "runs_frame",
    "session_journal",
    "use_history_file",
]
