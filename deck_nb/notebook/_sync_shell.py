"""The sync shell (``job.wait()``): carries out the machine's commands with the sync client,
blocking until the plan ends or the deadline passes. It only does I/O; the machine decides."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from deck_nb.client import WaitTimeout

from ._errors import NeedsAwait
from ._waits import Deadline, loop_running
from .machine import DONE, Ask, Call, Create, Follow, Settle, Submit


def drive_sync(job: Any, deadline: Deadline) -> None:
    """Carry out the plan of ``job`` (a ``_job.Job``) until it ends or ``deadline`` passes."""
    machine = job.machine
    cmd = machine.first_command()
    while cmd is not DONE:
        deadline.check(job)
        value, error = None, None
        try:
            value = run_command(job, cmd, deadline)
        except WaitTimeout:
            if isinstance(cmd, Settle) and deadline.at is not None:  # the job's bound, not the poll's
                raise deadline.expired_error(job) from None
            raise
        except Exception as exc:
            if not machine.handles(cmd, exc):
                raise
            error = exc
        cmd = machine.next_command(value, error)


def start_sync(job: Any) -> None:
    """Carry out the plan until the resource exists (``connect``/``run_task`` outside an event loop
    create at once); the next wait carries on from the command left pending. Stops before asking a
    person or following another job."""
    machine = job.machine
    cmd = machine.first_command()
    while cmd is not DONE and machine.resource is None and not isinstance(cmd, Ask | Follow):
        value, error = None, None
        try:
            value = run_command(job, cmd, Deadline(None))
        except Exception as exc:
            if not machine.handles(cmd, exc):
                raise
            error = exc
        cmd = machine.next_command(value, error)


def run_command(job: Any, cmd: Any, deadline: Deadline) -> Any:
    deck = job._deck
    if isinstance(cmd, Settle):
        return job._resources(deck).wait(job.id, timeout=deadline.remaining(), until=job.machine.polling(cmd))
    if isinstance(cmd, Call):
        return cmd.fn(deck)
    if isinstance(cmd, Submit):
        return job._resources(deck).submit_interaction(job.id, cmd.inputs)
    if isinstance(cmd, Create):
        return job._create(deck, cmd.password)
    if isinstance(cmd, Follow):
        return cmd.job.wait(deadline.remaining())
    answer = job.responder.answer(cmd.prompt)
    if inspect.isawaitable(answer):
        if loop_running():
            _close(answer)
            raise NeedsAwait("this responder waits for a person: use `await job` in Jupyter")
        try:
            return asyncio.run(asyncio.wait_for(_await(answer), deadline.remaining()))
        except TimeoutError:
            raise deadline.expired_error(job) from None
    return answer


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _close(awaitable: Any) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()
