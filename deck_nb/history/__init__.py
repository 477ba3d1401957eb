"""Run histories: the journal of everything the client observes, as pandas DataFrames.

``dn.history()`` (this package, called) is the session's ``History``; ``dn.history(path)`` the
history file at ``path``. The package is an ordinary module too: ``dn.history.History``,
``import deck_nb.history as h`` and ``from deck_nb.history import History`` all work.

``deck_nb`` imports this package at once (see ``.session``), so it stays light: the journal, the
frames and pandas load on first use of a name. Which clients journal is decided in ``.session``."""

from __future__ import annotations

import importlib
import os
import sys
import types
from typing import Any

# SESSION_OBSERVER and session_journal stay importable for the notebook layer, but are not in __all__
from .session import SESSION_OBSERVER, history, session_journal, use_history_file  # noqa: F401

_LAZY = {
    "History": "._history",
    "Journal": ".journal",
    "runs_frame": ".frames",
    "connections_frame": ".frames",
    "credentials_frame": ".frames",
    "sessions_frame": ".frames",
    "outputs_frame": ".frames",
}


class _CallableHistory(types.ModuleType):
    """This package's module type: calling it is ``session.history`` (so ``dn.history()`` and the
    package are one object, and no import rebinds one over the other)."""

    def __call__(self, path: str | os.PathLike[str] | None = None) -> Any:
        """The session's history as DataFrames (``.runs``, ``.connections``, ...), or the history
        file at ``path``."""
        return history(path)


sys.modules[__name__].__class__ = _CallableHistory


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "History",
    "Journal",
    "connections_frame",
    "credentials_frame",
    "history",
    "outputs_frame",
    "runs_frame",
    "sessions_frame",
    "use_history_file",
]
