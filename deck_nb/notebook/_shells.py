"""The two shells that carry out a job's plan: ``drive_sync`` (``job.wait()``) with the sync client,
``drive_async`` (``await job``) with an async twin of it. Each only does I/O; the plan decides."""

from __future__ import annotations

import asyncio
import inspect
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from deck_nb._clock_hints import hint_for
from deck_nb.client import AsyncDeck, Deck, WaitTimeout, is_settled

from ._errors import NeedsAwait
from ._plan import ANSWER_ERRORS, DONE, REVIEW, Ask, Call, Create, Settle, Submit, advance, plan
from ._prompt import Prompt

if TYPE_CHECKING:
    from .jobs import Job

ANSWER_CHECK_S = 1.0  # while a person types, how often to check the prompt is still open

Settler = Callable[["Job", float | None], Awaitable[Any]]


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


class Deadline:
    """The bound of one ``wait``: the whole job (asks and submissions included), not each call."""

    def __init__(self, timeout: float | None) -> None:
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)):
            raise TypeError(f"timeout must be a number of seconds ≥ 0 or None, not {type(timeout).__name__}")
        if timeout is not None and (timeout != timeout or timeout < 0):
            raise ValueError(f"timeout must be a number of seconds ≥ 0 or None, not {timeout!r}")
        self.timeout = timeout
        self.at = None if timeout is None else time.monotonic() + timeout

    def remaining(self) -> float | None:
        return remaining(self.at)

    def expired_error(self, job: Job) -> WaitTimeout:
        what = f"{job.kind.replace('_', ' ')} {job.id or job.card.title}"
        hint = hint_for(getattr(job._deck, "base_url", None))
        return WaitTimeout(
            f"{what} did not finish within {round(self.timeout, 2):g} s (last seen `{job.status}`); "
            + (f"{hint}, then wait again" if hint else "wait again (`await job` or job.wait()) to resume it")
        )

    def check(self, job: Job) -> None:
        if self.at is not None and time.monotonic() >= self.at:
            raise self.expired_error(job)


def _steps(job: Job):
    if job._plan_gen is None:
        job._plan_gen = plan(job)
    return job._plan_gen


def _first(job: Job) -> Any:
    """The command to carry out first. A shell that was stopped (Interrupt, timeout, an error)
    left its command pending: carry it out again, except a submission whose fate is unknown and a
    question that may have closed meanwhile, which the plan judges by reading the resource again
    (so an answer is never sent twice, and a form never shows a prompt that is gone)."""
    pending = job._pending
    stale = isinstance(pending, Ask) and job.resource is not None  # the prompt may be gone by now
    if pending is None or isinstance(pending, Submit) or stale:
        return _next(job, None, None)
    return pending


def _next(job: Job, value: Any, error: BaseException | None) -> Any:
    try:
        job._pending = cmd = advance(_steps(job), value, error)
    except BaseException:
        job._pending = job._plan_gen = None  # the plan stopped on an error: a new wait starts afresh
        raise
    if cmd is DONE:
        job._pending = None
    return cmd


def _handled(cmd: Any, exc: BaseException) -> bool:
    """Whether the plan decides about this error (else it propagates out of the shell)."""
    return isinstance(exc, ANSWER_ERRORS) or (isinstance(cmd, Call) and isinstance(exc, cmd.catch))


def drive_sync(job: Job, deadline: Deadline) -> None:
    """Carry out the plan with the sync client, blocking until it ends or the deadline passes."""
    cmd = _first(job)
    while cmd is not DONE:
        deadline.check(job)
        value, error = None, None
        try:
            value = _run_sync(job, cmd, deadline)
        except WaitTimeout:
            if isinstance(cmd, Settle) and deadline.at is not None:  # the job's bound, not the poll's
                raise deadline.expired_error(job) from None
            raise
        except Exception as exc:
            if not _handled(cmd, exc):
                raise
            error = exc
        cmd = _next(job, value, error)


