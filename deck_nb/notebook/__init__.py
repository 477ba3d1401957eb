"""The notebook layer: jobs that drive connections and runs to the end, asking a responder."""

from .api import connect, run_task
from .batch import BatchResult, Connect, InboxResponder, Outcome, Pull, RunTask, run_many, run_many_sync
from .jobs import ConnectJob, InteractionRecord, Job, JobFailed, NeedsAwait, RunJob
from .responders import (
    CallableResponder,
    ConsoleResponder,
    DictResponder,
    NoAnswer,
    Prompt,
    Responder,
    SimulatorResponder,
    TOTPResponder,
    resolve_responder,
)
from .session import default_deck, set_default_deck

__all__ = [
    "BatchResult",
    "CallableResponder",
    "Connect",
    "ConnectJob",
    "ConsoleResponder",
    "DictResponder",
    "InboxResponder",
    "InteractionRecord",
    "Job",
    "JobFailed",
    "NeedsAwait",
    "NoAnswer",
    "Outcome",
    "Prompt",
    "Pull",
    "Responder",
    "RunJob",
    "RunTask",
    "SimulatorResponder",
    "TOTPResponder",
    "connect",
    "default_deck",
    "resolve_responder",
    "run_many",
    "run_many_sync",
    "run_task",
    "set_default_deck",
]
