"""The notebook layer: jobs that drive logins and runs to the end, asking a responder.

    api.connect · api.run_task · batch.run_many                      what users call
      └─▶ jobs.ConnectJob / RunJob  (a _job.Job)  the face: wait, await, submit, cancel, its card
            └─▶ machine.JobMachine   ALL of a job's state; decides every transition from what the
                  │                  client reports; its plan yields _commands; no I/O
                  ├─ read by the views: view (card), form, _inbox, dashboard — never changed by them
                  └─ carried out by _sync_shell (job.wait()) · _async_shell (await job, kernel task)
                        └─▶ deck_nb.client   the only I/O (with _sessions, watcher, _batch_sessions)

Imports point down this picture (tests/test_imports.py finds no circle); one job through the async
shell reads in machine.py and _async_shell.py. ``__all__`` is what users type."""

from ._errors import AnswerLoop, JobFailed, JobInterrupted, JobPending, NeedsAwait
from ._prompt import NoAnswer, Prompt
from .api import connect, resume, run_task
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
    "resume",
    "run_many",
    "run_many_sync",
    "run_task",
    "set_default_deck",
]

_BUILDING_BLOCKS = (InteractionRecord, NoAnswer, Prompt, resolve_responder)  # importable, not in __all__