def start_sync(job: Job) -> None:
    """Carry out the plan until the resource exists (``connect``/``run_task`` outside an event loop
    create at once); the next wait carries on from the command left pending. Stops before asking."""
    cmd = _first(job)
    while cmd is not DONE and job.resource is None and not isinstance(cmd, Ask):
        value, error = None, None
        try:
            value = _run_sync(job, cmd, Deadline(None))
        except Exception as exc:
            if not _handled(cmd, exc):
                raise
            error = exc
        cmd = _next(job, value, error)


async def drive_async(job: Job, adeck: AsyncDeck, deadline: Deadline, settle: Settler | None) -> None:
    """Carry out the plan with the async client; a batch may settle through its event feed. The
    deadline bounds every command, a person's answer included."""
    cmd = _first(job)
    while cmd is not DONE:
        deadline.check(job)
        value, error = None, None
        try:
            async with asyncio.timeout(deadline.remaining()):
                if isinstance(cmd, Settle) and settle is not None:
                    value = await settle(job, deadline.remaining())
                else:
                    value = await _run_async(job, adeck, cmd, deadline)
        except TimeoutError as exc:
            if _handled(cmd, exc):
                error = exc
                cmd = _next(job, value, error)
                continue
            if isinstance(exc, WaitTimeout) and isinstance(cmd, Settle) and deadline.at is not None:
                raise deadline.expired_error(job) from None  # the job's bound, said with how to resume
            if isinstance(exc, WaitTimeout) or deadline.at is None or time.monotonic() < deadline.at:
                raise
            raise deadline.expired_error(job) from None
        except Exception as exc:
            if not _handled(cmd, exc):
                raise
            error = exc
        cmd = _next(job, value, error)


def _until(cmd: Settle) -> Callable[[Any], bool]:
    return _past_review if cmd.past_review else is_settled


def _past_review(obj: Any) -> bool:
    return obj.status != REVIEW and is_settled(obj)


def _run_sync(job: Job, cmd: Any, deadline: Deadline) -> Any:
    deck = job._deck
    if isinstance(cmd, Settle):
        return job._resources(deck).wait(job.id, timeout=deadline.remaining(), until=_until(cmd))
    if isinstance(cmd, Call):
        return cmd.fn(deck)
    if isinstance(cmd, Submit):
        return job._resources(deck).submit_interaction(job.id, cmd.inputs)
    if isinstance(cmd, Create):
        return job._create(deck, cmd.password)
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


async def _run_async(job: Job, adeck: AsyncDeck, cmd: Any, deadline: Deadline) -> Any:
    if isinstance(cmd, Settle):
        return await job._resources(adeck).wait(job.id, timeout=deadline.remaining(), until=_until(cmd))
    if isinstance(cmd, Call):
        value = cmd.fn(adeck)
        return await value if inspect.isawaitable(value) else value
    if isinstance(cmd, Submit):
        return await job._resources(adeck).submit_interaction(job.id, cmd.inputs)
    if isinstance(cmd, Create):
        return await job._create(adeck, cmd.password)
    answer = job.responder.answer(cmd.prompt)
    if not inspect.isawaitable(answer):
        return answer
    return await _await_person(job, adeck, cmd.prompt, asyncio.ensure_future(answer))


async def _await_person(job: Job, adeck: AsyncDeck, prompt: Prompt, answer: asyncio.Future) -> Any:
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
                answered = any(
                    r.answered_at and r.raw == prompt.interaction.model_dump(mode="json") for r in job.interactions
                )
                job._observe(current)
                note = "Answered elsewhere." if answered else f"This prompt closed ({current.status})."
                job.responder.closed(prompt, note)
                return None
    finally:
        if not answer.done():
            answer.cancel()


def remaining(deadline: float | None) -> float | None:
    """Seconds left before ``deadline`` (a monotonic time), or None for no deadline."""
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def loop_running() -> bool:
    """Whether this thread runs an event loop (a kernel cell, or inside ``asyncio.run``)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _await(awaitable: Any) -> Any:
    return await awaitable


def _close(awaitable: Any) -> None:
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()
