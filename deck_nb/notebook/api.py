"""The notebook helpers: ``connect`` and ``run_task`` start at once and return a job to finish with
``await job`` (forms work) or ``job.wait()`` (headless)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deck_nb.client import AsyncDeck, Connection, Deck

from .jobs import ConnectJob, Job, RunJob
from .responders import resolve_responder
from .session import sync_deck


def connect(
    source_id: str,
    username: str | None = None,
    password: str | None = None,
    *,
    respond: Any = None,
    deck: Deck | AsyncDeck | None = None,
    external_id: str | None = None,
) -> ConnectJob:
    """Open a connection to ``source_id``. Without ``password`` the responder asks for it (so it
    never has to be typed into a cell)."""
    client = sync_deck(deck)
    responder = resolve_responder(respond)
    resource = None
    if password is not None:
        resource = client.connections.create(source_id, username=username, password=password, external_id=external_id)
    job = ConnectJob(
        client, responder, source_id=source_id, username=username, external_id=external_id, resource=resource
    )
    if resource is not None:
        job._observe(resource)
    return job


def run_task(
    task_id: str,
    connection: ConnectJob | Connection | str,
    input: Mapping[str, Any] | None = None,
    *,
    respond: Any = None,
    deck: Deck | AsyncDeck | None = None,
) -> RunJob:
    """Start ``task_id`` on a connection (a job, a Connection or an id)."""
    client = sync_deck(deck)
    if isinstance(connection, Job):
        if connection.id is None:
            raise ValueError("that connection job has not started yet: `await` it (or .wait()) first")
        connection_id = connection.id
    else:
        connection_id = getattr(connection, "id", connection)
    # by default, the same person (or answers) as the connection had
    inherit = respond is None and isinstance(connection, Job)
    responder = connection.responder if inherit else resolve_responder(respond)
    resource = client.task_runs.create(task_id, connection_id=connection_id, input=input)
    job = RunJob(client, responder, task_id=task_id, resource=resource)
    job._observe(resource)
    return job
