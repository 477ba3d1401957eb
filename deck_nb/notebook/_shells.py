"""The two shells that carry out a job's plan: ``drive_sync`` (``job.wait()``) with the sync client,
``drive_async`` (``await job``) with an async twin of it. Each only does I/O; the plan decides."""

from __future__ import annotations

import asyncio
import inspect
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from deck_nb.client import AsyncDeck, Deck

from ._errors import NeedsAwait
from ._plan import ANSWER_ERRORS, DONE, Create, Settle, Submit, advance, plan
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
        per_loop = self._twins.setdefault(loop, {})
        twin = per_loop.get(id(deck))
        if twin is None:
            twin = per_loop[id(deck)] = deck.to_async()
        return twin


TWINS = _AsyncTwins()


def _steps(job: Job):
    job._plan_gen = job._plan_gen or plan(job)
    return job._plan_gen


def drive_sync(job: Job, deadline: float | None) -> None:
    """Carry out the plan with the sync client, blocking until it ends."""
    steps = _steps(job)
    value: Any = None
    error: BaseException | None = None
    while (cmd := advance(steps, value, error)) is not DONE:
        value, error = None, None
        try:
            value = _run_sync(job, cmd, deadline)
        except ANSWER_ERRORS as exc:
            error = exc


async def drive_async(job: Job, adeck: AsyncDeck, deadline: float | None, settle: Settler | None) -> None:
    """Carry out the plan with the async client; a batch may settle through its event feed."""
    steps = _steps(job)
    value: Any = None
    error: BaseException | None = None
    while (cmd := advance(steps, value, error)) is not DONE:
        value, error = None, None
        try:
            if isinstance(cmd, Settle) and settle is not None:
                value = await settle(job, remaining(deadline))
            else:
                value = await _run_async(job, adeck, cmd, deadline)
        except ANSWER_ERRORS as exc:
            error = exc


def _run_sync(job: Job, cmd: Any, deadline: float | None) -> Any:
    deck = job._deck
    if isinstance(cmd, Settle):
        return job._resources(deck).wait(job.id, timeout=remaining(deadline))
    if isinstance(cmd, Submit):
        return job._resources(deck).submit_interaction(job.id, cmd.inputs)
    if isinstance(cmd, Create):
        return job._create(deck, cmd.password)
    answer = job.responder.answer(cmd.prompt)
    if inspect.isawaitable(answer):
        if loop_running():
            _close(answer)
            raise NeedsAwait("this responder waits for a person: use `await job` in Jupyter")
        return asyncio.run(_await(answer))
    return answer


async def _run_async(job: Job, adeck: AsyncDeck, cmd: Any, deadline: float | None) -> Any:
    if isinstance(cmd, Settle):
        return await job._resources(adeck).wait(job.id, timeout=remaining(deadline))
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
