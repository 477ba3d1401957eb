"""Batches: many connects and task runs at once over AsyncDeck, watched through the event feed,
with one dashboard and an inbox of pending forms. Failures never stop the batch."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deck_nb.client import AsyncDeck, Deck, DeckError

from ._batch_frame import FRAME_COLUMNS, batch_frame  # noqa: F401
from ._batch_sessions import DEFAULT_SESSION_LIMIT, SESSION_DEPTH, SessionGroups, check_session_limit
from ._batch_specs import Connect, Pull, RunTask, Spec
from ._frontend import waiting_mode
from ._inbox import InboxResponder
from .jobs import ConnectJob, Job, RunJob, _loop_running
from .responders import Responder, in_kernel, resolve_responder
from .session import sync_deck
from .watcher import EventWatcher


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
    """One batch item's result: its jobs, final status, output and error (``ok`` when it succeeded)."""

    index: int
    spec: Spec = field(repr=False)
    connection: ConnectJob | None = None
    run: RunJob | None = None
    error: str | None = None
    error_type: str | None = None  # the code (or class) of an error that stopped the item
    seconds: float | None = None  # how long the item took, from its start to its end

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

    @property
    def error_code(self) -> str | None:
        """Why the item failed: Deck's error code, else what stopped it; None when it succeeded."""
        if self.ok:
            return None
        errors = self.job.errors if self.job is not None else []
        return next((e.code for e in errors if e.code), None) or self.error_type or self.status

    def describe(self) -> dict[str, Any]:
        """Who and what this item is, how it ended and how long it took (never a secret): the
        dashboard's row."""
        spec = self.spec
        linked = spec.connection if isinstance(spec, RunTask) else None
        source = getattr(spec, "source_id", None) or _source_of(linked)
        if not source and self.run is not None and self.run.resource is not None:
            source = self.run.resource.source_id
        who = _who(getattr(spec, "username", None), getattr(spec, "external_id", None)) or _who_of(linked)
        return {
            "source": source or "",
            "who": who,
            "task": getattr(spec, "task_id", "") or "",
            "status": self.status,
            "seconds": self.seconds or 0.0,
            "ok": self.ok,
            "error_code": self.error_code or "",
        }


class BatchResult(list):
    """The outcomes, in the order given; ``.frame`` tabulates them; ``.history`` has the frames."""

    def __init__(self, outcomes: list[Outcome], polls: int, requests: int, retries: int = 0) -> None:
        super().__init__(outcomes)
        self.event_polls = polls
        self.requests = requests
        self.retries = retries
        self.session_limit_waits = 0  # current API: how often an item waited for a session slot

    @property
    def frame(self):
        """One typed row per item, in the history's column names: what ran, for which account
        (``username``, ``external_id``: never a secret), how it ended and how long it took."""
        return batch_frame(self)

    @property
    def ids(self) -> set[str]:
        """The connections and runs this batch created."""
        return {job.id for o in self for job in (o.connection, o.run) if job is not None and job.id}

    @property
    def history(self):
        """This batch's own history: the session's journal narrowed to the resources it created."""
        from deck_nb.history import session_journal

        return _batch_history_class()([session_journal()], self.ids)

    def download(self, dir: str = "deck_files", **options: Any):
        """Every file the batch's runs captured, into ``dir``: ``dn.download(batch, dir)``."""
        from deck_nb.files import download

        return download(self, dir, **options)

    @property
    def extractions(self):
        """The batch's files with their extracted fields: ``dn.extractions(batch)``."""
        from deck_nb.files import extractions

        return extractions(self)

    def __repr__(self) -> str:
        ok = sum(o.ok for o in self)
        return f"<BatchResult {ok}/{len(self)} ok>"


def _who(username: str | None, external_id: str | None) -> str:
    return " · ".join(x for x in (username, external_id) if x)


