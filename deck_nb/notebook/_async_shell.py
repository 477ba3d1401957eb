"""The async shell (``await job``): carries out the machine's commands with an async twin of the
client. In a Jupyter kernel a job made by ``connect``/``run_task`` runs on by itself as a task on
the kernel's loop (so a missing ``await`` never freezes its card), and ``await job`` follows that
task; Interrupt stops the job with one line saying how to resume it, and a ticker keeps the card's
clock live. Where the front end cannot deliver a form's messages while a cell waits
(``waiting_mode() == "return"``), ``await job`` returns at once while a person is asked: the card
and the form stay live, the form's own handler submits, the task goes on, and the next cell reads
the job (``await job`` again, or ``job.result``)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from deck_nb.client import AsyncDeck, Deck, WaitTimeout

from ._errors import JobInterrupted, NeedsAwait
from ._prompt import Prompt, in_kernel
from ._waits import Deadline, loop_running
from .machine import DONE, Ask, Call, Create, Follow, Settle, Submit

ANSWER_CHECK_S = 1.0  # while a person types, how often to check the prompt is still open
FOLLOW_WAKE_S = 0.25  # a waiting cell wakes this often, so Interrupt lands at once (see research)
STOP_WAIT_S = 2.0  # how long a stopped job may take to clean up (close its form, note its card)
TICK_S = 1.0  # how often a driven job's card redraws its clock and the answer window's countdown
RETURNED_NOTE = "answer the form below; the next cell reads the job (`await job` or `job.result`)"

Settler = Callable[[Any, float | None], Awaitable[Any]]


def waiting_mode() -> str:
    """THE HOOK for front ends: how a cell waits while a person is asked. "await": the front end
    delivers the form's messages to a cell that awaits (ipykernel ≥ 7.4 in Lab/Notebook); "return":
    it cannot, so the cell returns at once and the job goes on in the background. The decision is
    ``deck_nb.notebook._frontend.waiting_mode()`` when that module exists."""
    frontend = _frontend()
    return "await" if frontend is None else frontend.waiting_mode()


def returned_note() -> str:
    """The one line a returned cell's card shows: the front end's own words (``waiting_note``)."""
    frontend = _frontend()
    return RETURNED_NOTE if frontend is None else frontend.waiting_note("return")


def _frontend() -> Any:
    try:
        return importlib.import_module(f"{__package__}._frontend")
    except ModuleNotFoundError:
        return None


class _AsyncTwins:
    """One AsyncDeck per (client, event loop): httpx async pools belong to the loop that made them."""

    def __init__(self) -> None:
        self._twins: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def get(self, deck: Deck) -> AsyncDeck:
        loop = asyncio.get_running_loop()
        per_loop = self._twins.setdefault(loop, weakref.WeakKeyDictionary())
        twin = per_loop.get(deck)  # keyed by the client itself: a new client never gets a dead one's twin
        if twin is None:
            twin = per_loop[deck] = deck.to_async()
        return twin


TWINS = _AsyncTwins()


# -- driving ---------------------------------------------------------------------------------


async def drive_async(job: Any, adeck: AsyncDeck, deadline: Deadline, settle: Settler | None) -> None:
    """Carry out the plan of ``job`` with the async client; a batch may settle through its event
    feed. The deadline bounds every command, a person's answer included."""
    machine = job.machine
    cmd = machine.first_command()
    while cmd is not DONE:
        deadline.check(job)
        value, error = None, None
        try:
            async with asyncio.timeout(deadline.remaining()):
                if isinstance(cmd, Settle) and settle is not None:
                    value = await settle(job, deadline.remaining())
                else:
                    value = await run_command(job, adeck, cmd, deadline)
        except TimeoutError as exc:
            if not machine.handles(cmd, exc):
                if isinstance(exc, WaitTimeout) and isinstance(cmd, Settle) and deadline.at is not None:
                    raise deadline.expired_error(job) from None  # the job's bound, said with how to resume
                if isinstance(exc, WaitTimeout) or not deadline.expired():
                    raise
                raise deadline.expired_error(job) from None
            error = exc
        except Exception as exc:
            if not machine.handles(cmd, exc):
                raise
            error = exc
        cmd = machine.next_command(value, error)


