"""Batches: many connects and task runs at once over AsyncDeck, watched through the event feed,
with one dashboard and an inbox of pending forms. Failures never stop the batch."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deck_nb.client import AsyncDeck, Deck, DeckError

from .jobs import ConnectJob, Job, RunJob, _loop_running
from .responders import Prompt, Responder, in_kernel, resolve_responder
from .session import sync_deck
from .watcher import EventWatcher


@dataclass
class Connect:
    source_id: str
    username: str
    password: str = field(repr=False)
    external_id: str | None = None
    respond: Any = field(default=None, repr=False)


@dataclass
class RunTask:
    task_id: str
    connection: Any  # a connection id, Connection or ConnectJob
    input: dict[str, Any] | None = None
    respond: Any = field(default=None, repr=False)


@dataclass
class Pull:
    """Connect, then run a task on that connection (what most analysts batch)."""

    source_id: str
    username: str
    password: str = field(repr=False)
    task_id: str = "task_sim_bills"
    input: dict[str, Any] | None = None
    external_id: str | None = None
    respond: Any = field(default=None, repr=False)


Spec = Connect | RunTask | Pull


def as_spec(item: Any) -> Spec:
    if isinstance(item, Connect | RunTask | Pull):
        return item
    if not isinstance(item, Mapping):
        raise TypeError(f"batch items are Connect/RunTask/Pull or dicts, not {type(item).__name__}")
    data = dict(item)
    try:
        if "connection" in data or "connection_id" in data:
            data["connection"] = data.pop("connection_id", data.get("connection"))
            return RunTask(**data)
        if "task_id" in data:
            return Pull(**data)
        return Connect(**data)
    except TypeError as exc:
        raise ValueError(f"batch item {sorted(data)} is not a connect, run or pull: {exc}") from None


@dataclass
class Outcome:
    index: int
    spec: Spec = field(repr=False)
    connection: ConnectJob | None = None
    run: RunJob | None = None
    error: str | None = None

    @property
    def job(self) -> Job | None:
        return self.run or self.connection

    @property
    def status(self) -> str:
        return self.job.status if self.job is not None else "error"

    @property
    def ok(self) -> bool:
        return self.error is None and self.job is not None and self.job.ok

    @property
    def output(self) -> Any:
        return self.run.output if self.run is not None else None


class BatchResult(list):
    """The outcomes, in the order given; ``.frame`` tabulates them; ``.history`` has the frames."""

    def __init__(self, outcomes: list[Outcome], polls: int, requests: int, retries: int = 0) -> None:
        super().__init__(outcomes)
        self.event_polls = polls
        self.requests = requests
        self.retries = retries

    @property
    def frame(self):
        import pandas as pd

        rows = [
            {
                "index": o.index,
                "kind": type(o.spec).__name__.lower(),
                "connection_id": o.connection.id if o.connection else None,
                "run_id": o.run.id if o.run else None,
                "status": o.status,
                "ok": o.ok,
                "error": o.error or "; ".join(str(e) for e in (o.job.errors if o.job else [])) or None,
            }
            for o in self
        ]
        frame = pd.DataFrame(rows, columns=["index", "kind", "connection_id", "run_id", "status", "ok", "error"])
        frame["status"] = frame["status"].astype("category")
        return frame

    @property
    def history(self):
        from deck_nb.history import history

        return history()

    def __repr__(self) -> str:
        ok = sum(o.ok for o in self)
        return f"<BatchResult {ok}/{len(self)} ok>"


class InboxResponder(Responder):
    """Puts each prompt's form in the dashboard's inbox, oldest first; removes it once answered."""

    needs_await = True

    def __init__(self, dashboard: Any) -> None:
        self.dashboard = dashboard
        self.forms: dict[str, Any] = {}

    def answer(self, prompt: Prompt) -> Any:
        from deck_nb.widgets import InteractionForm

        form = self.forms.get(prompt.resource_id)
        if prompt.error is not None and form is not None:
            form.show_error(prompt.error.field, prompt.error.message)
        else:
            form = InteractionForm(prompt.interaction, title=f"{prompt.title} ({prompt.resource_id})")
            self.forms[prompt.resource_id] = form
            self.dashboard.add_form(form)

        async def answered():
            try:
                return await form.answer()
            finally:
                if form.closed:
                    self.dashboard.remove_form(form)
                    self.forms.pop(prompt.resource_id, None)

        return answered()

    def closed(self, prompt: Prompt, note: str) -> None:
        form = self.forms.pop(prompt.resource_id, None)
        if form is not None:
            form.expire(note)
            self.dashboard.remove_form(form)


async def run_many(
    items: Iterable[Any],
    *,
    concurrency: int = 20,
    respond: Any = None,
    deck: Deck | AsyncDeck | None = None,
    show: bool | None = None,
    poll_interval: float = 1.0,
    timeout: float | None = None,
    dashboard: Any = None,
    webhooks: Any = None,
) -> BatchResult:
    """Run every item (Connect, RunTask, Pull or dicts); answer prompts with ``respond`` (in a notebook,
    by default, forms in the dashboard's inbox). Returns the outcomes in order."""
    specs = [as_spec(item) for item in items]
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    client = sync_deck(deck)
    adeck = client.to_async()
    show = in_kernel() if show is None else show
    if show and dashboard is None:
        from IPython.display import display

        from deck_nb.widgets import Dashboard

        dashboard = Dashboard(len(specs), f"deck_nb batch of {len(specs)}")
        display(dashboard.widget)
    default = InboxResponder(dashboard) if (respond is None and dashboard is not None) else None
    watcher = EventWatcher(adeck, interval=poll_interval, receiver=webhooks)
    gate = asyncio.Semaphore(concurrency)
    outcomes = [Outcome(i, spec) for i, spec in enumerate(specs)]

    def responder_for(spec: Spec) -> Responder:
        chosen = spec.respond if spec.respond is not None else respond
        return default if chosen is None and default is not None else resolve_responder(chosen)

    def track(job: Job) -> None:
        if dashboard is None:
            return

        def moved(_job: Job, old: str, new: str) -> None:
            dashboard.move(None if old == "starting" else old, new)

        job.on_change = moved

    async def drive(job: Job) -> None:
        await job._finish_async(timeout, adeck=adeck, settle=watcher.settle, show=False)

    async def one(outcome: Outcome) -> None:
        spec = outcome.spec
        async with gate:
            try:
                responder = responder_for(spec)
                if isinstance(spec, Connect | Pull):
                    conn = ConnectJob(
                        client,
                        responder,
                        source_id=spec.source_id,
                        username=spec.username,
                        external_id=spec.external_id,
                        password=spec.password,
                    )
                    outcome.connection = conn
                    track(conn)
                    await drive(conn)
                    if isinstance(spec, Connect) or not conn.ok:
                        return
                    connection_id = conn.id
                else:
                    connection_id = getattr(spec.connection, "id", spec.connection)
                run = RunJob(client, responder, task_id=spec.task_id, connection_id=connection_id, input=spec.input)
                outcome.run = run
                track(run)
                await drive(run)
            except (DeckError, ValueError, TypeError, TimeoutError) as exc:
                outcome.error = f"{type(exc).__name__}: {exc}"
            finally:
                job = outcome.job
                if job is not None and job.id:
                    watcher.forget(job.id)
                if dashboard is not None:
                    dashboard.finish(
                        job.card.title if job else "?",
                        (job.id or "") if job else "",
                        outcome.status,
                        outcome.error or "",
                    )

    try:
        await asyncio.gather(*(one(o) for o in outcomes))
    finally:
        await watcher.aclose()
        await adeck.close()
    requests = adeck.stats.requests + watcher.requests
    retries = adeck.stats.retries + watcher.retries
    return BatchResult(outcomes, watcher.polls, requests, retries)


def run_many_sync(items: Iterable[Any], **options: Any) -> BatchResult:
    """``run_many`` for scripts and headless responders (outside a running event loop)."""
    if _loop_running():
        raise DeckError("inside Jupyter, use `await deck_nb.run_many(...)`")
    return asyncio.run(run_many(items, **options))
