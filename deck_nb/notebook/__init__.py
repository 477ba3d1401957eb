"""The notebook layer: jobs that drive connections and runs to the end, asking a responder.

``__all__`` is what users type. The building blocks for writing a responder (``Prompt``) and the
resolver (``resolve_responder``) stay importable from their modules and from here."""

from ._errors import AnswerLoop, JobFailed, JobInterrupted, NeedsAwait
from ._prompt import NoAnswer, Prompt
from .api import connect, run_task
from .batch import BatchResult, Connect, InboxResponder, Outcome, Pull, RunTask, run_many, run_many_sync
from .jobs import ConnectJob, InteractionRecord, Job, RunJob
from .responders import (
    CallableResponder,
    ConsoleResponder,
    DictResponder,
    Responder,
    SimulatorResponder,
    TOTPResponder,
    resolve_responder,
)
from .session import default_deck, set_default_deck

__all__ = [
    "AnswerLoop",
    "BatchResult",
    "CallableResponder",
    "Connect",
    "ConnectJob",
    "ConsoleResponder",
    "DictResponder",
    "InboxResponder",
    "Job",
    "JobFailed",
    "JobInterrupted",
    "NeedsAwait",
    "Outcome",
    "Pull",
    "Responder",
    "RunJob",
    "RunTask",
    "SimulatorResponder",
    "TOTPResponder",
    "connect",
    "default_deck",
    "run_many",
    "run_many_sync",
    "run_task",
    "set_default_deck",
]

_BUILDING_BLOCKS = (InteractionRecord, NoAnswer, Prompt, resolve_responder)  # importable, not in __all__
