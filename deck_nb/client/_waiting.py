"""Waiting, written once: a plan that the sync and async shells execute (``_wait`` in ``_client``):
it says when to fetch the object again and how long to sleep, and decides when the wait is over."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from deck_nb import _clock

from . import _errors as errors

FETCH = object()


def wait_plan(
    until: Callable[[Any], bool], timeout: float | None, poll_interval: float | None, what: str
) -> Generator[Any, Any, Any]:
    """Yields FETCH (send back the fresh object) or a number of seconds to sleep; returns the object."""
    started = _clock.monotonic()
    delay = poll_interval or 0.1
    while True:
        obj = yield FETCH
        if until(obj):
            return obj
        if timeout is not None:
            remaining = timeout - (_clock.monotonic() - started)
            if remaining <= 0:
                status = getattr(obj, "status", "?")
                raise errors.WaitTimeout(f"{what} was still `{status}` after {timeout:g}s")
            yield min(delay, remaining)
        else:
            yield delay
        if poll_interval is None:
            delay = min(delay * 1.5, 2.0)
