"""One job's life as a pure state machine: everything a job knows (its resource and status, phase,
interactions, answers, the card's note) lives in a ``JobMachine``, and every transition is decided
here from what the client reports. It does no I/O: its plan yields *commands* (create, settle, ask,
submit, call, follow) that a shell carries out (``_sync_shell`` for ``job.wait()``, ``_async_shell``
for ``await job``) and sends back as a result or an error. Views (card, form, inbox, dashboard)
read the machine through its ``listener``; they never change it.

    created ─▶ working ─▶ waiting for a person ─▶ answered ─▶ working ─▶ … ─▶ settled
     ▲  │          └─────▶ waiting for approval ───────────────┘            (done, failed, canceled)
     └──┴─ waiting for the password (a login, nothing on Deck yet)
    any phase but settled ─▶ stopped (a shell stopped: outcome "interrupted"; waiting again resumes)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Mapping
from datetime import datetime
from typing import Any, Protocol

from deck_nb.client import InteractionInputInvalid, InteractionNotRequired, InteractionTimeout

from ._commands import DONE, REVIEW, Ask, Call, Create, Follow, Settle, Submit, until
from ._errors import AnswerLoop
from ._prompt import NoAnswer, Prompt
from ._records import InteractionRecord, record, utc_now

__all__ = [
    "DONE",
    "REVIEW",
    "Ask",
    "Call",
    "Create",
    "Follow",
    "JobMachine",
    "Kind",
    "Phase",
    "Settle",
    "Submit",
    "until",
]

MAX_REFUSALS = 3  # invalid answers in a row a headless responder may send before the job stops
MAX_REPEATS = 3  # accepted answers to one identical prompt before a headless responder stops
MAX_SUBMISSIONS = 50  # answers a headless responder may send in one wait, whatever is asked

# answers the plan itself handles (ask again, or look at what happened), so the shells hand them back
ANSWER_ERRORS = (InteractionInputInvalid, InteractionNotRequired, InteractionTimeout)
CANCELED = frozenset({"canceled", "disconnected"})


class Phase:
    """Where a job is in its life (``JobMachine.phase``)."""

    CREATED = "created"
    SIGNING_IN = "waiting for the password"
    WORKING = "working"
    WAITING_PERSON = "waiting for a person"
    WAITING_APPROVAL = "waiting for approval"
    ANSWERED = "answered"
    SETTLED = "settled"
    STOPPED = "stopped"  # a shell stopped it (Interrupt, a timeout, an error): waiting again resumes


Plan = Generator[Any, Any, None]


class Kind(Protocol):
    """What a kind of job (``jobs.ConnectJob``, ``jobs.RunJob``) decides: pure steps and words."""

    kind: str
    responder: Any
    _view: Any

    @property
    def TERMINAL(self) -> frozenset[str]: ...

    def _start(self) -> Generator[Any, Any, Any]: ...
    def _settles(self) -> bool: ...
    def _ended(self, obj: Any) -> Generator[Any, Any, None]: ...
    def _in_review(self, obj: Any) -> Generator[Any, Any, None]: ...
    def _note(self, obj: Any) -> str | None: ...
    def _prompt_title(self, obj: Any) -> str: ...


class JobMachine:
    """A job's whole state and the decisions that move it. ``listener(old_status)`` is called after
    every change, so a view (the card) can redraw from the state."""

    def __init__(self, kind: Kind, resource: Any = None) -> None:
        self.kind = kind
        self.resource = resource
        self.phase = Phase.CREATED if resource is None else Phase.WORKING
        self.interactions: list[InteractionRecord] = []
        self.answers = 0  # answers accepted by Deck
        self.note = ""  # what the card says besides the status
        self.stop_reason: str | None = None
        self.stopping: str | None = None  # why a follower is about to stop the shell (it sees only a cancel)
        self._note_until_answered = False  # the note holds only while a person is asked
        self.started = self.seen = time.monotonic()
        self.ended: float | None = None
        self.seen_at: datetime | None = None  # when the status was last read from Deck (UTC)
        self.expires_at: datetime | None = None  # the open interaction's answer window
        self.live = False  # a shell drives the job right now
        self.listener: Callable[[str], None] | None = None
        self._steps: Plan | None = None
        self.pending: Any = None  # the command a stopped shell left undone
        self.files: list[Any] | None = None  # a completed run's storage items, once read (no URLs)
        self.files_more = False  # the run has more files than were read for the card
        self.files_error: str | None = None  # why they could not be read
        self.screenshot: Any = None  # a failed run's last Screenshot, and its image's bytes
        self.screenshot_image: bytes | None = None

    # -- what the state says -----------------------------------------------------------------

    @property
    def status(self) -> str:
        """The resource's latest status ("starting" before it exists)."""
        return self.resource.status if self.resource is not None else "starting"

    @property
    def done(self) -> bool:
        return self.status in self.kind.TERMINAL

    @property
    def waiting_for_person(self) -> bool:
        return self.phase in (Phase.SIGNING_IN, Phase.WAITING_PERSON) and not self.done

    @property
    def errors(self) -> list[Any]:
        return list(self.resource.errors) if self.resource is not None else []

    @property
    def outcome(self) -> str | None:
        """How a settled job ended: done, failed or canceled; ``interrupted`` when a shell stopped
        it; None while it runs."""
        if self.phase == Phase.STOPPED:
            return "interrupted"
        if not self.done:
            return None
        if self.status in CANCELED:
            return "canceled"
        return "done" if getattr(self.kind, "ok", True) else "failed"

    def display_status(self) -> str:
        """The status word a card shows: Deck's status, or what a job that has none yet waits for."""
        if self.resource is None and self.phase == Phase.SIGNING_IN:
            return "waiting for password"
        return self.status

    # -- transitions -------------------------------------------------------------------------

    def observe(self, obj: Any) -> bool:
        """Take a fresher state of the resource (an older one is ignored: never back in time);
        record prompts shown and judge earlier answers. Returns whether it was taken."""
        current = self.resource
        if current is not None and obj.updated_at and current.updated_at and obj.updated_at < current.updated_at:
            return False
        old = self.status
        self.resource = obj
        prompting = record(self.interactions, obj)
        self.seen, self.seen_at = time.monotonic(), utc_now()
        self.expires_at = obj.interaction.expires_at if prompting else None
        if obj.status in self.kind.TERMINAL:
            self.phase = Phase.SETTLED
            self.ended = self.ended or time.monotonic()
        elif obj.status == REVIEW:
            self.phase = Phase.WAITING_APPROVAL
        elif prompting:
            self.phase = Phase.WAITING_PERSON
        else:
            self.phase = Phase.WORKING
        note = self.kind._note(obj)
        if note is not None:
            self.note = note
        self._changed(old)
        return True

    def signing_in(self) -> None:
        """A person is asked for the login's password (nothing exists on Deck yet)."""
        self.phase = Phase.SIGNING_IN
        self.note = "waiting for the password in the form below"
        self._changed(self.status)

    def signed_in(self) -> None:
        self.phase = Phase.CREATED
        self.note = ""
        self._changed(self.status)

    def answered(self) -> None:
        """Deck accepted an answer; the next state read says how it turned out."""
        if self.interactions:
            self.interactions[-1].answered_at = utc_now()
        self.answers += 1

    def say(self, note: str, *, until_answered: bool = False) -> None:
        """Put ``note`` on the card (``until_answered``: only while a person is asked)."""
        self.note, self._note_until_answered = note, until_answered
        self._changed(self.status)

    def driving(self) -> None:
        """A shell starts driving: the card is live, and a stale stop note gives way."""
        self.live = True
        if self.phase == Phase.STOPPED:
            self.phase = Phase.SETTLED if self.done else Phase.WORKING
        self.stop_reason = None
        self.note = (self.kind._note(self.resource) or "") if self.resource is not None else ""
        if self.phase == Phase.SIGNING_IN:
            self.note = "waiting for the password in the form below"

    def stopped(self, reason: str, resume: str) -> None:
        """A shell stopped before the end (Interrupt, a timeout, an error): say so and how to resume."""
        reason, self.stopping = self.stopping or reason, None
        if not self.done:
            self.phase, self.stop_reason = Phase.STOPPED, reason
            self.note = f"stopped ({reason}) — `{resume}` resumes it"

    def saw_files(self, items: list[Any] | None, *, more: bool = False, error: str | None = None) -> None:
        """The run's files were read (or could not be: ``error``): the card lists them."""
        self.files, self.files_more, self.files_error = (list(items) if items is not None else None), more, error
        self._changed(self.status)

    def saw_screenshot(self, shot: Any, image: bytes | None) -> None:
        """A failed run's last screenshot (its bytes, or None): the card shows it and its reasoning."""
        self.screenshot, self.screenshot_image = shot, image
        self._changed(self.status)

    def released(self) -> None:
        self.live = False
        self.seen = time.monotonic()
        self._changed(self.status)

    def _changed(self, old: str) -> None:
        if self.listener is not None:
            self.listener(old)

    # -- stepping the plan (the shells call these) ----------------------------------------

    def first_command(self) -> Any:
        """The command to carry out first. A shell that was stopped left its command pending:
        carry it out again, except a submission whose fate is unknown and a question that may have
        closed meanwhile, which the plan judges by reading the resource again (so an answer is never
        sent twice, and a form never shows a prompt that is gone)."""
        pending = self.pending
        stale = isinstance(pending, Ask) and self.resource is not None
        if pending is None or isinstance(pending, Submit) or stale:
            return self.next_command(None, None)
        return pending

    def next_command(self, value: Any, error: BaseException | None) -> Any:
        """Send the last command's result (or error) into the plan; its next command, or ``DONE``."""
        if self._steps is None:
            self._steps = self.plan()
        try:
            cmd = self._steps.throw(error) if error is not None else self._steps.send(value)
        except StopIteration:
            cmd = DONE
        except BaseException:
            self.pending = self._steps = None  # the plan stopped on an error: a new wait starts afresh
            raise
        self.pending = None if cmd is DONE else cmd
        return cmd

    def polling(self, cmd: Settle) -> Callable[[Any], bool]:
        """The stop test of ``cmd``'s poll, taking every state read on the way: ``status`` and the
        card say what Deck answered at each poll (a status deck_nb does not know included: it is
        shown and polled on, never mistaken for the last one the plan stopped at)."""
        stop = until(cmd)

        def polled(obj: Any) -> bool:
            self.observe(obj)
            return stop(obj)

        return polled

    @staticmethod
    def handles(cmd: Any, exc: BaseException) -> bool:
        """Whether the plan decides about this error (else it propagates out of the shell)."""
        return isinstance(exc, ANSWER_ERRORS) or (isinstance(cmd, Call) and isinstance(exc, cmd.catch))

    # -- the plan ----------------------------------------------------------------------------

    def plan(self) -> Plan:
        """Drive the job to a terminal status: create it if needed, then settle, ask, submit, repeat."""
        kind = self.kind
        if self.resource is None:
            self.observe((yield from kind._start()))
        answered_to: dict[str, int] = {}  # how often each prompt (its JSON) was answered and accepted
        while kind._settles():  # a stored credential: nothing to wait for
            obj = yield Settle(past_review=self.status == REVIEW)
            self.observe(obj)
            if obj.status in kind.TERMINAL:
                yield from kind._ended(obj)
                return
            if obj.status == REVIEW:
                yield from kind._in_review(obj)
                continue  # never approves: the next settle polls until it leaves review
            if obj.status != "interaction_required" or obj.interaction is None:
                continue
            yield from self._answer(obj, answered_to)

    def _answer(self, obj: Any, answered_to: dict[str, int]) -> Plan:
        """Ask for the open interaction and submit the answer, asking again while Deck refuses it."""
        kind = self.kind
        _check_answerable(kind, obj)
        error, refusals = None, 0
        while True:
            prompt = Prompt(kind.kind, obj.id, obj.interaction, kind._prompt_title(obj), error, kind._view)
            self.phase = Phase.WAITING_PERSON
            inputs = yield Ask(prompt)
            if inputs is None:  # closed elsewhere: see what happened
                return
            if isinstance(inputs, Mapping) and not inputs:
                raise NoAnswer(f"the responder gave no answer to {_what(kind, obj)}'s `{obj.interaction.type}` prompt")
            self.phase = Phase.ANSWERED  # given; Deck has yet to take it
            if self._note_until_answered:
                self.say("")
            headless = not kind.responder.needs_await
            if headless:
                _check_not_looping(kind, obj, answered_to)
            try:
                answered = yield Submit(inputs)
            except InteractionInputInvalid as exc:
                refusals += 1
                if refusals >= MAX_REFUSALS and headless:
                    raise  # a program keeps sending what the source refuses: stop, say why
                error = exc  # ask again, showing the server's complaint by the field
                continue
            except (InteractionNotRequired, InteractionTimeout):
                return
            if answered is None:  # a resumed shell does not know if it landed: look again
                return
            self.answered()
            key = _key(obj.interaction)
            answered_to[key] = answered_to.get(key, 0) + 1
            self.observe(answered)
            return


