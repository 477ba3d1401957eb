"""The notebook's session: one default client, closed when the interpreter exits (so no unclosed
socket warns at exit, e.g. under ``pytest -W error``). (Every client journals to the session
history: deck_nb.history.session decides that for all clients, this module adds nothing to it.)"""

from __future__ import annotations

import atexit
import contextlib
import threading
from typing import Any

from deck_nb.client import AsyncDeck, Deck

_default: Deck | None = None
_made: list[Deck] = []  # the default clients this module created: closed at exit
_lock = threading.Lock()


def default_deck() -> Deck:
    """``Deck()`` (the embedded simulator when nothing is configured), created once per session."""
    global _default
    with _lock:
        if _default is None:
            _default = Deck()
            _made.append(_default)
        return _default


def sync_deck(deck: Deck | AsyncDeck | None) -> Deck:
    """The sync client a job drives, from whatever the caller passed."""
    if deck is None:
        return default_deck()
    if isinstance(deck, AsyncDeck):
        deck = deck.to_sync()
    if not isinstance(deck, Deck):
        raise TypeError(f"deck= takes a Deck or AsyncDeck, not {type(deck).__name__}")
    return deck


def set_default_deck(deck: Deck | None) -> Any:
    """Use this client for jobs that do not name one (None forgets it)."""
    swap_default_deck(deck)
    return deck


def swap_default_deck(deck: Deck | None) -> Deck | None:
    """Use ``deck`` for jobs that do not name one; answers the default it replaced (to restore it)."""
    global _default
    with _lock:
        previous, _default = _default, deck
    return previous


@atexit.register
def close_default_decks() -> None:
    """Close the default clients this session made (the user's own clients are the user's)."""
    with _lock:
        made = list(_made)
        _made.clear()
    for deck in made:
        with contextlib.suppress(Exception):
            deck.close()
