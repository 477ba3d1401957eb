"""Where the client talks to: arguments, then DECK_API_KEY / DECK_BASE_URL, then the embedded simulator."""

from __future__ import annotations

import os
import threading
from typing import Any

from ._errors import DeckError

DEFAULT_BASE_URL = "https://api.deck.co/v2"
_embedded: Any = None
_embedded_lock = threading.Lock()


def embedded_simulator() -> Any:
    """Start (once per process) or reuse the embedded simulator, and say so once."""
    global _embedded
    with _embedded_lock:
        if _embedded is None or not _embedded.running:
            from deck_nb.simulator import start

            scale = float(os.environ.get("DECK_SIM_TIME_SCALE", "1.0"))
            _embedded = start(time_scale=scale)
            print(
                f"deck_nb: no DECK_API_KEY set, so using the embedded Deck simulator at {_embedded.base_url} "
                "(offline; no real account is touched)."
            )
        return _embedded


def resolve(api_key: str | None, base_url: str | None) -> tuple[str, str, bool]:
    """Answer ``(api_key, base_url, embedded)``."""
    api_key = api_key or os.environ.get("DECK_API_KEY") or None
    base_url = base_url or os.environ.get("DECK_BASE_URL") or None
    if api_key is None and base_url is None:
        sim = embedded_simulator()
        return sim.api_key, sim.base_url, True
    if api_key is None:
        raise DeckError(f"A base URL is set ({base_url}) but no API key: pass api_key=... or set DECK_API_KEY.")
    return api_key, (base_url or DEFAULT_BASE_URL).rstrip("/"), False


def mask(api_key: str) -> str:
    """What reprs show of a key: its kind, never its secret part."""
    prefix = api_key.rsplit("_", 1)[0] + "_" if "_" in api_key else ""
    return f"{prefix}…" if len(prefix) < len(api_key) else "…"
