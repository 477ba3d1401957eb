"""The plan of a job, written once: a generator of commands (create, settle, ask, submit, call) and
the decisions between them. It does no I/O; the sync and async shells (``_shells``) carry each command
out and send back its result or error."""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deck_nb.client import InteractionInputInvalid, InteractionNotRequired, InteractionTimeout

from ._errors import AnswerLoop
from ._prompt import NoAnswer, Prompt

if TYPE_CHECKING:
    from .jobs import Job

MAX_REFUSALS = 3  # invalid answers in a row a headless responder may send before the job stops
MAX_REPEATS = 3  # accepted answers to one identical prompt before a headless responder stops
MAX_SUBMISSIONS = 50  # answers a headless responder may send in one wait, whatever is asked

# answers the plan itself handles (ask again, or look at what happened), so the shells hand them back
ANSWER_ERRORS = (InteractionInputInvalid, InteractionNotRequired, InteractionTimeout)
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


Plan = Generator[Any, Any, None]


def plan(job: Job) -> Plan:
    """Drive ``job`` to a terminal status: create it if needed, then settle, ask, submit, repeat."""
    if job.resource is None:
        job._observe((yield from job._start()))
    answered_to: dict[str, int] = {}  # how often each prompt (its JSON) was answered and accepted
    while True:
        if not job._settles():  # a stored credential: nothing to wait for
            return
        obj = yield Settle(past_review=job.status == REVIEW)
        job._observe(obj)
        if obj.status in job.TERMINAL:
            yield from job._ended(obj)
            return
        if obj.status == REVIEW:
            yield from job._in_review(obj)
            continue  # keeps waiting (never approves): the next settle polls until it leaves review
        if obj.status != "interaction_required" or obj.interaction is None:
            continue
        _check_answerable(job, obj)
        error = None
        refusals = 0
        while True:
            prompt = Prompt(job.kind, obj.id, obj.interaction, job._prompt_title(obj), error, job._view)
            inputs = yield Ask(prompt)
            if inputs is None:  # closed elsewhere: see what happened
                break
            if isinstance(inputs, Mapping) and not inputs:
                raise NoAnswer(f"the responder gave no answer to {_what(job, obj)}'s `{obj.interaction.type}` prompt")
            if not job.responder.needs_await:
                _check_not_looping(job, obj, answered_to)
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
            if answered is None:  # a resumed shell does not know if it landed: look again
                break
            job._answered()
            key = _key(obj.interaction)
            answered_to[key] = answered_to.get(key, 0) + 1
            job._observe(answered)
            break


def _key(interaction: Any) -> str:
    return json.dumps(interaction.model_dump(mode="json"), sort_keys=True, default=str)


def _what(job: Job, obj: Any) -> str:
    return f"{job.kind.replace('_', ' ')} {obj.id}"


def _check_answerable(job: Job, obj: Any) -> None:
    """Deck answers an interaction with its fields' values: one that names no field cannot be answered."""
    if not obj.interaction.fields:
        raise NoAnswer(
            f"{_what(job, obj)} asks for input (`{obj.interaction.type}`) but names no field to answer, "
            "so there is nothing to send; finish or cancel it in Deck's console"
        )


def _check_not_looping(job: Job, obj: Any, answered_to: dict[str, int]) -> None:
    """A program answers at once and forever: stop it when the source keeps asking the same thing
    (or asks without end), so a hostile or broken source cannot keep a job submitting."""
    repeats = answered_to.get(_key(obj.interaction), 0)
    what = f"{job.kind.replace('_', ' ')} {obj.id}"
    if repeats >= MAX_REPEATS:
        raise AnswerLoop(
            f"{what} asked the same `{obj.interaction.type}` prompt again after {repeats} accepted answers; "
            "stopped so the responder does not answer it forever"
        )
    if sum(answered_to.values()) >= MAX_SUBMISSIONS:
        raise AnswerLoop(f"{what} kept asking after {MAX_SUBMISSIONS} accepted answers; stopped")


DONE = object()


def advance(steps: Plan, value: Any, error: BaseException | None) -> Any:
    """The plan's next command (after sending it the last result or error), or ``DONE``."""
    try:
        return steps.throw(error) if error is not None else steps.send(value)
    except StopIteration:
        return DONE
