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
    "connect": ".notebook",
    "run_task": ".notebook",
    "run_many": ".notebook",
    "run_many_sync": ".notebook",
    "Connect": ".notebook",
    "RunTask": ".notebook",
    "Pull": ".notebook",
    "default_deck": ".notebook",
    "set_default_deck": ".notebook",
    "DictResponder": ".notebook",
    "CallableResponder": ".notebook",
    "ConsoleResponder": ".notebook",
    "TOTPResponder": ".notebook",
    "SimulatorResponder": ".notebook",
    "Responder": ".notebook",
    "JobFailed": ".notebook",
    "History": ".history",
    "Journal": ".history",
    "use_history_file": ".history",
    "runs_frame": ".history",
    "connections_frame": ".history",
    "outputs_frame": ".history",
}


def __getattr__(name: str) -> Any:
    if name in ("history", "simulator", "client", "widgets", "notebook"):
        # subpackages; deck_nb.history is also callable: deck_nb.history() gives the session's History
        import importlib

        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'deck_nb' has no attribute {name!r}")
    import importlib

    if module == ".client":  # clients made from the top-level names journal to the session history
        importlib.import_module(".history", __name__)
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, "history", "simulator", "client", "widgets", "notebook"])
