"""Jobs: a connection or task run driven to its end, asking a responder for each interaction.

The driving loop is written once, as a plan of commands (settle, ask, submit, create) that a sync
shell (``job.wait()``) or an async shell (``await job``) carries out."""

from __future__ import annotations

import asyncio
import contextlib
import html
import inspect
import time
import weakref
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deck_nb.client import (
    AsyncDeck,
    Connection,
    Deck,
    DeckError,
    ErrorDetail,
    Field,
    Interaction,
    InteractionInputInvalid,
    InteractionNotRequired,
    InteractionTimeout,
    TaskRun,
)
from deck_nb.history import outcomes
from deck_nb.widgets import CardState

from .responders import Prompt, Responder, in_kernel

ANSWER_CHECK_S = 1.0  # while a person types, how often to check the prompt is still open
MAX_REFUSALS = 3  # invalid answers in a row a headless responder may send before the job stops


class JobFailed(DeckError):
    """A job ended in a failure status; ``.errors`` has Deck's error details."""

    def __init__(self, message: str, errors: list[ErrorDetail]) -> None:
        super().__init__(message)
        self.errors = errors


class NeedsAwait(DeckError, RuntimeError):
    """A synchronous wait cannot receive widget clicks inside a running kernel."""


@dataclass
class InteractionRecord:
    """One prompt the job saw: what was asked, when, and how the answer turned out (no values)."""

    type: str
    message: str | None
    field_names: list[str]
    attempts_remaining: int | None
    shown_at: datetime
    answered_at: datetime | None = None
    outcome: str = outcomes.PENDING
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


# -- plan commands ----------------------------------------------------------------------------


@dataclass
class Settle:
    """Poll until waiting for input or terminal."""


@dataclass
class Ask:
    prompt: Prompt


@dataclass
class Submit:
    inputs: dict[str, Any]


@dataclass
class Create:
    password: str = field(repr=False)


Settler = Callable[["Job", float | None], Awaitable[Any]]


def _now() -> datetime:
    return datetime.now(UTC)


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


_TWINS = _AsyncTwins()


