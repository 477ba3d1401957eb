"""The notebook helpers: ``connect`` and ``run_task`` start at once and return a job to finish with
``await job`` (forms work) or ``job.wait()`` (headless). Inside a running event loop (a kernel, an
async program) nothing here blocks the loop: the resource is created by the async client when the
job is awaited, and in a kernel the job starts on its own in the background."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deck_nb.client import AsyncDeck, Connection, Deck

from . import _kernel
from ._shells import loop_running
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
    """Open a connection to ``source_id`` and return its job: ``conn = await dn.connect(...)`` in a
    notebook (forms ask a person), ``dn.connect(..., respond={...}).wait()`` in a script. Without
    ``password`` the responder asks for it, so it never has to be typed into a cell. In a kernel the
    job runs on in the background even if nobody awaits it."""
    client = sync_deck(deck)
    responder = resolve_responder(respond)
    job = ConnectJob(
        client,
        responder,
        source_id=source_id,
        username=username,
        external_id=external_id,
        password=password if loop_running() else None,  # created by the async client when awaited
    )
    if password is not None and not loop_running():
        resource = client.connections.create(
            source_id, username=username, password=password, external_id=external_id, idempotency_key=job._create_key
        )
        job._observe(resource)
    _kernel.start_in_background(job)
    return job


def run_task(
    task_id: str,
    connection: ConnectJob | Connection | str,
    input: Mapping[str, Any] | None = None,
    *,
    respond: Any = None,
    deck: Deck | AsyncDeck | None = None,
) -> RunJob:
    """Start ``task_id`` on a connection (a job, a Connection or an id) and return its job, to
    finish like a connection's (``await run`` or ``run.wait()``). By default the run is answered by
    the same responder as the connection job it is given."""
    client = sync_deck(deck)
    if isinstance(connection, Job):
        if connection.id is None:
            raise ValueError("that connection job has not started yet: `await` it (or .wait()) first")
        connection_id = connection.id
    else:
        connection_id = getattr(connection, "id", connection)
    if not isinstance(connection_id, str) or not connection_id:
        raise TypeError(f"connection= takes a ConnectJob, a Connection or an id, not {type(connection).__name__}")
    # by default, the same person (or answers) as the connection had
    inherit = respond is None and isinstance(connection, Job)
    responder = connection.responder if inherit else resolve_responder(respond)
    job = RunJob(client, responder, task_id=task_id, connection_id=connection_id, input=input)
    if not loop_running():
        job._observe(
            client.task_runs.create(task_id, connection_id=connection_id, input=input, idempotency_key=job._create_key)
        )
    _kernel.start_in_background(job)
    return job