def _source_of(connection: Any) -> str | None:
    """The source of a RunTask's connection (a ConnectJob, a Connection or only an id)."""
    return getattr(connection, "source_id", None) or getattr(getattr(connection, "resource", None), "source_id", None)


def _who_of(connection: Any) -> str:
    """The username or external id behind a RunTask's connection, else its id."""
    if connection is None:
        return ""
    if isinstance(connection, ConnectJob):
        external = connection.resource.external_id if connection.resource is not None else None
        return _who(connection._username, connection._external_id or external) or (connection.id or "")
    return getattr(connection, "external_id", None) or str(getattr(connection, "id", connection))


def _batch_history_class():
    from deck_nb.history import History

    class BatchHistory(History):
        """A History whose frames keep only the batch's connections and runs."""

        def __init__(self, journals, ids: set[str]) -> None:
            super().__init__(journals)
            self.ids = ids

        def frame(self, name: str):
            frame = super().frame(name)
            ids = self.ids
            if name in ("credentials", "sessions"):  # the current API's: those the batch's runs used
                runs = super().frame("runs")
                link = name[:-1] + "_id"
                ids = set(runs.loc[runs["id"].isin(ids), link].dropna()) if link in runs.columns else set()
            column = "id" if "id" in frame.columns else "resource_id"
            if column not in frame.columns:
                return frame.iloc[0:0]
            return frame[frame[column].isin(ids)].reset_index(drop=True)

        def __repr__(self) -> str:
            return f"<History of this batch: {len(self.ids)} connections and runs>"

    return BatchHistory


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
    session_limit: int = DEFAULT_SESSION_LIMIT,
) -> BatchResult:
    """Run every item (Connect, RunTask, Pull or dicts); answer prompts with ``respond`` (in a notebook,
    by default, forms in the dashboard's inbox). Returns the outcomes in order.

    On Deck's current API the items that share a login (a credential, or Pulls of the same source
    and user: one stored credential) run in turn in one session — one login, one MFA — and at most
    ``min(concurrency, session_limit)`` sessions are open at once; ``session_limit_exceeded`` makes
    an item wait for a slot, never fail."""
    specs = [as_spec(item) for item in items]
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    session_limit = check_session_limit(session_limit)
    client = sync_deck(deck)
    adeck = client.to_async()
    show = in_kernel() if show is None else show
    if show and dashboard is None:
        from deck_nb.widgets import Dashboard

        dashboard = Dashboard(len(specs), f"deck_nb batch of {len(specs)}")
        dashboard.show()
    inbox = respond is None and dashboard is not None and waiting_mode() != "fail"  # headless: NoAnswer at once
    default = InboxResponder(dashboard) if inbox else None
    watcher = EventWatcher(adeck, interval=poll_interval, receiver=webhooks)
    gate = asyncio.Semaphore(concurrency)
    outcomes = [Outcome(i, spec) for i, spec in enumerate(specs)]

    def responder_for(spec: Spec) -> Responder:
        chosen = spec.respond if spec.respond is not None else respond
        return default if chosen is None and default is not None else resolve_responder(chosen)

    def track(job: Job) -> None:
        if dashboard is None:
            return

        def moved(job: Job, old: str, new: str) -> None:
            kind = "credential" if job.kind == "connection" and job.api == "credentials" else job.kind
            dashboard.move(kind, None if old == "starting" else old, new)

        job.on_change = moved

    async def drive(job: Job) -> None:
        await job._finish_async(timeout, adeck=adeck, settle=watcher.settle, show=False)

    groups = None  # on the current API: the items grouped by login, one session each in turn

    async def one(outcome: Outcome, shared: dict[str, Any] | None = None) -> None:
        spec = outcome.spec
        started = time.monotonic()
        try:
            responder = responder_for(spec)
            if isinstance(spec, Connect | Pull):
                conn = (shared or {}).get("login")  # a Pull group shares one stored credential
                if conn is not None and "error" in shared:  # storing it failed: so does every pull of it
                    outcome.connection = conn
                    outcome.error, outcome.error_type = shared["error"]
                    return
                if conn is None:
                    conn = ConnectJob(
                        client,
                        responder,
                        source_id=spec.source_id,
                        username=spec.username,
                        external_id=spec.external_id,
                        password=spec.password,
                    )
                    if shared is not None:
                        shared["login"] = conn
                    track(conn)
                    await drive(conn)
                outcome.connection = conn
                if isinstance(spec, Pull) and conn.credential is not None and not conn.ok:
                    outcome.error = f"not run: credential {conn.id} is {conn.status} (an earlier login was refused)"
                    outcome.error_type = "auth_invalid"
                if isinstance(spec, Connect) or not conn.ok:
                    return
                login = conn
            else:
                login = spec.connection
            connection_id = getattr(login, "id", login)
            run = RunJob(
                client, responder, task_id=spec.task_id, connection_id=connection_id, input=spec.input, login=login
            )
            outcome.run = run
            track(run)
            if groups is None:
                await drive(run)
            else:
                await groups.back_pressure(lambda: drive(run), run, timeout)
        except (DeckError, ValueError, TypeError, TimeoutError) as exc:
            outcome.error = f"{type(exc).__name__}: {exc}"
            outcome.error_type = getattr(exc, "code", None) or type(exc).__name__
            if shared is not None and outcome.run is None:
                shared["error"] = (outcome.error, outcome.error_type)
        finally:
            outcome.seconds = time.monotonic() - started
            job = outcome.job
            if job is not None and job.id:
                watcher.forget(job.id)
            if dashboard is not None:
                dashboard.finish(**outcome.describe())

    async def gated(outcome: Outcome) -> None:
        async with gate:
            await one(outcome)

    def not_run(outcome: Outcome, why: str, code: str) -> None:
        outcome.error, outcome.error_type = f"not run: {why}", code
        if dashboard is not None:
            dashboard.finish(**outcome.describe())

    async def in_turn(group: list[Outcome], shared: dict[str, Any]) -> None:
        first, rest = group[0], group[1:]
        await one(first, shared)  # alone: it logs in (the MFA) and opens the session the rest reuse
        if rest and first.run is not None and first.error_code == "auth_invalid":
            # the source refused this login: sending the same password once per item is how real
            # accounts get locked; the rest wait for a fixed credential instead
            credential = first.run.run.credential_id if first.run.run is not None else "its credential"
            why = (
                f"the login of credential {credential} was refused by an earlier run of this batch "
                "(auth_invalid) — fix it with deck.credentials.update(id, password=...) and run these again"
            )
            for outcome in rest:
                not_run(outcome, why, "auth_invalid")
            return
        lane = asyncio.Semaphore(SESSION_DEPTH if first.ok else 1)

        async def queued(outcome: Outcome) -> None:
            async with lane:
                await one(outcome, shared)

        await asyncio.gather(*(queued(o) for o in rest))

    try:
        if await adeck.detect_api() == "credentials":
            groups = SessionGroups(outcomes, min(concurrency, session_limit))
            await groups.run(in_turn, adeck, watcher)
        else:
            await asyncio.gather(*(gated(o) for o in outcomes))
    finally:
        await watcher.aclose()
        await adeck.close()
        if dashboard is not None and hasattr(dashboard, "update_display"):
            dashboard.update_display()  # the saved notebook's text line says how the batch ended
    requests = adeck.stats.requests + watcher.requests
    retries = adeck.stats.retries + watcher.retries
    result = BatchResult(outcomes, watcher.polls, requests, retries)
    result.session_limit_waits = groups.limit_waits if groups is not None else 0
    return result


def run_many_sync(items: Iterable[Any], **options: Any) -> BatchResult:
    """``run_many`` for scripts and headless responders (outside a running event loop)."""
    if _loop_running():
        raise DeckError("inside Jupyter, use `await deck_nb.run_many(...)`")
    return asyncio.run(run_many(items, **options))