def _key(interaction: Any) -> str:
    return json.dumps(interaction.model_dump(mode="json"), sort_keys=True, default=str)


def _what(kind: Kind, obj: Any) -> str:
    return f"{kind.kind.replace('_', ' ')} {obj.id}"


def _check_answerable(kind: Kind, obj: Any) -> None:
    """Deck answers an interaction with its fields' values: one that names no field cannot be answered."""
    if not obj.interaction.fields:
        raise NoAnswer(
            f"{_what(kind, obj)} asks for input (`{obj.interaction.type}`) but names no field to answer, "
            "so there is nothing to send; finish or cancel it in Deck's console"
        )


def _check_not_looping(kind: Kind, obj: Any, answered_to: dict[str, int]) -> None:
    """A program answers at once and forever: stop it when the source keeps asking the same thing
    (or asks without end), so a hostile or broken source cannot keep a job submitting."""
    repeats = answered_to.get(_key(obj.interaction), 0)
    what = _what(kind, obj)
    if repeats >= MAX_REPEATS:
        raise AnswerLoop(
            f"{what} asked the same `{obj.interaction.type}` prompt again after {repeats} accepted answers; "
            "stopped so the responder does not answer it forever"
        )
    if sum(answered_to.values()) >= MAX_SUBMISSIONS:
        raise AnswerLoop(f"{what} kept asking after {MAX_SUBMISSIONS} accepted answers; stopped")
