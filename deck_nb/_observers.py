"""The observers every new Deck and AsyncDeck starts with: a slot below the client that layers above
it fill, so the client watches for them without importing them (imports only point down).

Published as ``deck_nb.client.add_default_observer`` / ``remove_default_observer`` /
``default_observers``. It lives here, in a module that imports nothing, rather than inside
``deck_nb.client`` so that the package can fill it while ``import deck_nb`` stays light: Python
imports ``deck_nb`` before any ``deck_nb.client``, and ``deck_nb`` registers the session journal
here (see ``deck_nb.history.session``) — so every client journals, whichever way it was imported.

A registration is an observer (any object with the client's ``Observer`` hooks) or, with
``lazy=True``, a zero-argument callable that answers one: it is called once, when the first client
is made, so the layer that provides it is loaded only when a client exists."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_observers: list[Any] = []
_pending: list[Callable[[], Any]] = []
_lock = threading.Lock()


def add_default_observer(observer: Any, *, lazy: bool = False) -> None:
    """Every client made from now on calls ``observer``'s hooks (before its own observers).
    With ``lazy=True``, ``observer`` is a zero-argument callable answering the observer, called
    when the next client is made."""
    if lazy and not callable(observer):
        raise TypeError("lazy=True takes a zero-argument callable that answers the observer")
    with _lock:
        if lazy:
            if observer not in _pending:
                _pending.append(observer)
        elif observer not in _observers:
            _observers.append(observer)


def remove_default_observer(observer: Any) -> None:
    """Clients made from now on no longer get ``observer`` (clients already made keep it)."""
    with _lock:
        _resolve()
        if observer in _observers:
            _observers.remove(observer)


def default_observers() -> list[Any]:
    """The observers a client made now starts with (lazy registrations are resolved here)."""
    with _lock:
        _resolve()
        return list(_observers)


def _resolve() -> None:
    while _pending:
        observer = _pending.pop(0)()
        if observer not in _observers:
            _observers.append(observer)
