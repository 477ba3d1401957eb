"""The session a run used, read once when the run ends (Deck's current API), so ``history().sessions``
shows its status and runtime as Deck has them — not NaN for a session only ever seen through its
runs. A batch gets the same from the event feed; this is the single run's way."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from deck_nb.client import DeckError

from .machine import Call


def read_session(job: Any, obj: Any) -> Generator[Any, Any, None]:
    """One GET of the run's session (journaled like every answer); a refusal leaves the run's state.
    Not in a batch: its event feed brings the sessions' states without a request per run."""
    session_id = getattr(obj, "session_id", None)
    if not session_id or getattr(job, "_fed_by_events", False):
        return
    try:
        yield Call(lambda deck: deck.sessions.retrieve(session_id), "read session", (DeckError,))
    except DeckError:
        return
