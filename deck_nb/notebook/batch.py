"""Batches: many connects and task runs at once over AsyncDeck, watched through the event feed,
with one dashboard and an inbox of pending forms. Failures never stop the batch.

This module runs a batch; its items are in ``_batch_specs``, its outcomes and result in
``_batch_result``, its frame in ``_batch_frame`` and its sessions (current API) in ``_batch_sessions``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from deck_nb.client import AsyncDeck, Deck, DeckError

from ._batch_frame import FRAME_COLUMNS, batch_frame  # noqa: F401  (re-exported)
from ._batch_result import BatchResult, Outcome
from ._batch_sessions import DEFAULT_SESSION_LIMIT, SESSION_DEPTH, SessionGroups, check_session_limit
from ._batch_specs import Connect, Pull, RunTask, Spec, as_spec  # noqa: F401  (RunTask re-exported)
from ._frontend import waiting_mode
from ._inbox import InboxResponder
from .jobs import ConnectJob, Job, RunJob, _loop_running
from .responders import Responder, in_kernel, resolve_responder
from .session import sync_deck
from .watcher import EventWatcher


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
        return default if chosen is None and default is not None else resolve_responder(chosen, adeck)

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
                "(auth_invalid) — fix it with deck.credentials.update(id, password=getpass.getpass()) "
                "(typed at a prompt, never in a cell) and run these again"
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
