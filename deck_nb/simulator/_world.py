"""The simulated Deck: connections and task runs, their state machines, and the event log.

All state lives on the server's event loop thread, so each handler and timer runs to completion
without interleaving: two racing submissions can never both be accepted.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import _catalog as catalog
from ._clock import Clock, Timer
from ._errors import ApiError, invalid, missing, not_found
from ._interactions import validate_inputs

CONNECTING_S = 2.0
QUEUED_S = 1.0
PROMPT_AFTER_S = 1.0
WORK_S = 3.0
RUN_CHECK_S = 1.0  # the agent types an answer into the portal and reads the verdict

RUN_CANCELABLE = {"queued", "running", "interaction_required"}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def micros(ts: float) -> int:
    """Timestamps compare at the microsecond resolution they are shown with."""
    return round(ts * 1_000_000)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass
class Prompt:
    """A challenge currently (or last) put to the user, with its attempt budget."""

    challenge: catalog.Challenge
    attempts: int
    retry: bool = False


@dataclass
class Resource:
    """Fields shared by connections and task runs."""

    id: str
    seq: int
    created: float
    updated: float
    status: str
    interaction: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    prompt: Prompt | None = None
    timer: Timer | None = None
    window: Timer | None = None
    timed_out: bool = False


@dataclass
class Connection(Resource):
    source_id: str = ""
    external_id: str | None = None
    username: str = field(default="", repr=False)
    password: str = field(default="", repr=False)
    pending: list[catalog.Challenge] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "connection",
            "status": self.status,
            "source_id": self.source_id,
            "auth_method": "username_password",
            "external_id": self.external_id,
            "interaction": self.interaction,
            "errors": list(self.errors),
            "created_at": iso(self.created),
            "updated_at": iso(self.updated),
        }


@dataclass
class TaskRun(Resource):
    task_id: str = ""
    connection_id: str = ""
    source_id: str = ""
    username: str = field(default="", repr=False)
    input: dict[str, Any] = field(default_factory=dict)
    result: str | None = None
    output: dict[str, Any] | None = None
    started: float | None = None
    finished: float | None = None
    canceled: float | None = None
    work_done: float = 0.0
    work_since: float | None = None
    prompted: bool = False
    account_id: str | None = None
    fail_with: str | None = None

    def public(self, include_input: bool = False) -> dict[str, Any]:
        obj = {
            "id": self.id,
            "object": "task_run",
            "status": self.status,
            "result": self.result,
            "task_id": self.task_id,
            "connection_id": self.connection_id,
            "source_id": self.source_id,
            "output": self.output,
            "errors": list(self.errors),
            "interaction": self.interaction,
            "runtime_ms": self.runtime_ms(),
            "created_at": iso(self.created),
            "updated_at": iso(self.updated),
            "completed_at": iso(self.finished) if self.finished and self.status == "completed" else None,
            "canceled_at": iso(self.canceled) if self.canceled else None,
        }
        if include_input:
            obj["input"] = dict(self.input)
        return obj

    def runtime_ms(self) -> int | None:
        if self.started is None or self.finished is None:
            return None
        return round((self.finished - self.started) * 1000)


class World:
    """Everything the simulator knows; mutated only from the server's loop."""

    def __init__(self, clock: Clock, on_event: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.clock = clock
        self.on_event = on_event
        self.reset()

    def reset(self) -> None:
        self._seq = 0
        self.connections: dict[str, Connection] = {}
        self.runs: dict[str, TaskRun] = {}
        self.events: list[dict[str, Any]] = []
        self.events_by_id: dict[str, dict[str, Any]] = {}
        self.destinations: dict[str, dict[str, Any]] = {}
        self.destination_seq: dict[str, int] = {}

    # -- bookkeeping -------------------------------------------------------------------------

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _emit(self, obj_type: str, resource: Connection | TaskRun) -> None:
        now = self.clock.now()
        event = {
            "id": new_id("evt"),
            "object": "event",
            "type": f"{obj_type}.{resource.status}",
            "data": resource.public(),
            "created_at": iso(now),
            "_seq": self.next_seq(),
            "_micros": micros(now),
        }
        self.events.append(event)
        self.events_by_id[event["id"]] = event
        if self.on_event:
            self.on_event(event)

    def _set_status(self, resource: Connection | TaskRun, status: str) -> None:
        resource.status = status
        resource.updated = self.clock.now()
        self._emit("connection" if isinstance(resource, Connection) else "task_run", resource)

    def _after(self, resource: Resource, seconds: float, action: Callable[[], None]) -> None:
        if resource.timer:
            resource.timer.cancel()
        resource.timer = self.clock.call_later(self.clock.scaled(seconds), action)

    def _stop_timers(self, resource: Resource) -> None:
        for timer in (resource.timer, resource.window):
            if timer:
                timer.cancel()
        resource.timer = resource.window = None

    def _ask(self, resource: Connection | TaskRun, prompt: Prompt, on_timeout: Callable[[], None]) -> None:
        window = self.clock.scaled(prompt.challenge.window_s)
        expires_at = iso(self.clock.now() + window)
        resource.prompt = prompt
        resource.interaction = prompt.challenge.interaction(prompt.attempts, prompt.retry, expires_at)
        resource.window = self.clock.call_later(window, on_timeout)
        self._set_status(resource, "interaction_required")

    def _check_submission(self, resource: Connection | TaskRun, inputs: Any) -> None:
        if resource.timed_out:
            raise ApiError(
                408, "interaction", "interaction_timeout", "The interaction window closed before an answer arrived."
            )
        if resource.status != "interaction_required" or resource.interaction is None:
            raise ApiError(
                400,
                "interaction",
                "interaction_not_required",
                f"This {'connection' if isinstance(resource, Connection) else 'task run'} is not waiting for input "
                f"(status `{resource.status}`).",
            )
        validate_inputs(resource.interaction, inputs)

    def _judge(self, prompt: Prompt, inputs: dict[str, Any], locked_user: bool) -> str:
        """'accepted', 'retry' (prompt again, one attempt fewer) or 'locked'."""
        if prompt.challenge.accepts(inputs):
            return "accepted"
        if locked_user or prompt.attempts <= 1:
            return "locked"
        prompt.attempts -= 1
        prompt.retry = True
        return "retry"

    # -- connections -------------------------------------------------------------------------

    def create_connection(self, body: dict[str, Any]) -> Connection:
        source_id = body.get("source_id")
        if not source_id:
            raise missing("source_id")
        if not isinstance(source_id, str):
            raise invalid("source_id", "`source_id` must be a string.")
        source = catalog.SOURCES.get(source_id)
        if source is None:
            raise ApiError(404, "source", "source_not_found", f"No source with id `{source_id}`.")
        method = body.get("auth_method", "username_password")
        if method != "username_password":
            raise invalid("auth_method", "`auth_method` must be `username_password`.")
        creds = body.get("auth_credentials")
        if not isinstance(creds, dict):
            raise missing("auth_credentials")
        for key in ("username", "password"):
            if not creds.get(key):
                raise missing(f"auth_credentials.{key}")
            if not isinstance(creds[key], str):
                raise invalid(f"auth_credentials.{key}", f"`auth_credentials.{key}` must be a string.")
        external_id = body.get("external_id")
        if external_id is not None and not isinstance(external_id, str):
            raise invalid("external_id", "`external_id` must be a string.")
        now = self.clock.now()
        conn = Connection(
            id=new_id("conn"),
            seq=self.next_seq(),
            created=now,
            updated=now,
            status="connecting",
            source_id=source_id,
            external_id=external_id,
            username=creds["username"],
            password=creds["password"],
            pending=list(source.login),
        )
        self.connections[conn.id] = conn
        self._emit("connection", conn)
        self._after(conn, CONNECTING_S, lambda: self._login_step(conn))
        return conn

    def get_connection(self, id_: str) -> Connection:
        conn = self.connections.get(id_)
        if conn is None:
            raise not_found("connection", id_)
        return conn

    def _login_step(self, conn: Connection) -> None:
        conn.timer = None
        if conn.password == catalog.BAD_PASSWORD:
            self._conn_invalid(conn)
        elif conn.pending:
            attempts = 1 if conn.username == catalog.LOCKED_USERNAME else catalog.ATTEMPTS_PER_PROMPT
            self._ask(conn, Prompt(conn.pending[0], attempts), lambda: self._conn_timeout(conn))
        else:
            self._set_status(conn, "connected")

    def _conn_invalid(self, conn: Connection) -> None:
        conn.interaction = None
        conn.errors = [{"type": "auth", "code": "auth_invalid", "message": catalog.FAILURE_MESSAGES["auth_invalid"]}]
        self._set_status(conn, "invalid")

    def _conn_timeout(self, conn: Connection) -> None:
        self._stop_timers(conn)
        conn.timed_out = True
        conn.interaction = None
        conn.errors = [
            {
                "type": "interaction",
                "code": "interaction_timeout",
                "message": catalog.FAILURE_MESSAGES["interaction_timeout"],
            }
        ]
        self._set_status(conn, "disconnected")

    def submit_connection(self, id_: str, inputs: Any) -> Connection:
        conn = self.get_connection(id_)
        self._check_submission(conn, inputs)
        prompt = conn.prompt
        assert prompt is not None
        self._stop_timers(conn)
        conn.interaction = None
        self._set_status(conn, "connecting")
        self._after(conn, CONNECTING_S, lambda: self._conn_verdict(conn, prompt, inputs))
        return conn

    def _conn_verdict(self, conn: Connection, prompt: Prompt, inputs: dict[str, Any]) -> None:
        conn.timer = None
        verdict = self._judge(prompt, inputs, conn.username == catalog.LOCKED_USERNAME)
        if verdict == "accepted":
            conn.pending.pop(0)
            conn.prompt = None
            self._login_step(conn)
        elif verdict == "retry":
            self._ask(conn, prompt, lambda: self._conn_timeout(conn))
        else:
            self._conn_invalid(conn)

    def disconnect(self, id_: str) -> Connection:
        conn = self.get_connection(id_)
        if conn.status in ("disconnected", "invalid"):
            return conn
        self._stop_timers(conn)
        conn.interaction = None
        self._set_status(conn, "disconnected")
        return conn

    # -- task runs ---------------------------------------------------------------------------

    def create_run(self, task_id: str, body: dict[str, Any]) -> TaskRun:
        task = catalog.TASKS.get(task_id)
        if task is None:
            raise not_found("task", task_id)
        connection_id = body.get("connection_id")
        if not connection_id:
            raise missing("connection_id")
        if not isinstance(connection_id, str):
            raise invalid("connection_id", "`connection_id` must be a string.")
        conn = self.get_connection(connection_id)
        if conn.status != "connected":
            raise ApiError(
                400,
                "connection",
                "connection_not_connected",
                f"Connection `{conn.id}` is `{conn.status}`; a run needs a `connected` connection.",
            )
        run_input, fail_with = self._task_input(task, body.get("input"))
        now = self.clock.now()
        run = TaskRun(
            id=new_id("trun"),
            seq=self.next_seq(),
            created=now,
            updated=now,
            status="queued",
            task_id=task.id,
            connection_id=conn.id,
            source_id=conn.source_id,
            username=conn.username,
            input=run_input,
            fail_with=fail_with,
        )
        self.runs[run.id] = run
        self._emit("task_run", run)
        self._after(run, QUEUED_S, lambda: self._run_start(run))
        return run

    @staticmethod
    def _task_input(task: catalog.TaskSpec, raw: Any) -> tuple[dict[str, Any], str | None]:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise invalid("input", "`input` must be an object.")
        fail_with = raw.get("fail_with")
        if fail_with is not None and fail_with not in catalog.FAILURE_CODES:
            raise invalid("input.fail_with", f"`input.fail_with` must be a documented error code, not `{fail_with}`.")
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name == "fail_with":
                continue
            if name not in task.bounds:
                allowed = ", ".join(task.bounds) or "none"
                raise invalid(f"input.{name}", f"Unknown input `{name}` for `{task.id}`; accepted: {allowed}.")
            lo, hi, _ = task.bounds[name]
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise invalid(f"input.{name}", f"`input.{name}` must be an integer from {lo} to {hi}.")
            values[name] = value
        for name, (_, _, default) in task.bounds.items():
            values.setdefault(name, default)
        if fail_with is not None:
            values["fail_with"] = fail_with
        return values, fail_with

    def get_run(self, id_: str) -> TaskRun:
        run = self.runs.get(id_)
        if run is None:
            raise not_found("task_run", id_)
        return run

    def _run_start(self, run: TaskRun) -> None:
        run.started = self.clock.now()
        self._run_resume(run)

    def _run_resume(self, run: TaskRun) -> None:
        """Enter `running` and schedule the next milestone of the run's work."""
        run.timer = None
        run.work_since = self.clock.now()
        self._set_status(run, "running")
        source = catalog.SOURCES[run.source_id]
        if run.fail_with:
            self._after(run, PROMPT_AFTER_S, lambda: self._run_fail(run, run.fail_with or "api_error"))
        elif source.runs_prompt and not run.prompted:
            self._after(run, PROMPT_AFTER_S - run.work_done, lambda: self._run_prompt(run))
        else:
            self._after(run, WORK_S - run.work_done, lambda: self._run_complete(run))

    def _pause_work(self, run: TaskRun) -> None:
        if run.work_since is not None:
            run.work_done += (self.clock.now() - run.work_since) / self.clock.time_scale
            run.work_since = None

    def _run_prompt(self, run: TaskRun) -> None:
        run.timer = None
        self._pause_work(run)
        run.prompted = True
        source = catalog.SOURCES[run.source_id]
        if source.runs_prompt == "account_selection":
            challenge = catalog.account_selection(catalog.accounts_for(run.username))
        else:
            challenge = catalog.MFA
        attempts = 1 if run.username == catalog.LOCKED_USERNAME else catalog.ATTEMPTS_PER_PROMPT
        self._ask(run, Prompt(challenge, attempts), lambda: self._run_timeout(run))

    def _finish(self, run: TaskRun, status: str, result: str | None) -> None:
        self._pause_work(run)
        self._stop_timers(run)
        run.interaction = None
        run.finished = self.clock.now()
        run.result = result
        self._set_status(run, status)

    def _run_fail(self, run: TaskRun, code: str) -> None:
        run.errors = [{"type": catalog.FAILURE_CODES[code], "code": code, "message": catalog.FAILURE_MESSAGES[code]}]
        self._finish(run, "failed", "failure")

    def _run_timeout(self, run: TaskRun) -> None:
        run.timed_out = True
        self._run_fail(run, "interaction_timeout")

    def _run_complete(self, run: TaskRun) -> None:
        run.output = catalog.task_output(run.task_id, run.source_id, run.username, run.input, run.account_id)
        self._finish(run, "completed", "success")

    def submit_run(self, id_: str, inputs: Any) -> TaskRun:
        run = self.get_run(id_)
        self._check_submission(run, inputs)
        prompt = run.prompt
        assert prompt is not None
        self._stop_timers(run)
        run.interaction = None
        self._set_status(run, "running")
        self._after(run, RUN_CHECK_S, lambda: self._run_verdict(run, prompt, inputs))
        return run

    def _run_verdict(self, run: TaskRun, prompt: Prompt, inputs: dict[str, Any]) -> None:
        run.timer = None
        verdict = self._judge(prompt, inputs, run.username == catalog.LOCKED_USERNAME)
        if verdict == "accepted":
            if prompt.challenge.type == "account_selection":
                run.account_id = inputs["account_id"]
            run.prompt = None
            # Back to work: the verdict already reported `running`, so resume without a new event.
            run.work_since = self.clock.now()
            self._after(run, WORK_S - run.work_done, lambda: self._run_complete(run))
        elif verdict == "retry":
            self._ask(run, prompt, lambda: self._run_timeout(run))
        else:
            self._run_fail(run, "auth_invalid")

    def cancel_run(self, id_: str) -> TaskRun:
        run = self.get_run(id_)
        if run.status not in RUN_CANCELABLE:
            raise ApiError(400, "request", "task_run_not_cancelable", f"A `{run.status}` task run cannot be canceled.")
        run.canceled = self.clock.now()
        self._finish(run, "canceled", None)
        return run