class Job:
    """Base of ConnectJob and RunJob: ``await job`` (forms work) or ``job.wait()`` (headless)."""

    kind = "resource"
    TERMINAL: frozenset[str] = frozenset()
    SUCCESS = ""

    def __init__(self, deck: Deck, responder: Responder, title: str, resource: Any = None) -> None:
        self._deck = deck
        self.responder = responder
        self.resource = resource
        self.interactions: list[InteractionRecord] = []
        self.card = CardState(title, resource.id if resource is not None else "", self._status_of(resource))
        self._view: Any = None
        self.on_change: Callable[[Job, str, str], None] | None = None  # (job, old status, new status)
        self._plan_gen: Generator[Any, Any, None] | None = None

    # -- what a job shows --------------------------------------------------------------------

    @property
    def id(self) -> str | None:
        return self.resource.id if self.resource is not None else None

    @property
    def status(self) -> str:
        return self._status_of(self.resource)

    @staticmethod
    def _status_of(resource: Any) -> str:
        return resource.status if resource is not None else "starting"

    @property
    def done(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def ok(self) -> bool:
        return self.status == self.SUCCESS

    @property
    def errors(self) -> list[ErrorDetail]:
        return list(self.resource.errors) if self.resource is not None else []

    def raise_for_status(self) -> Job:
        if self.done and not self.ok:
            detail = "; ".join(str(e) for e in self.errors) or "no details"
            raise JobFailed(f"{self.kind} {self.id} ended `{self.status}`: {detail}", self.errors)
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.card.text()}>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(r.type)}</td><td>{html.escape(r.message or '')}</td>"
            f"<td>{html.escape(', '.join(r.field_names))}</td><td>{html.escape(r.outcome)}</td></tr>"
            for r in self.interactions
        )
        table = (
            "<table><tr><th>interaction</th><th>message</th><th>fields</th><th>outcome</th></tr>" + rows + "</table>"
            if rows
            else ""
        )
        errors = "".join(f"<div>{html.escape(str(e))}</div>" for e in self.errors)
        return self.card.html() + table + errors

    # -- observing ---------------------------------------------------------------------------

    def _observe(self, obj: Any) -> None:
        """Take a fresher object; record prompts shown and how earlier answers turned out."""
        current = self.resource
        if current is not None and obj.updated_at and current.updated_at and obj.updated_at < current.updated_at:
            return  # an older state (out-of-order event): never go back in time
        old_status = self.status
        self.resource = obj
        if self.on_change is not None and obj.status != old_status:
            self.on_change(self, old_status, obj.status)
        self.card.resource_id = obj.id
        self.card.status = obj.status
        raw = obj.interaction.model_dump(mode="json") if obj.interaction is not None else None
        prompting = obj.status == "interaction_required" and raw is not None
        last = self.interactions[-1] if self.interactions else None
        if last is not None and last.outcome == outcomes.PENDING:
            last.outcome = outcomes.settle(last.raw, last.answered_at is not None, obj.to_dict()) or outcomes.PENDING
        if prompting and (last is None or last.raw != raw or last.outcome != outcomes.PENDING):
            interaction = obj.interaction
            self.interactions.append(
                InteractionRecord(
                    interaction.type,
                    interaction.message,
                    interaction.field_names,
                    interaction.attempts_remaining,
                    _now(),
                    raw=raw,
                )
            )
            self.card.interactions = [r.type for r in self.interactions]
        if obj.status in self.TERMINAL:
            self.card.ended = self.card.ended or time.monotonic()
            self.card.note = "; ".join(e.message or e.code or "" for e in obj.errors)
        self._refresh_view()

    def _answered(self) -> None:
        if self.interactions:
            self.interactions[-1].answered_at = _now()

    # -- the plan ----------------------------------------------------------------------------

    def _plan(self) -> Generator[Any, Any, None]:
        if self.resource is None:
            password = yield from self._credentials()
            self._observe((yield Create(password)))
        while True:
            obj = yield Settle()
            self._observe(obj)
            if obj.status in self.TERMINAL:
                return
            if obj.status != "interaction_required" or obj.interaction is None:
                continue
            error = None
            refusals = 0
            while True:
                prompt = Prompt(self.kind, obj.id, obj.interaction, self._prompt_title(obj), error, self._view)
                inputs = yield Ask(prompt)
                if inputs is None:  # closed elsewhere: see what happened
                    break
                try:
                    answered = yield Submit(inputs)
                except InteractionInputInvalid as exc:
                    refusals += 1
                    if refusals >= MAX_REFUSALS and not self.responder.needs_await:
                        raise  # a program keeps sending what the source refuses: stop, say why
                    error = exc  # ask again, showing the server's complaint by the field
                    continue
                except (InteractionNotRequired, InteractionTimeout):
                    break
                self._answered()
                self._observe(answered)
                break

    def _credentials(self) -> Generator[Any, Any, str]:
        raise NotImplementedError

    def _prompt_title(self, obj: Any) -> str:
        return f"{self.card.title} needs input"

    # -- the two shells ----------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> Job:
        """Finish synchronously (scripts, headless responders). In a kernel with a widget responder,
        use ``await job`` instead: a blocking wait cannot receive the form's clicks."""
        if self.responder.needs_await and _loop_running():
            raise NeedsAwait(
                f"`job.wait()` cannot receive form clicks inside Jupyter; use `await job` "
                f"(e.g. `{self.kind if self.kind != 'task_run' else 'run'} = await job`), "
                "or pass respond=... for a headless answer"
            )
        deadline = None if timeout is None else time.monotonic() + timeout
        self._check_responder(self._deck)
        return self._drive(lambda cmd: self._run_sync(cmd, deadline))

    def __await__(self):
        return self._finish_async().__await__()

    async def _finish_async(
        self,
        timeout: float | None = None,
        *,
        adeck: AsyncDeck | None = None,
        settle: Settler | None = None,
        show: bool = True,
    ) -> Job:
        """The async shell. A batch passes its own client and a settler fed by the event feed."""
        adeck = adeck or _TWINS.get(self._deck)
        self._check_responder(self._deck)
        if show:
            self._show()
        deadline = None if timeout is None else time.monotonic() + timeout
        plan = self._plan_gen = self._plan_gen or self._plan()
        value: Any = None
        error: BaseException | None = None
        with self._stopping():
            while (cmd := _advance(plan, value, error)) is not _DONE:
                value, error = None, None
                try:
                    if isinstance(cmd, Settle) and settle is not None:
                        value = await settle(self, _remaining(deadline))
                    else:
                        value = await self._run_async(adeck, cmd, deadline)
                except ANSWER_ERRORS as exc:
                    error = exc
        return self

    def _drive(self, run) -> Job:
        """The sync shell's loop: carry out each command of the plan with ``run``."""
        plan = self._plan_gen = self._plan_gen or self._plan()
        value: Any = None
        error: BaseException | None = None
        with self._stopping():
            while (cmd := _advance(plan, value, error)) is not _DONE:
                value, error = None, None
                try:
                    value = run(cmd)
                except ANSWER_ERRORS as exc:
                    error = exc
        return self

    @contextlib.contextmanager
    def _stopping(self):
        """Whatever stops a shell (an error, Interrupt) shows on the card before it propagates."""
        try:
            yield
        except BaseException as exc:
            self.card.note = f"stopped: {type(exc).__name__}"
            self._refresh_view()
            raise

    def _check_responder(self, deck: Deck) -> None:
        check = getattr(self.responder, "check", None)
        if check is not None:
            check(deck)

    def _run_sync(self, cmd: Any, deadline: float | None) -> Any:
        if isinstance(cmd, Settle):
            return self._resources(self._deck).wait(self.id, timeout=_remaining(deadline))
        if isinstance(cmd, Submit):
            return self._resources(self._deck).submit_interaction(self.id, cmd.inputs)
        if isinstance(cmd, Create):
            return self._create(self._deck, cmd.password)
        answer = self.responder.answer(cmd.prompt)
        if inspect.isawaitable(answer):
            if _loop_running():
                _close(answer)
                raise NeedsAwait("this responder waits for a person: use `await job` in Jupyter")
            return asyncio.run(_await(answer))
        return answer

    async def _run_async(self, adeck: AsyncDeck, cmd: Any, deadline: float | None) -> Any:
        if isinstance(cmd, Settle):
            return await self._resources(adeck).wait(self.id, timeout=_remaining(deadline))
        if isinstance(cmd, Submit):
            return await self._resources(adeck).submit_interaction(self.id, cmd.inputs)
        if isinstance(cmd, Create):
            return await self._create(adeck, cmd.password)
        answer = self.responder.answer(cmd.prompt)
        if not inspect.isawaitable(answer):
            return answer
        return await self._await_person(adeck, cmd.prompt, asyncio.ensure_future(answer))

    async def _await_person(self, adeck: AsyncDeck, prompt: Prompt, answer: asyncio.Future) -> Any:
        """Wait for the person, checking now and then that the prompt is still open."""
        try:
            while True:
                finished, _ = await asyncio.wait({answer}, timeout=ANSWER_CHECK_S)
                if finished:
                    return answer.result()
                if self.id is None:  # still signing in: nothing to check yet
                    continue
                current = await self._resources(adeck).retrieve(self.id)
                if current.status != "interaction_required" or current.interaction != prompt.interaction:
                    answered = any(
                        r.answered_at and r.raw == prompt.interaction.model_dump(mode="json") for r in self.interactions
                    )
                    self._observe(current)
                    note = "Answered elsewhere." if answered else f"This prompt closed ({current.status})."
                    self.responder.closed(prompt, note)
                    return None
        finally:
            if not answer.done():
                answer.cancel()

    # -- manual control ----------------------------------------------------------------------

    def submit(self, answer: dict[str, Any] | None = None, /, **fields: Any) -> Job:
        """Answer the current interaction from code (e.g. from another cell); the same rules as
        ``submit_interaction`` (``inputs={...}`` is the answer, any other keyword a field)."""
        obj = self._resources(self._deck).submit_interaction(self.id, answer, **fields)
        self._answered()
        self._observe(obj)
        return self

    def apply(self, update: Any) -> Job:
        """Take a state pushed to you (an Event from a webhook or the feed, or an object): duplicates
        and out-of-order deliveries are ignored, so the job never goes back in time."""
        model = Connection if self.kind == "connection" else TaskRun
        resource = getattr(update, "resource", update)  # an Event carries the object
        if isinstance(resource, dict):
            resource = model.model_validate(resource)
        if not isinstance(resource, model) or resource.id != self.id:
            raise ValueError(f"that update is not about {self.kind} {self.id}")
        self._observe(resource)
        return self

    def refresh(self) -> Job:
        self._observe(self._resources(self._deck).retrieve(self.id))
        return self

    # -- view --------------------------------------------------------------------------------

    def _show(self) -> None:
        if not in_kernel() or self._view is not None:
            return
        from IPython.display import display

        from .view import JobView

        self._view = JobView(self.card)
        display(self._view.widget)

    def _refresh_view(self) -> None:
        if self._view is not None:
            self._view.refresh(done=self.done)

    # -- per kind ----------------------------------------------------------------------------

    def _resources(self, deck: Deck | AsyncDeck) -> Any:
        raise NotImplementedError

    def _create(self, deck: Deck | AsyncDeck, password: str) -> Any:
        raise NotImplementedError


