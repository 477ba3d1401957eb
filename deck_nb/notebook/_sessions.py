"""One MFA per session (Deck's current API). A run logs in inside a session; a later run naming that
session skips the login. The session book remembers each credential's latest session, so
``run_task`` on the same credential reuses it by itself; a session that has ended is replaced by a
new one (a word on the card, not an error). Also: what a run's card says about its credential."""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Any

from deck_nb.client import BadRequestError, Credential, DeckError, Session
from deck_nb.client._explain import FIX_CREDENTIAL, failure_words

from .machine import REVIEW, Call

RunJob = Any  # a ``jobs.RunJob`` (not imported: jobs imports this module)

CREDENTIALS = "credentials"
REVIEW_NOTE = "waiting for approval in Deck's console — job.cancel() cancels it"
ENDED = {"session_not_active"}  # the session named has ended (completing, completed, failed)


class SessionBook:
    """The latest session of each credential runs used in this process, per Deck server."""

    def __init__(self) -> None:
        self._latest: dict[tuple[str, str], str] = {}
        self._read: dict[tuple[str, str], Credential] = {}  # each credential as a run last read it
        self._lock = threading.Lock()

    @staticmethod
    def _key(deck: Any, credential_id: str) -> tuple[str, str]:
        return (str(getattr(deck, "base_url", "")), credential_id)

    def latest(self, deck: Any, credential_id: str) -> str | None:
        """The session to reuse for ``credential_id`` (None: a new one logs in)."""
        with self._lock:
            return self._latest.get(self._key(deck, credential_id))

    def remember(self, deck: Any, credential_id: str, session_id: str) -> None:
        """``session_id`` is now the credential's latest session."""
        with self._lock:
            self._latest[self._key(deck, credential_id)] = session_id

    def credential(self, deck: Any, credential_id: str) -> Credential | None:
        """The credential as the last run that read it saw it (None: never read here)."""
        with self._lock:
            return self._read.get(self._key(deck, credential_id))

    def saw(self, deck: Any, credential: Credential) -> None:
        """A run read ``credential`` (or the event feed brought it): later runs show it without reading
        it again. Events may come late: an older state never replaces a newer one."""
        with self._lock:
            key = self._key(deck, credential.id)
            before = self._read.get(key)
            comparable = before is not None and credential.updated_at and before.updated_at
            if not (comparable and credential.updated_at < before.updated_at):
                self._read[key] = credential

    def forget(self, deck: Any, credential_id: str, session_id: str | None = None) -> None:
        """Drop the credential's session (only if it is still ``session_id``, when given)."""
        with self._lock:
            key = self._key(deck, credential_id)
            if session_id is None or self._latest.get(key) == session_id:
                self._latest.pop(key, None)


SESSIONS = SessionBook()


def login_ids(login: Any) -> tuple[str | None, str | None]:
    """(credential_id, session_id) from what ``run_task`` was given on the current API: a connect
    job, a Credential, a Session, or an id (``sess_…`` names a session, anything else a credential)."""
    if isinstance(login, Session):
        return login.credential_id, login.id
    value = getattr(login, "id", login)
    if isinstance(value, str) and value.startswith("sess_"):
        return None, value
    return value, None


def start_run(job: RunJob) -> Generator[Any, Any, Any]:
    """Create a run on the current API: in the credential's live session when there is one (no
    login), else in a new session; a session that has ended is replaced, with a note."""
    credential_id, session_id = login_ids(job._login)
    choice = job.session
    if isinstance(choice, str):
        session_id = choice
    elif choice and session_id is None and credential_id is not None:
        session_id = SESSIONS.latest(job._deck, credential_id)
    key = job._create_key
    run = None
    if session_id is not None:
        try:
            run = yield Call(_create(job, credential_id, session_id, key), "create run", (BadRequestError,))
        except BadRequestError as exc:
            if exc.code not in ENDED or credential_id is None:
                raise
            SESSIONS.forget(job._deck, credential_id, session_id)
            _say(job, f"session {session_id} had ended; a new session logs in")
            key = f"{key}-new"
        else:
            job._logged_in = False
            _say(job, f"reused session {session_id} (no login)")
    if run is None:
        run = yield Call(_create(job, credential_id, None, key), "create run")
    if run.credential_id and run.session_id and choice is not False:
        SESSIONS.remember(job._deck, run.credential_id, run.session_id)
    return run


