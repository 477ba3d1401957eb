"""deck_nb: drive Deck's browser agents from Jupyter, answer their interactions inline, and analyse
the runs as pandas DataFrames. Heavy parts load on first use so ``import deck_nb`` stays fast."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "Deck": ".client",
    "AsyncDeck": ".client",
    "DeckError": ".client",
    "APIError": ".client",
    "errors": ".client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'deck_nb' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