class ConnectJob(Job):
    kind = "connection"
    TERMINAL = Connection.TERMINAL
    SUCCESS = "connected"

    def __init__(
        self,
        deck: Deck,
        responder: Responder,
        *,
        source_id: str,
        username: str | None,
        external_id: str | None = None,
        resource: Connection | None = None,
        password: str | None = None,
    ) -> None:
        super().__init__(deck, responder, f"connect {source_id}", resource)
        self.source_id = source_id
        self._username = username
        self._external_id = external_id
        self._password = password  # only until the connection is created (batches create lazily)

    @property
    def connection(self) -> Connection | None:
        return self.resource

    def _resources(self, deck):
        return deck.connections

    def _create(self, deck, password: str):
        return deck.connections.create(
            self.source_id, username=self._username, password=password, external_id=self._external_id
        )

    def _credentials(self) -> Generator[Any, Any, str]:
        if self._password is not None:
            password, self._password = self._password, None
            return password
        fields = [Field(name="password", type="string", label="Password", secret=True)]
        if not self._username:
            fields.insert(0, Field(name="username", type="string", label="Username"))
        interaction = Interaction(type="credentials", message=f"Sign in to {self.source_id}", fields=fields)
        answer = yield Ask(Prompt("connection", "", interaction, f"{self.card.title}: sign in", None, self._view))
        if not answer:
            raise DeckError("no credentials were given")
        self._username = answer.get("username", self._username)
        return answer["password"]

    def cancel(self) -> ConnectJob:
        """Close the browser session (``disconnect``)."""
        self._observe(self._deck.connections.disconnect(self.id))
        return self


