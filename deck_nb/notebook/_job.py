"""The face of every job: a login or task run driven to its end, asking a responder for each
interaction. Its state lives in its ``machine`` (``machine.JobMachine``); this class reads it, draws
its card from it, and offers the two shells (``job.wait()``, ``await job``) and manual control. The
kinds (``ConnectJob``, ``RunJob``) live in ``jobs``."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Generator
from datetime import datetime
from typing import Any

from deck_nb.client import AsyncDeck, Connection, Deck, ErrorDetail, TaskRun
from deck_nb.client._explain import FIX_CONNECTION, failure_words
from deck_nb.widgets._card_state import CardState

from . import _async_shell, _display
from ._errors import JobFailed, JobInterrupted, JobPending, NeedsAwait
from ._inbox import account_of
from ._prompt import Responder, in_kernel
from ._records import InteractionRecord
from ._run_data import card_details
from ._sync_shell import drive_sync
from ._waits import Deadline
from ._waits import loop_running as _loop_running
from .machine import Create, JobMachine

__all__ = ["InteractionRecord", "Job", "JobFailed", "NeedsAwait", "_loop_running"]


class Job:
    """A connection or run driven to its end, asking a responder at each interaction. Finish it with
    ``await job`` (forms work; ``await job.wait_async(timeout=...)`` to bound it) or ``job.wait()``
    (headless). ``job.card`` is its one-line status; ``job.interactions`` what was asked."""

    kind = "resource"
    TERMINAL: frozenset[str] = frozenset()
    SUCCESS = ""

    def __init__(self, deck: Deck, responder: Responder, title: str, resource: Any = None) -> None:
        self._deck = deck
        self.responder = responder
        self._view: Any = None
        self._shown_in: int | None = None  # the cell whose output holds the live card
        self.on_change: Callable[[Job, str, str], None] | None = None  # (job, old status, new status)
        self._task: Any = None  # in a kernel: the background task that drives the job
        self._create_key = uuid.uuid4().hex  # so a create resumed after Interrupt is not doubled
        self.machine = JobMachine(self, resource)  # all of the job's state
        self.card = CardState(title, resource.id if resource is not None else "", self.machine.status)
        self.machine.listener = self._redraw

    # -- what a job shows: read from its machine ---------------------------------------------

    @property
    def resource(self) -> Any:
        """The latest Connection, Credential or TaskRun seen (None until created)."""
        return self.machine.resource

    @property
    def interactions(self) -> list[InteractionRecord]:
        """What was asked, one record per prompt shown (never the values sent)."""
        return self.machine.interactions

    @property
    def seen_at(self) -> datetime | None:
        """When ``status`` was last read from Deck (UTC)."""
        return self.machine.seen_at

    @property
    def phase(self) -> str:
        """Where the job is in its life (``machine.Phase``): waiting for a person, settled, ..."""
        return self.machine.phase

    @property
    def result(self) -> Any:
        """The resource once the job settled (check ``ok``, or ``raise_for_status()``); while it
        still runs — a form waits for a person — ``JobPending`` says what it waits for."""
        if not self.done:
            waits = "a person's answer in its form" if self.machine.waiting_for_person else f"`{self.status}`"
            raise JobPending(f"{self.card.title} {self.id or ''} has not finished: it waits for {waits}; `await` it")
        return self.resource

    @property
    def id(self) -> str | None:
        """The connection's or run's id; None until it is created."""
        return self.resource.id if self.resource is not None else None

    @property
    def status(self) -> str:
        """The latest status seen ("starting" before creation). Nothing polls a job that no shell
        drives: its card then says how old this is; ``refresh()`` reads it now."""
        return self.machine.status

    @property
    def done(self) -> bool:
        """Whether the status is terminal (it will not change again)."""
        return self.status in self.TERMINAL

    @property
    def ok(self) -> bool:
        """Whether the job ended in success (``connected`` or ``completed``)."""
        return self.status == self.SUCCESS

    @property
    def errors(self) -> list[ErrorDetail]:
        """Deck's error details of a failed job (empty otherwise)."""
        return self.machine.errors

    def raise_for_status(self) -> Job:
        """Raise ``JobFailed`` (with Deck's error details) if the job ended in failure; else
        return the job, so ``job.wait().raise_for_status()`` chains."""
        if self.done and not self.ok:
            detail = "; ".join(str(e) for e in self.errors) or "no details"
            raise JobFailed(f"{self.kind} {self.id} ended `{self.status}`: {detail}", self.errors)
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.card.text()}>"

    def _repr_html_(self) -> str:
        return _display.static_html(self)

    def _ipython_display_(self) -> None:
        """Shown as a cell's result: its one live card (see ``_display``)."""
        _display.as_result(self)

    # -- observing: the machine decides, the card is drawn from it -------------------------

    def _observe(self, obj: Any) -> None:
        """Take a fresher object (an older one is ignored)."""
        self.machine.observe(obj)

    def _answered(self) -> None:
        self.machine.answered()

    def _redraw(self, old_status: str) -> None:
        """The machine changed: draw the card from its state (and tell the batch's dashboard)."""
        m, card = self.machine, self.card
        if self.on_change is not None and m.status != old_status:
            self.on_change(self, old_status, m.status)
        card.resource_id = self.id or ""
        card.status = m.display_status()
        card.interactions = [r.type for r in m.interactions]
        card.seen, card.expires_at, card.live, card.note = m.seen, m.expires_at, m.live, m.note
        if m.ended is not None:
            card.ended = card.ended or m.ended
        card.details, card.details_html = card_details(m)
        self._refresh_view(final=self.done)  # the saved text line: at the end, not mid-form

    # -- per kind: the machine's plan calls these (``machine.Kind``) -------------------------

    def _credentials(self) -> Generator[Any, Any, str]:
        raise NotImplementedError

    def _start(self) -> Generator[Any, Any, Any]:
        """Create the resource (asking for what it needs first); returns it."""
        password = yield from self._credentials()
        return (yield Create(password))

    def _settles(self) -> bool:
        """Whether the plan waits on the resource after creating it."""
        return True

    def _ended(self, obj: Any) -> Generator[Any, Any, None]:
        """What the plan does once the resource ended (nothing, by default)."""
        return
        yield

    def _in_review(self, obj: Any) -> Generator[Any, Any, None]:
        """What the plan does when a run waits for approval in Deck's console."""
        return
        yield

    def _note(self, obj: Any) -> str | None:
        """The card's note for a new state (None keeps the current one): the errors once ended."""
        if obj.status in self.TERMINAL:
            return failure_words(obj.errors, answers=len(self.interactions), fix=FIX_CONNECTION)
        return None

    def _prompt_title(self, obj: Any) -> str:
        who = account_of(self)  # whose phone code or answer it is
        return f"{self.card.title} for {who} needs input" if who else f"{self.card.title} needs input"

    # -- the two shells ----------------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> Job:
        """Finish synchronously (scripts, headless responders), within ``timeout`` seconds for the
        whole job (asks and answers included; ``WaitTimeout`` then, and waiting again resumes). In
        a kernel with a widget responder use ``await job``: a blocking wait cannot receive clicks (a
        headless kernel, where nobody can click either way, gets the responder's ``NoAnswer``)."""
        headless = in_kernel() and _async_shell.waiting_mode() == "fail"  # its responder says NoAnswer
        if self.responder.needs_await and _loop_running() and not headless:
            raise NeedsAwait(
                f"`job.wait()` cannot receive form clicks inside Jupyter; use `await job` "
                f"(e.g. `{self.kind if self.kind != 'task_run' else 'run'} = await job`), "
                "or pass respond=... for a headless answer"
            )
        deadline = Deadline(timeout)
        _async_shell.take_over_from_background(self)
        self._check_responder(self._deck)
        try:
            with self._driving(resume="dn.resume().wait()"):
                drive_sync(self, deadline)
        except KeyboardInterrupt:
            if not in_kernel():
                raise
            message = f"{self.card.title} {self.id or ''} stopped by Interrupt; `dn.resume().wait()` resumes it"
            raise JobInterrupted(message.replace("  ", " "), self) from None
        return self

    async def wait_async(self, timeout: float | None = None) -> Job:
        """``await job`` with a bound: within ``timeout`` seconds for the whole job, or
        ``WaitTimeout`` (the job stops; waiting again resumes it). In a kernel this follows the
        job's background task; Interrupt stops the job and says how to resume it."""
        deadline = Deadline(timeout)
        if _async_shell.runs_in_background(self):
            return await _async_shell.follow(self, deadline)
        return await self._finish_async(timeout)

    def __await__(self):
        return self.wait_async().__await__()

    async def _finish_async(
        self,
        timeout: float | None = None,
        *,
        adeck: AsyncDeck | None = None,
        settle: _async_shell.Settler | None = None,
        show: bool = True,
    ) -> Job:
        """The async shell. A batch passes its own client and a settler fed by the event feed."""
        deadline = Deadline(timeout)
        self._fed_by_events = settle is not None  # a batch's event feed brings its sessions' states
        adeck = adeck or _async_shell.TWINS.get(self._deck)
        self._check_responder(self._deck)
        if show:
            self._show()
        with self._driving(resume="await dn.resume()"), _async_shell.ticking(self):
            await _async_shell.drive_async(self, adeck, deadline, settle)
        return self

    @contextlib.contextmanager
    def _driving(self, resume: str):
        """While a shell drives the job its card is live; whatever stops the shell (an error, a
        timeout, Interrupt) shows on the card, with how to resume, before it propagates."""
        self.machine.driving()
        self._redraw(self.status)
        try:
            yield
        except BaseException as exc:
            self.machine.stopped(_async_shell.stop_reason(exc), resume)
            raise
        finally:
            self.machine.released()
            self._refresh_view(final=True)

    def _check_responder(self, deck: Deck) -> None:
        check = getattr(self.responder, "check", None)
        if check is not None:
            check(deck)

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
        model = self._model()
        resource = getattr(update, "resource", update)  # an Event carries the object
        if isinstance(resource, dict):
            resource = model.model_validate(resource)
        if not isinstance(resource, model) or resource.id != self.id:
            raise ValueError(f"that update is not about {self.kind} {self.id}")
        self._observe(resource)
        return self

    def refresh(self) -> Job:
        """Read the resource now (``status`` is the latest state seen, and the card says how old
        it is when nothing drives the job)."""
        if self.id is None:
            return self
        self._observe(self._resources(self._deck).retrieve(self.id))
        return self

    # -- view --------------------------------------------------------------------------------

    def _show(self) -> None:
        """Display the card under the cell (in a kernel, once)."""
        _display.show(self)

    def _refresh_view(self, final: bool = False) -> None:
        if self._view is not None:
            self._view.refresh(done=self.done, final=final)

    # -- per kind ----------------------------------------------------------------------------

    def _model(self) -> type:
        return TaskRun if self.kind == "task_run" else Connection

    def _resources(self, deck: Deck | AsyncDeck) -> Any:
        raise NotImplementedError

    def _create(self, deck: Deck | AsyncDeck, password: str) -> Any:
        raise NotImplementedError
