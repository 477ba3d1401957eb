"""The commands a job's plan (``machine.JobMachine.plan``) yields and a shell carries out: each
names one piece of I/O; the shell sends back its result or error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from deck_nb.client import is_settled

from ._prompt import Prompt

REVIEW = "review_required"  # waits for a person in Deck's console: no API resolves it


@dataclass
class Settle:
    """Poll until waiting for input or terminal; ``past_review``: until a run leaves
    ``review_required`` (a person approves it in Deck's console), polling with the client's delay."""

    past_review: bool = False


@dataclass
class Ask:
    """Ask the responder for the inputs of ``prompt``."""

    prompt: Prompt


@dataclass
class Submit:
    """Send the inputs that answer the open interaction."""

    inputs: dict[str, Any] = field(repr=False)


@dataclass
class Create:
    """Create the resource (a connection with this password, or a task run)."""

    password: str = field(repr=False)


@dataclass
class Call:
    """Any other request: ``fn(deck)`` with the shell's client (a sync answer or an awaitable). An
    error of a type in ``catch`` is thrown back into the plan, which decides what it means."""

    fn: Callable[[Any], Any] = field(repr=False)
    what: str = ""
    catch: tuple[type[BaseException], ...] = ()


@dataclass
class Follow:
    """Wait for another job to finish (a run given a login job nobody awaited yet); its result is
    that job."""

    job: Any = field(repr=False)


DONE = object()  # the plan has ended


def until(cmd: Settle) -> Any:
    """When a settle stops polling: at input or an end, or (``past_review``) once out of review."""
    return _past_review if cmd.past_review else is_settled


def _past_review(obj: Any) -> bool:
    return obj.status != REVIEW and is_settled(obj)