class RunJob(Job):
    kind = "task_run"
    TERMINAL = TaskRun.TERMINAL
    SUCCESS = "completed"

    def __init__(
        self,
        deck: Deck,
        responder: Responder,
        *,
        task_id: str,
        resource: TaskRun | None = None,
        connection_id: str | None = None,
        input: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(deck, responder, f"run {task_id}", resource)
        self.task_id = task_id
        self._connection_id = connection_id or (resource.connection_id if resource is not None else None)
        self._input = input

    def _credentials(self) -> Generator[Any, Any, str]:
        return ""
        yield  # a generator, like the connection's

    def _create(self, deck, password: str):
        return deck.task_runs.create(self.task_id, connection_id=self._connection_id, input=self._input)

    @property
    def run(self) -> TaskRun:
        return self.resource

    @property
    def output(self) -> Any:
        return self.resource.output if self.resource is not None else None

    def _resources(self, deck):
        return deck.task_runs

    def cancel(self) -> RunJob:
        self._observe(self._deck.task_runs.cancel(self.id))
        return self


_DONE = object()
# answers the plan itself handles (ask again, or look at what happened), so the shells hand them back
ANSWER_ERRORS = (InteractionInputInvalid, InteractionNotRequired, InteractionTimeout)


def _advance(plan: Generator[Any, Any, None], value: Any, error: BaseException | None) -> Any:
    """The plan's next command (after sending it the last result or error), or _DONE."""
    try:
        return plan.throw(error) if error is not None else plan.send(value)
    except StopIteration:
        return _DONE


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def _loop_running() -> bool:
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