async def run_command(job: Any, adeck: AsyncDeck, cmd: Any, deadline: Deadline) -> Any:
    if isinstance(cmd, Settle):
        return await job._resources(adeck).wait(job.id, timeout=deadline.remaining(), until=job.machine.polling(cmd))
    if isinstance(cmd, Call):
        value = cmd.fn(adeck)
        return await value if inspect.isawaitable(value) else value
    if isinstance(cmd, Submit):
        return await job._resources(adeck).submit_interaction(job.id, cmd.inputs)
    if isinstance(cmd, Create):
        return await job._create(adeck, cmd.password)
    if isinstance(cmd, Follow):
        return await cmd.job.wait_async(deadline.remaining())
    assert isinstance(cmd, Ask)
    answer = job.responder.answer(cmd.prompt)
    if not inspect.isawaitable(answer):
        return answer
    return await _await_person(job, adeck, cmd.prompt, asyncio.ensure_future(answer))


async def _await_person(job: Any, adeck: AsyncDeck, prompt: Prompt, answer: asyncio.Future) -> Any:
    """Wait for the person, checking now and then that the prompt is still open."""
    try:
        while True:
            finished, _ = await asyncio.wait({answer}, timeout=ANSWER_CHECK_S)
            if finished:
                return answer.result()
            if job.id is None:  # still signing in: nothing to check yet
                continue
            current = await job._resources(adeck).retrieve(job.id)
            if current.status != "interaction_required" or current.interaction != prompt.interaction:
                raw = prompt.interaction.model_dump(mode="json")
                answered = any(r.answered_at and r.raw == raw for r in job.interactions)
                job.machine.observe(current)
                note = "Answered elsewhere." if answered else f"This prompt closed ({current.status})."
                job.responder.closed(prompt, note)
                return None
    finally:
        if not answer.done():
            answer.cancel()


# -- in a kernel: the background task ----------------------------------------------------------


def start_in_background(job: Any) -> None:
    """In a kernel, show the card and let the job run on as a task on the kernel's loop."""
    if not (in_kernel() and loop_running()):
        return
    job._show()
    job._task = asyncio.get_running_loop().create_task(_background(job))
    job._task.add_done_callback(_settled)


async def _background(job: Any) -> Any:
    job._task_started = True
    return await job._finish_async()


def _settled(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()  # seen here (the card shows it); a later `await job` raises it afresh


def runs_in_background(job: Any) -> bool:
    """Whether ``await job`` should follow a background task (starting one again in a kernel)."""
    task = job._task
    if task is not None and not task.done():
        return True
    job._task = None
    if in_kernel():
        start_in_background(job)
        return job._task is not None
    return False


def drive_on(job: Any) -> None:
    """In a kernel, drive on in the background a job nobody drives now (stopped by Interrupt, or
    cancelled from another cell), so its card follows it to the end."""
    if job.done or not (in_kernel() and loop_running()):
        return
    if job._task is None or job._task.done():
        job._task = None
        start_in_background(job)


def take_over_from_background(job: Any) -> None:
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


async def follow(job: Any, deadline: Deadline) -> Any:
    """Wait for the background task, waking often so Interrupt lands; bounded by ``deadline``. In
    "return" mode it returns the unfinished job as soon as a person is asked."""
    task = job._task
    asked = False  # seen waiting for a person at the last wake (one wake lets an answer just sent land)
    try:
        while not task.done():
            if job.machine.waiting_for_person and waiting_mode() == "return":
                if asked:
                    job.machine.say(returned_note(), until_answered=True)
                    return job  # the task goes on; the form's handler answers
                asked = True
            else:
                asked = False
            left = deadline.remaining()
            if left == 0:
                job.machine.stopping = "timed out"
                task.cancel()
                await asyncio.wait({task}, timeout=STOP_WAIT_S)
                raise deadline.expired_error(job)
            await asyncio.wait({task}, timeout=FOLLOW_WAKE_S if left is None else min(FOLLOW_WAKE_S, left))
    except asyncio.CancelledError:
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_WAIT_S)  # its card says it stopped before we say so
        raise JobInterrupted(
            f"{job.card.title} {job.id or ''} stopped by Interrupt; `await dn.resume()` resumes it".replace("  ", " "),
            job,
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


class ticking:
    """While the async shell drives a shown job, redraw its card (and the form's countdown) every
    second, so the clock never freezes while a person types."""

    def __init__(self, job: Any) -> None:
        self.view = job._view
        self.job = job
        self.task: asyncio.Task | None = None

    def __enter__(self) -> ticking:
        if self.view is not None:
            self.task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            self.view.tick(done=self.job.done)
