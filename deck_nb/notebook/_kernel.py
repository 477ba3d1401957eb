"""Jobs in a Jupyter kernel. A job made by ``connect``/``run_task`` in a kernel runs on by itself as
a task on the kernel's loop, so a missing ``await`` never leaves a card frozen at ``connecting``:
its forms appear and it finishes; ``await job`` just follows that task. Interrupt stops the job
with one line that says how to resume it, and a ticker keeps the card's clock and countdown live."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from ._errors import JobInterrupted, NeedsAwait
from ._prompt import in_kernel
from ._shells import Deadline, loop_running

if TYPE_CHECKING:
    from .jobs import Job

FOLLOW_WAKE_S = 0.25  # a waiting cell wakes this often, so Interrupt lands at once (see research)
STOP_WAIT_S = 2.0  # how long a stopped job may take to clean up (close its form, note its card)
TICK_S = 1.0  # how often a driven job's card redraws its clock and the answer window's countdown


def start_in_background(job: Job) -> None:
    """In a kernel, show the card and let the job run on as a task on the kernel's loop."""
    if not (in_kernel() and loop_running()):
        return
    job._show()
    job._task = asyncio.get_running_loop().create_task(_background(job))
    job._task.add_done_callback(_settled)


async def _background(job: Job) -> Job:
    job._task_started = True
    return await job._finish_async()


def _settled(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()  # seen here (the card shows it); a later `await job` raises it afresh


def runs_in_background(job: Job) -> bool:
    """Whether ``await job`` should follow a background task (starting one again in a kernel)."""
    task = job._task
    if task is not None and not task.done():
        return True
    job._task = None
    if in_kernel():
        start_in_background(job)
        return job._task is not None
    return False


def take_over_from_background(job: Job) -> None:
    """A sync ``job.wait()`` may drive a job whose background task has not started yet (the same
    cell); one that already runs can only be followed with ``await``."""
    task = job._task
    if task is None or task.done():
        job._task = None
        return
    if not getattr(job, "_task_started", False):
        task.cancel()
        job._task = None
        return
    raise NeedsAwait("this job is already running in the background: use `await job` (or `await job.wait_async()`)")


async def follow(job: Job, deadline: Deadline) -> Job:
    """Wait for the background task, waking often so Interrupt lands; bounded by ``deadline``."""
    task = job._task
    try:
        while not task.done():
            left = deadline.remaining()
            if left == 0:
                task.cancel()
                await asyncio.wait({task}, timeout=STOP_WAIT_S)
                raise deadline.expired_error(job)
            await asyncio.wait({task}, timeout=FOLLOW_WAKE_S if left is None else min(FOLLOW_WAKE_S, left))
    except asyncio.CancelledError:
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_WAIT_S)  # its card says it stopped before we say so
        raise JobInterrupted(
            f"{job.card.title} {job.id or ''} stopped by Interrupt; `await job` resumes it".replace("  ", " "), job
        ) from None
    job._task = None
    return task.result()


def stop_reason(exc: BaseException) -> str:
    """How the card names what stopped a shell."""
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | JobInterrupted):
        return "interrupted"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return type(exc).__name__


@contextlib.contextmanager
def ticking(job: Job):
    """While the async shell drives a shown job, redraw its card (and the form's countdown) every
    second, so the clock never freezes while a person types."""
    view = job._view
    if view is None:
        yield
        return
    task = asyncio.get_running_loop().create_task(_tick(job, view))
    try:
        yield
    finally:
        task.cancel()


async def _tick(job: Job, view: Any) -> None:
    while True:
        await asyncio.sleep(TICK_S)
        view.tick(done=job.done)
