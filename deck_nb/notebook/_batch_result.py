"""What a batch answers: one ``Outcome`` per item (its jobs, how it ended, how long it took) and the
``BatchResult`` list of them, with its frame, its own history, and its files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._batch_frame import batch_frame
from ._batch_specs import RunTask, Spec
from .jobs import ConnectJob, Job, RunJob


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
