"""The notebook helpers: ``connect`` and ``run_task`` start at once and return a job to finish with
``await job`` (forms work) or ``job.wait()`` (headless). Inside a running event loop (a kernel, an
async program) nothing here blocks the loop: the resource is created by the async client when the
job is awaited, and in a kernel the job starts on its own in the background."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deck_nb.client import AsyncDeck, Connection, Credential, Deck, Session

from ._async_shell import start_in_background
from ._sync_shell import start_sync
from ._waits import loop_running
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
    """Log in to ``source_id`` and return its job: ``conn = await dn.connect(...)`` in a notebook
    (forms ask a person), ``dn.connect(..., respond={...}).wait()`` in a script. Without ``password``
    the responder asks for it (a masked field), so it never has to be typed into a cell. On the
    seed's API this opens a connection (its MFA asked here); on Deck's current API it stores a
    credential (``unverified``: its first run logs in and verifies it). In a kernel the job runs on
    in the background even if nobody awaits it."""
    if not isinstance(source_id, str):
        raise TypeError(f"source_id must be a source's id (a string like 'src_…'), not {type(source_id).__name__}")
    if not source_id.strip():
        raise ValueError("source_id must be a source's id like 'src_…', not an empty string")
    client = sync_deck(deck)
    responder = resolve_responder(respond, client)
    job = ConnectJob(
        client, responder, source_id=source_id, username=username, external_id=external_id, password=password
    )
    if password is not None and not loop_running():
        start_sync(job)  # created now; in a loop the async client creates it when the job runs
    start_in_background(job)
    return job


def run_task(
    task_id: str,
    connection: ConnectJob | Connection | Credential | Session | str,
    input: Mapping[str, Any] | None = None,
    *,
    respond: Any = None,
    deck: Deck | AsyncDeck | None = None,
    session: bool | str = True,
) -> RunJob:
    """Start ``task_id`` with a login — the job ``dn.connect`` returned, or a Connection / Credential
    (or its id) — and return its job, to finish like a connection's (``await run`` or
    ``run.wait()``). By default the run is answered by the same responder as the job it is given
    (on the current API the login's MFA arrives on the run); the card says so unless that is a form.
    A login job that has not finished yet (Run All, papermill: nobody awaited it) is waited for
    first; if it fails, the run is not created and the error says why.

    On Deck's current API the run logs in itself, so the login's forms appear under the run; a later
    run on the same credential reuses its live session (one MFA, not one per run). ``session=False``
    logs in anew; ``session="sess_…"`` names the session to use. A session that has ended is replaced
    by a new one (the card says so). A run waiting in ``review_required`` waits for approval in
    Deck's console (``run.cancel()`` cancels it)."""
    client = sync_deck(deck)
    login_id = getattr(connection, "id", connection)  # a job not finished yet (Run All): None, waited for
    if not isinstance(connection, Job) and (not isinstance(login_id, str) or not login_id):
        raise TypeError(
            "the login is a ConnectJob, a Connection, a Credential, a Session or an id, "
            f"not {type(connection).__name__}"
        )
    if not isinstance(session, bool | str) or session == "":
        raise ValueError(f"session= takes True (reuse), False (a new one) or a session id 'sess_…', not {session!r}")
    # by default, the same person (or answers) as the connection had
    inherit = respond is None and isinstance(connection, Job)
    responder = connection.responder if inherit else resolve_responder(respond, client)
    login = connection if isinstance(connection, Job | Session) else login_id
    job = RunJob(client, responder, task_id=task_id, connection_id=login_id, input=input, login=login, session=session)
    if inherit and not responder.needs_await:  # said on the card: the connection's answers go on here
        job.answered_as = connection.card.title
    if not loop_running():
        start_sync(job)
    start_in_background(job)
    return job


def resume() -> Job:
    """The job an Interrupt stopped last: ``await dn.resume()`` goes on with it (same connection or
    run, nothing created again). For the cell whose ``conn = await dn.connect(...)`` was interrupted,
    so ``conn`` was never bound; a job you hold resumes with ``await job`` as well."""
    from ._errors import STOPPED

    if not STOPPED:
        raise LookupError("no job was stopped by an Interrupt in this kernel: nothing to resume")
    job = STOPPED[-1]
    assert isinstance(job, Job)
    return job
