"""The two kinds of job: ``ConnectJob`` (a login: a connection on the seed's API, a stored credential
on Deck's current one) and ``RunJob`` (a task run). Each says only what differs: how it starts, what
its card notes, what it does when the resource ends. The life itself is ``machine.JobMachine``'s; the
base (``_job.Job``) draws the card and offers the shells."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from deck_nb.client import Connection, Credential, Deck, DeckError, Field, Interaction, TaskRun
from deck_nb.client._explain import FIX_CREDENTIAL, failure_words

from ._async_shell import drive_on
from ._errors import JobFailed, NeedsAwait
from ._job import Job, _loop_running
from ._prompt import Prompt, Responder
from ._records import InteractionRecord
from ._run_data import read_run_data
from ._session_read import read_session
from ._sessions import CREDENTIALS, REVIEW_NOTE, SESSIONS, credential_word, read_credential, start_run
from .machine import REVIEW, Ask, Call, Create, Follow

__all__ = ["ConnectJob", "InteractionRecord", "Job", "JobFailed", "NeedsAwait", "RunJob", "_loop_running"]

CREDENTIAL_STATES = frozenset({"unverified", "verified", "invalid", "deleted"})


class ConnectJob(Job):
    """A login, from ``dn.connect(...)``. On the seed's API a connection driven to ``connected`` (or a
    failure); on Deck's current API a stored credential: ``unverified`` until its first run logs in,
    then ``verified`` (or ``invalid``) — the runs given this job update it."""

    kind = "connection"
    SUCCESS = "connected"

    def __init__(
        self,
        deck: Deck,
        responder: Responder,
        *,
        source_id: str,
        username: str | None,
        external_id: str | None = None,
        resource: Connection | Credential | None = None,
        password: str | None = None,
    ) -> None:
        super().__init__(deck, responder, f"connect {source_id}", resource)
        self.source_id = source_id
        self._username = username
        self._external_id = external_id
        self._password = password  # only until the login is created (batches create lazily)
        self.api: str | None = CREDENTIALS if isinstance(resource, Credential) else None

    @property
    def TERMINAL(self) -> frozenset[str]:  # type: ignore[override]
        """Where the job ends: a connection's end, or any state of a stored credential."""
        return CREDENTIAL_STATES if self.api == CREDENTIALS else Connection.TERMINAL

    @property
    def ok(self) -> bool:
        """Whether it succeeded: ``connected``, or a credential stored and not refused."""
        if self.api == CREDENTIALS:
            return self.status in ("unverified", "verified")
        return self.status == self.SUCCESS

    @property
    def connection(self) -> Connection | None:
        """The latest Connection seen (None until created, or on the current API)."""
        return self.resource if isinstance(self.resource, Connection) else None

    @property
    def credential(self) -> Credential | None:
        """The latest Credential seen (current API; None until stored, or on the seed's API)."""
        return self.resource if isinstance(self.resource, Credential) else None

    def _resources(self, deck):
        return deck.credentials if self.api == CREDENTIALS else deck.connections

    def _model(self) -> type:
        return Credential if self.api == CREDENTIALS else Connection

    def _start(self) -> Generator[Any, Any, Any]:
        password = yield from self._credentials()
        self.api = yield Call(_detect_api, "detect the API")
        return (yield Create(password))

    def _settles(self) -> bool:
        return self.api != CREDENTIALS  # a credential is stored at once; its first run verifies it

    def _note(self, obj: Any) -> str | None:
        if isinstance(obj, Credential):
            return credential_word(obj, own=True)
        return super()._note(obj)

    def _create(self, deck, password: str):
        if self.api == CREDENTIALS:
            return deck.credentials.create(
                self.source_id,
                username=self._username,
                password=password,
                external_id=self._external_id,
                idempotency_key=self._create_key,
            )
        return deck.connections.create(
            self.source_id,
            username=self._username,
            password=password,
            external_id=self._external_id,
            idempotency_key=self._create_key,
        )

    def _credentials(self) -> Generator[Any, Any, str]:
        if self._password is not None:
            password, self._password = self._password, None
            return password
        fields = [Field(name="password", type="string", label="Password", secret=True)]
        if not self._username:
            fields.insert(0, Field(name="username", type="string", label="Username"))
        interaction = Interaction(type="credentials", message=f"Sign in to {self.source_id}", fields=fields)
        self.machine.signing_in()
        answer = yield Ask(Prompt("connection", "", interaction, f"{self.card.title}: sign in", None, self._view))
        self.machine.signed_in()
        if not answer:
            raise DeckError("no credentials were given")
        self._username = answer.get("username", self._username)
        return answer["password"]

    def cancel(self) -> ConnectJob:
        """Close the browser session: ``disconnect`` the connection, or (current API) end the
        credential's live session, if a run opened one (the credential stays stored)."""
        if self.api != CREDENTIALS:
            self._observe(self._deck.connections.disconnect(self.id))
            return self
        session_id = SESSIONS.latest(self._deck, self.id) if self.id else None
        if session_id is not None:
            self._deck.sessions.end(session_id)
            SESSIONS.forget(self._deck, self.id, session_id)
        return self


