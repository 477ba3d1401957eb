"""Static check (not collected by pytest): resource methods are typed for both shells, with no
``type: ignore`` — run ``mypy tests/typecheck_shells.py`` (mypy is not a dependency of deck_nb).
Every line below must type-check; the last one of ``on_async`` must be reported as an error
(an un-awaited call is not the model)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from deck_nb.client import AsyncDeck, AsyncPager, Credential, Deck, Event, Session, Source, SyncPager, TaskRun


def on_sync(deck: Deck) -> None:
    source: Source = deck.sources.retrieve("src_x")
    pages: SyncPager[Source] = deck.sources.list()
    run: TaskRun = deck.task_runs.create("task_x", credential_id="cred_x")
    answered: TaskRun = deck.task_runs.submit_interaction(run.id, {"code": "123456"})
    cred: Credential = deck.credentials.update("cred_x", external_id=None)
    session: Session = deck.sessions.end("sess_x")
    events: Iterator[Event] = deck.events.watch(types="task_run.*")
    api: str = deck.detect_api()
    print(source, pages, answered, cred, session, events, api)


async def on_async(adeck: AsyncDeck) -> None:
    source: Source = await adeck.sources.retrieve("src_x")
    pages: AsyncPager[Source] = adeck.sources.list()
    run: TaskRun = await adeck.task_runs.create("task_x", credential_id="cred_x")
    answered: TaskRun = await adeck.task_runs.submit_interaction(run.id, {"code": "123456"})
    cred: Credential = await adeck.credentials.delete("cred_x")
    session: Session = await adeck.sessions.retrieve("sess_x")
    events: AsyncIterator[Event] = adeck.events.watch(types="task_run.*")
    api: str = await adeck.detect_api()
    print(source, pages, answered, cred, session, events, api)
    not_awaited: Source = adeck.sources.retrieve("src_x")  # mypy: error (Awaitable[Source])
    print(not_awaited)
