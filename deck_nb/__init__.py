"""deck_nb: drive Deck's browser agents from Jupyter, answer their interactions inline, and analyse
the runs as pandas DataFrames. Heavy parts load on first use so ``import deck_nb`` stays fast."""

# Every client made in this process journals to the session history, whichever way the client is
# imported: deck_nb.history.session decides it (light: it loads neither client nor journal; read its
# docstring). ``deck_nb.history`` is the history package, and it is callable: dn.history() gives the
# session's History, and dn.history.History, ``import deck_nb.history as h`` work too.
from . import history as history
from ._version import __version__ as __version__
from .history import session as _session
from .history.session import use_history_file as use_history_file

_session.journal_every_client()

_LAZY: dict[str, str] = {
    "Deck": ".client",
    "AsyncDeck": ".client",
    "DeckError": ".client",
    "APIError": ".client",
    "connect": ".notebook",
    "run_task": ".notebook",
    "run_many": ".notebook",
    "run_many_sync": ".notebook",
    "resume": ".notebook",
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
    "record": ".recording",
    "replay": ".recording",
    "History": ".history",
    "Journal": ".history",
    "runs_frame": ".history",
    "connections_frame": ".history",
    "credentials_frame": ".history",
    "sessions_frame": ".history",
    "outputs_frame": ".history",
    "download": ".files",
    "extractions": ".files",
}
_SUBPACKAGES = ("simulator", "client", "widgets", "notebook", "recording")  # deck_nb.history is imported above
__all__ = sorted(["history", "use_history_file", *_LAZY, *_SUBPACKAGES])


def __getattr__(name: str) -> object:
    import importlib

    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'deck_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """Only what users type (no ``Any``, ``annotations`` or private helpers)."""
    return [*__all__, "__version__"]
