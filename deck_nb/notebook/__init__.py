"""The notebook layer: jobs that drive connections and runs to the end, asking a responder."""

from .api import connect, run_task
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
    "CallableResponder",
    "ConnectJob",
    "ConsoleResponder",
    "DictResponder",
    "InteractionRecord",
    "Job",
    "JobFailed",
    "NeedsAwait",
    "NoAnswer",
    "Prompt",
    "Responder",
    "RunJob",
    "SimulatorResponder",
    "TOTPResponder",
    "connect",
    "default_deck",
    "resolve_responder",
    "run_task",
    "set_default_deck",
]