class RunJob(Job):
    """A task run driven to ``completed`` (or a failure), from ``dn.run_task(...)``. On Deck's current
    API it runs in the credential's live session when there is one (no second MFA), waits while the
    run is in review in Deck's console, and shows the credential's status move."""

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
        login: Any = None,
        session: bool | str = True,
    ) -> None:
        super().__init__(deck, responder, f"run {task_id}", resource)
        self.task_id = task_id
        self._connection_id = connection_id or (resource.connection_id if resource is not None else None)
        self._login = login if login is not None else self._connection_id  # what names the login
        self._credential_job = login if isinstance(login, ConnectJob) else None
        self._input = input
        self.session = session  # True: reuse the credential's live session; False: a new one; or an id
        self.api: str | None = None
        self.credential: Credential | None = None  # current API: the credential, read when the run ends
        self.notes: list[str] = []  # what the card keeps saying (a reused or replaced session)
        self.answered_as = ""  # the login job whose responder answers this run too (respond= not given)
        self._logged_in = True  # current API: False once the run was created in a live session

    def _start(self) -> Generator[Any, Any, Any]:
        yield from self._login_ready()
        self.api = yield Call(_detect_api, "detect the API")
        if self.api == CREDENTIALS:
            return (yield from start_run(self))
        return (yield Create(""))

    def _login_ready(self) -> Generator[Any, Any, None]:
        """Given a login job nobody awaited yet (Run All, papermill), wait for it to finish first."""
        login = self._credential_job
        if login is None or self._connection_id is not None:
            return
        if login.id is None or not login.done:
            self.machine.say(f"waiting for {login.card.title} to finish")
            yield Follow(login)
        if login.id is None or not login.ok:
            raise DeckError(
                f"not run: its login ({login.card.title} {login.id or ''}) ended `{login.status}`".replace(" )", ")")
            )
        self._connection_id = login.id
        self.machine.say("")

    def _ended(self, obj: Any) -> Generator[Any, Any, None]:
        if self.api == CREDENTIALS:
            yield from read_credential(self, obj)
            yield from read_session(self, obj)  # its status and runtime, for history().sessions
        yield from read_run_data(self, obj)  # its files, or why it stopped, for its card

    def _in_review(self, obj: Any) -> Generator[Any, Any, None]:
        if self.api == CREDENTIALS and self.credential is None:
            yield from read_credential(self, obj)  # past its login: the credential has moved

    def _note(self, obj: Any) -> str | None:
        parts = list(self.notes)
        if obj.status == REVIEW:
            parts.insert(0, REVIEW_NOTE)
        elif obj.status == "cancelling":
            parts.insert(0, "cancelling — it ends canceled in a moment")
        if self.answered_as and obj.status not in self.TERMINAL:
            parts.append(f"its questions go to {self.answered_as}'s responder (respond= to change)")
        elif self.answered_as and self.interactions:
            parts.append(f"answered by {self.answered_as}'s responder")
        refused = self.credential is not None and self.credential.status == "invalid"
        if self.credential is not None:
            ended = obj if obj.status in self.TERMINAL else None
            parts.append(credential_word(self.credential, ended, answers=len(self.interactions)))
        if obj.status in self.TERMINAL:  # a refused login is told once, by the credential's word
            errors = [e for e in obj.errors if not (refused and e.code == "auth_invalid")]
            parts.append(failure_words(errors, answers=len(self.interactions), fix=FIX_CREDENTIAL))
        return "; ".join(p for p in parts if p)

    def _create(self, deck, password: str):
        return deck.task_runs.create(
            self.task_id, connection_id=self._connection_id, input=self._input, idempotency_key=self._create_key
        )

    @property
    def run(self) -> TaskRun | None:
        """The latest TaskRun seen (None until created)."""
        return self.resource

    @property
    def output(self) -> Any:
        """The run's output once it completed (None before)."""
        return self.resource.output if self.resource is not None else None

    @property
    def files(self) -> list[Any] | None:
        """The files its card lists (storage items, no URLs; at most one page), once it completed
        on a task that keeps storage; None before. ``dn.download(job)`` / ``dn.extractions(job)``
        read them all."""
        return self.machine.files

    def screenshots(self) -> Any:
        """What the agent saw, as a frame: one row per screenshot with its reasoning; the images
        only on demand (``deck_nb.files.fetch_image(job.id, index)``)."""
        from deck_nb.files import screenshots

        return screenshots(self)

    def _resources(self, deck):
        return deck.task_runs

    def cancel(self) -> RunJob:
        """Cancel the run on Deck: it ends ``canceled`` (on the current API through ``cancelling``,
        which the card shows; a job being awaited follows it to the end)."""
        self._observe(self._deck.task_runs.cancel(self.id))
        drive_on(self)  # in a kernel, nobody may drive it now (Interrupted): its card follows it to `canceled`
        return self


def _detect_api(deck: Any) -> Any:
    return deck.detect_api()
