"""The notebook layer: jobs that drive logins and runs to the end, asking a responder.

    api.connect / run_task, batch.run_many ──▶ jobs.ConnectJob / RunJob (what differs per kind)
                                                   │ is a _job.Job: reads and draws its state
    views: view (card), form, _inbox, dashboard ◀──┤ read the state, never change it
                                                   ▼
    machine.JobMachine ── ALL of a job's state; decides every transition; yields commands
        ▲ carried out by _sync_shell (job.wait())  ·  _async_shell (await job, kernel task)
        │                                             │ only I/O, through deck_nb.client
    _sessions (one MFA per session) · watcher (event feed) · _batch_sessions (slots)

Imports point down that picture; ``tests/test_imports.py`` finds no circle. ``__all__`` is what users type."""

from ._errors import AnswerLoop, JobFailed, JobInterrupted, JobPending, NeedsAwait
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
    "JobPending",
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
