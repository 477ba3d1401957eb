"""The client's one transport seam: every httpx transport deck_nb builds goes through ``wrap``.

``wrap(transport)`` puts the transport behind ``deck_nb._wire``'s seam, where an active recording
(``dn.record``, ``DECK_NB_RECORD``) keeps every exchange and a replay (``DECK_NB_REPLAY``) answers
from a recording instead of the network. ``wrap(transport, deck)`` pins the replay of a client made
with ``Deck(replay=...)``. Other transports (e.g. the plain client that downloads signed URLs) call
``wrap`` too, so their traffic is recorded and replayed the same way.
"""

from __future__ import annotations

import os
from typing import Any

from deck_nb import _wire

REPLAY_ENV = "DECK_NB_REPLAY"
RECORD_ENV = "DECK_NB_RECORD"


def from_environment() -> None:
    """Start the recording or replay ``DECK_NB_RECORD`` / ``DECK_NB_REPLAY`` ask for (once)."""
    if os.environ.get(RECORD_ENV) or os.environ.get(REPLAY_ENV):
        from deck_nb.recording import _environment

        _environment.start_from_environment()


def wrap(transport: Any, deck: Any = None) -> Any:
    """``transport`` (sync or async) behind the seam; with ``deck``, that client's own replay."""
    from_environment()
    return _wire.wrap(transport, getattr(deck, "_replayer", None))


def replayer_for(replay: Any, http_client: Any = None) -> Any:
    """The replayer for ``Deck(replay=...)``: a path (opened) or a replayer (shared by twins)."""
    if replay is not None and http_client is not None:
        raise TypeError("replay= answers through deck_nb's own transport: it cannot be combined with http_client=")
    if replay is None or hasattr(replay, "handle"):
        return replay
    from deck_nb.recording import open_replay

    return open_replay(replay)


def replay_options(replayer: Any, options: dict[str, Any]) -> dict[str, Any]:
    """A replaying client needs no key and no server: placeholders unless the caller set them."""
    if replayer is None and not _replaying_everywhere():
        return options
    options = dict(options)
    if not (options.get("api_key") or os.environ.get("DECK_API_KEY")):
        options["api_key"] = "sk_replay"
    if not (options.get("base_url") or os.environ.get("DECK_BASE_URL")):
        options["base_url"] = "https://replay.deck-nb.invalid/v2"
    return options


def _replaying_everywhere() -> bool:
    from_environment()
    return any(getattr(handler, "replays", False) for handler in _wire.active())
