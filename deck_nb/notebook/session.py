"""The notebook's session: one default client. (Every client journals to the session history:
deck_nb.history.session decides that for all clients, this module adds nothing to it.)"""

from __future__ import annotations

import threading
from typing import Any

from deck_nb.client import AsyncDeck, Deck

_default: Deck | None = None
_lock = threading.Lock()


def default_deck() -> Deck:
    """``Deck()`` (the embedded simulator when nothing is configured), created once per session."""
    global _default
    with _lock:
        if _default is None:
            _default = Deck()
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
    global _default
    with _lock:
        _default = deck
    return deck
