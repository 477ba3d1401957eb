"""The session: which clients journal, and to which journal — decided here, in one place.

**Every** ``Deck`` and ``AsyncDeck`` made in this process journals to the session journal, whichever
way it was imported (``dn.Deck``, ``from deck_nb.client import Deck``, ``AsyncDeck``, a twin from
``to_async()``/``to_sync()``, the client a job or a batch makes).

Why that holds for every import path: ``deck_nb/__init__`` imports this module and calls
``journal_every_client()``, and Python imports ``deck_nb`` before any ``deck_nb.client``. That
registers the session observer *lazily* in the client's public default-observer slot
(``deck_nb.client.add_default_observer``), which the client reads each time a client is made. So
the client never imports history (imports only point down), history never reaches into the client's
private state, and ``import deck_nb`` stays light: this module loads neither the client nor the
journal until the first client exists.

The session journal is in memory, or the SQLite file named by ``DECK_NB_HISTORY``, or whichever
``use_history_file(path)`` switched to last; the observer forwards to the current one, so clients
made before a switch follow it."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from deck_nb._observers import add_default_observer

if TYPE_CHECKING:
    from ._history import History
    from .journal import Journal

ENV_PATH = "DECK_NB_HISTORY"
_session: Journal | None = None
_lock = threading.Lock()


def session_journal() -> Journal:
    """This session's journal: the file named by DECK_NB_HISTORY, else in memory."""
    global _session
    with _lock:
        if _session is None:
            from .journal import Journal

            _session = Journal(os.environ.get(ENV_PATH) or None)
        return _session


def use_history_file(path: str | os.PathLike[str] | None) -> Journal:
    """Journal this session to the SQLite file at ``path`` from now on (None: a fresh in-memory journal).
    Clients already made follow the switch."""
    from .journal import Journal

    global _session
    with _lock:
        _session = Journal(path)
        return _session


def history(path: str | os.PathLike[str] | None = None) -> History:
    """The session's history as DataFrames (``.runs``, ``.connections``, ``.credentials``, ...), or the
    history file at ``path``."""
    from ._history import History

    return History.load(path) if path is not None else History([session_journal()])


class _SessionObserver:
    """Forwards the client's hooks to whichever journal the session uses now."""

    def on_object(self, obj: Any, call: Any) -> None:
        session_journal().on_object(obj, call)

    def on_error(self, error: Any, call: Any) -> None:
        session_journal().on_error(error, call)

    def on_submission(self, kind: str, id: str, field_names: tuple[str, ...], error: Any) -> None:
        session_journal().on_submission(kind, id, field_names, error)

    def on_files_saved(self, saved: list[Any]) -> None:  # downloaded files' paths and sha256 (storage)
        session_journal().on_files_saved(saved)

    def __repr__(self) -> str:
        return "<session journal observer>"


SESSION_OBSERVER = _SessionObserver()


def _session_observer() -> _SessionObserver:
    return SESSION_OBSERVER


def journal_every_client() -> None:
    """Make every client created from now on journal to the session (called by ``deck_nb/__init__``)."""
    add_default_observer(_session_observer, lazy=True)
