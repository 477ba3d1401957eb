"""The plan of a job, written once: a generator of commands (create, settle, ask, submit) and the
decisions between them. It does no I/O; the sync and async shells (``_shells``) carry each command
out and send back its result or error."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deck_nb.client import InteractionInputInvalid, InteractionNotRequired, InteractionTimeout

from ._prompt import Prompt

if TYPE_CHECKING:
    from .jobs import Job

MAX_REFUSALS = 3  # invalid answers in a row a headless responder may send before the job stops

# answers the plan itself handles (ask again, or look at what happened), so the shells hand them back
ANSWER_ERRORS = (InteractionInputInvalid, InteractionNotRequired, InteractionTimeout)


@dataclass
class Settle:
    """Poll until waiting for input or terminal."""


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


Plan = Generator[Any, Any, None]


def plan(job: Job) -> Plan:
    """Drive ``job`` to a terminal status: create it if needed, then settle, ask, submit, repeat."""
    if job.resource is None:
        password = yield from job._credentials()
        job._observe((yield Create(password)))
    while True:
        obj = yield Settle()
        job._observe(obj)
        if obj.status in job.TERMINAL:
            return
        if obj.status != "interaction_required" or obj.interaction is None:
            continue
        error = None
        refusals = 0
        while True:
            prompt = Prompt(job.kind, obj.id, obj.interaction, job._prompt_title(obj), error, job._view)
            inputs = yield Ask(prompt)
            if inputs is None:  # closed elsewhere: see what happened
                break
            try:
                answered = yield Submit(inputs)
            except InteractionInputInvalid as exc:
                refusals += 1
                if refusals >= MAX_REFUSALS and not job.responder.needs_await:
                    raise  # a program keeps sending what the source refuses: stop, say why
                error = exc  # ask again, showing the server's complaint by the field
                continue
            except (InteractionNotRequired, InteractionTimeout):
                break
            job._answered()
            job._observe(answered)
            break


DONE = object()


def advance(steps: Plan, value: Any, error: BaseException | None) -> Any:
    """The plan's next command (after sending it the last result or error), or ``DONE``."""
    try:
        return steps.throw(error) if error is not None else steps.send(value)
    except StopIteration:
        return DONE