def _say(job: RunJob, note: str) -> None:
    if note not in job.notes:  # a plan started again (after an error) says it once
        job.notes.append(note)


def _create(job: RunJob, credential_id: str | None, session_id: str | None, key: str) -> Any:
    def create(deck: Any) -> Any:
        return deck.task_runs.create(
            job.task_id, credential_id=credential_id, session_id=session_id, input=job._input, idempotency_key=key
        )

    return create


def read_credential(job: RunJob, obj: Any) -> Generator[Any, Any, None]:
    """Read the run's credential (its status moved when the login was accepted or refused), show it
    on the card and hand it to the connect job; a failed run's session is not reused. A run that
    reused a live session and did not fail did not log in, so its credential has not moved: it shows
    the credential as read before, without one more request per run (a batch's runs in one session);
    so does a run that logged in when its credential is known verified (a batch hears
    ``credential.verified`` on the event feed)."""
    credential_id = getattr(obj, "credential_id", None)
    if not credential_id:
        return
    if obj.status == "failed" and obj.session_id:
        SESSIONS.forget(job._deck, credential_id, obj.session_id)
    known = SESSIONS.credential(job._deck, credential_id)
    # a run that did not fail leaves its credential as it was, or verified if its login worked — a run
    # that completed or waits in review got past its login; one canceled may have stopped before it
    past_login = obj.status in ("completed", REVIEW)
    if (
        known is not None
        and obj.status != "failed"
        and (not job._logged_in or (past_login and known.status == "verified"))
    ):
        credential = known
    else:
        try:
            credential = yield Call(
                lambda deck: deck.credentials.retrieve(credential_id), "read credential", (DeckError,)
            )
        except DeckError:
            return  # the run's own state stands; the card just lacks the credential's
        SESSIONS.saw(job._deck, credential)
    job.credential = credential
    login = job._credential_job
    if login is not None and login.id == credential.id:
        login._observe(credential)
        login.machine.say(
            credential_word(credential, obj, own=True, answers=len(job.interactions))
        )  # how this run left it
    job.machine.say(job._note(obj) or "")


def credential_word(credential: Credential, run: Any = None, *, own: bool = False, answers: int = 0) -> str:
    """How a card names a credential's state: stored, verified, or invalid with the reason (``own``:
    on the credential's own card, without its id). ``run``: the run that just ended, if any — a
    credential still unverified after it did not get past that run's login, which the card says;
    ``answers``: prompts answered before the refusal (a lockout after wrong codes is not a wrong
    password, so the card does not advise changing it)."""
    status = credential.status
    name = "" if own else f"credential {credential.id} "
    if status == "unverified":
        ended = getattr(run, "status", None)
        if ended in ("failed", "canceled"):
            return f"{name}not verified: {_login_stopped(run)}; the next run logs in again"
        return f"{name}stored — it is verified by its first run"
    if status == "invalid":
        errors = [*credential.errors, *(getattr(run, "errors", None) or [])]
        refused = "the login was refused (its run's card says why)"
        reason = failure_words(errors, answers=answers, fix=FIX_CREDENTIAL) or refused
        return f"{name}invalid: {reason}"
    return "" if own and status == "verified" else f"{name}{status}"


def _login_stopped(run: Any) -> str:
    codes = {e.code for e in getattr(run, "errors", None) or []}
    if "interaction_timeout" in codes:
        return f"run {run.id} timed out waiting for an answer at its login"
    return f"run {run.id} ended `{run.status}` before its login finished"
