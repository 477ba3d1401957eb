"""``History``: the journal(s) as DataFrames, with the summaries and plots an analyst asks for."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from ._files import EXTRACTIONS
from ._schema import FRAMES as _FRAMES
from ._schema import RESOURCE_FRAMES, REVIEWED_RUNS, RUN_LINKS
from .frames import journal_rows, typed
from .journal import Journal

FRAMES = tuple(_FRAMES)
FINISHED = ("completed", "failed", "canceled")
SUMMARY_COLUMNS = [
    "runs",
    "success_rate",
    "interaction_rate",
    "reviewed",
    "in_review",
    "logins_per_run",
    "median_duration_s",
    "files_per_run",
    "extraction_failure_rate",
]
REUSE_COLUMNS = ["runs", "sessions", "logins", "logins_per_run"]


class History:
    """``.runs``, ``.connections``, ``.credentials``, ``.sessions``, ``.interactions``, ``.errors``,
    ``.events`` as DataFrames, from one journal or several (runs of both of Deck's APIs side by side)."""

    def __init__(self, journals: list[Journal]) -> None:
        self.journals = journals

    @classmethod
    def load(cls, *paths: str | os.PathLike[str]) -> History:
        """Open history files (from this or earlier sessions); several are combined."""
        if not paths:
            raise ValueError("give at least one history file")
        missing = [str(p) for p in paths if not Path(p).exists()]
        if missing:
            raise FileNotFoundError(f"no history file at {missing[0]}")
        return cls([Journal(p) for p in paths])

    def __repr__(self) -> str:
        where = ", ".join(str(j.path or "memory") for j in self.journals)
        counts: dict[str, int] = {}
        for journal in self.journals:
            for kind, n in journal.kinds().items():
                counts[kind] = counts.get(kind, 0) + n
        what = ", ".join(f"{counts.get(k, 0)} {f}" for f, k in RESOURCE_FRAMES.items() if counts.get(k) or f == "runs")
        return f"<History of {what} from {where}>"

    def frame(self, name: str) -> pd.DataFrame:
        """One frame by name (``runs``, ``connections``, ``credentials``, ``sessions``, ``interactions``,
        ``errors``, ``events``)."""
        if name not in _FRAMES:
            raise KeyError(f"no frame {name!r}; frames: {', '.join(FRAMES)}")
        rows: list[tuple] = []
        for journal in self.journals:
            rows.extend(journal_rows(journal, name))
        frame = typed(rows, name)
        if name in RESOURCE_FRAMES and len(self.journals) > 1:
            frame = frame.drop_duplicates("id", keep="last").reset_index(drop=True)
        return frame

    def _query(self, sql: str) -> list[tuple]:
        rows: list[tuple] = []
        for journal in self.journals:
            rows.extend(journal.query(sql)[1])
        return rows

    @property
    def runs(self) -> pd.DataFrame:
        """One row per task run, of either API (``api`` says which)."""
        return self.frame("runs")

    @property
    def connections(self) -> pd.DataFrame:
        """One row per connection (the seed's API)."""
        return self.frame("connections")

    @property
    def credentials(self) -> pd.DataFrame:
        """One row per credential (Deck's current API), with the runs that used it."""
        return self.frame("credentials")

    @property
    def sessions(self) -> pd.DataFrame:
        """One row per session (Deck's current API): a login, and the runs that shared it."""
        return self.frame("sessions")

    @property
    def interactions(self) -> pd.DataFrame:
        """One row per prompt shown, with how it turned out (never the values typed)."""
        return self.frame("interactions")

    @property
    def errors(self) -> pd.DataFrame:
        """One row per error: from the API, the client, or on a resource."""
        return self.frame("errors")

    @property
    def files(self) -> pd.DataFrame:
        """One row per file a run captured (Deck Storage), with ``path`` and ``sha256`` once
        downloaded; never its signed URL."""
        frame = self.frame("files")
        return frame.drop_duplicates("storage_id", keep="last").reset_index(drop=True)

    @property
    def extractions(self) -> pd.DataFrame:
        """One row per file with the fields Deck extracted from it as columns (nested ones
        flattened); ``result="failure"`` rows have none. ``dn.extractions`` types them by schema."""
        from ._extracted import extractions_table

        return extractions_table(self._query(EXTRACTIONS))

    @property
    def events(self) -> pd.DataFrame:
        """The raw timeline: one row per record, ``detail`` as JSON."""
        return self.frame("events")

    # -- summaries ---------------------------------------------------------------------------

    def summary(self) -> pd.DataFrame:
        """Per source and task: finished runs, success rate, share of runs that asked for input, runs
        that waited for approval (``reviewed``: finished; ``in_review``: waiting now), logins per run
        (current API: share of runs that opened a new session, so a session's later runs lower it)
        and median duration."""
        runs = self.runs
        if runs.empty:
            return pd.DataFrame(columns=SUMMARY_COLUMNS)
        reviewed = {row[0] for row in self._query(REVIEWED_RUNS)}
        runs = runs.assign(
            finished=runs["status"].isin(FINISHED), reviewed=runs["id"].isin(reviewed), login=self._logins(runs)
        )
        table = runs.groupby(["source_id", "task_id"], observed=True).apply(_group_summary, include_groups=False)
        table = table[(table["runs"] > 0) | (table["in_review"] > 0)]
        table = table.join(_file_summary(self.files, runs), how="left")
        return table.astype({"runs": "Int64", "reviewed": "Int64", "in_review": "Int64"})[SUMMARY_COLUMNS]

    def session_reuse(self) -> pd.DataFrame:
        """Per credential (Deck's current API): runs, sessions, logins (runs that opened a session) and
        logins per run — 1.0 when every run logged in anew, lower as sessions are reused."""
        runs = self.runs
        runs = runs[runs["session_id"].notna()]
        if runs.empty:
            return pd.DataFrame(columns=REUSE_COLUMNS)
        links = {run_id: credential for run_id, _, credential, _ in self._query(RUN_LINKS) if credential}
        credential = runs["credential_id"].fillna(runs["id"].map(links))
        runs = runs.assign(credential_id=credential.astype("string"), login=self._logins(runs).astype("Int64"))
        grouped = runs.groupby("credential_id")
        table = pd.DataFrame(
            {"runs": grouped.size(), "sessions": grouped["session_id"].nunique(), "logins": grouped["login"].sum()}
        ).astype("Int64")
        table["logins_per_run"] = table["logins"].astype("float64") / table["runs"].astype("float64")
        return table[REUSE_COLUMNS]

    def _logins(self, runs: pd.DataFrame) -> pd.Series:
        """For each run in a session: did it open the session (log in)? The session's own list of runs
        says which came first when the journal saw it; else the earliest run journaled in it."""
        first = {session: run for run, session, _, position in self._query(RUN_LINKS) if position == 0 and session}
        in_session = runs[runs["session_id"].notna()]
        unknown = in_session[~in_session["session_id"].isin(list(first))].sort_values(["created_at"], kind="stable")
        openers = set(first.values()) | set(unknown.drop_duplicates("session_id")["id"])
        login = pd.Series(pd.NA, index=runs.index, dtype="boolean")
        login[in_session.index] = in_session["id"].isin(openers).to_numpy()
        return login

    def time_to_answer(self, percentiles: tuple[float, ...] = (0.5, 0.9, 0.99)) -> pd.DataFrame:
        """Seconds from a prompt being shown to its answer, by interaction type."""
        frame = self.interactions.dropna(subset=["time_to_answer_s"])
        columns = [f"p{int(p * 100)}" for p in percentiles]
        if frame.empty:
            return pd.DataFrame(columns=["answered", *columns])
        grouped = frame.groupby("type", observed=True)["time_to_answer_s"]
        table = grouped.quantile(list(percentiles)).unstack()
        table.columns = columns
        table.insert(0, "answered", grouped.size())
        return table

    def failure_reasons(self) -> pd.DataFrame:
        """Failed runs and connections, counted by error type and code, most frequent first."""
        frames = [
            self.runs[["status", "error_type", "error_code"]],
            self.connections[["status", "error_type", "error_code"]],
        ]
        both = pd.concat([f.astype("object") for f in frames], ignore_index=True).dropna(subset=["error_code"])
        if both.empty:
            return pd.DataFrame(columns=["error_type", "error_code", "count"])
        counts = both.groupby(["error_type", "error_code"]).size().rename("count").reset_index()
        return counts.sort_values(["count", "error_code"], ascending=[False, True]).reset_index(drop=True)

    # -- plots (matplotlib, optional) -----------------------------------------------------------

    def plot_success(self, ax: Any = None) -> Any:
        """Bar chart of success rate by source and task."""
        summary = self.summary()
        labels = [f"{s}\n{t}" for s, t in summary.index] if len(summary) else []
        ax = _axes(ax)
        ax.bar(labels, summary["success_rate"] if len(summary) else [])
        ax.set_ylim(0, 1)
        ax.set_ylabel("success rate")
        ax.set_title("Task runs: success rate by source and task")
        return ax

    def plot_time_to_answer(self, ax: Any = None) -> Any:
        """Box plot of time to answer by interaction type."""
        frame = self.interactions.dropna(subset=["time_to_answer_s"])
        ax = _axes(ax)
        types = sorted(frame["type"].astype(str).unique())
        ax.boxplot([frame.loc[frame["type"] == t, "time_to_answer_s"] for t in types], tick_labels=types)
        ax.set_ylabel("seconds to answer")
        ax.set_title("Time to answer by interaction type")
        return ax

    # -- export --------------------------------------------------------------------------------

    def export(self, directory: str | os.PathLike[str], fmt: str = "parquet") -> list[Path]:
        """Write every frame to ``directory`` as parquet or csv; answer the files written."""
        if fmt not in ("parquet", "csv"):
            raise ValueError("fmt must be 'parquet' or 'csv'")
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in FRAMES:
            path = out / f"{name}.{fmt}"
            frame = self.frame(name)
            if fmt == "parquet":
                frame.to_parquet(path, index=False)
            else:
                frame.to_csv(path, index=False)
            written.append(path)
        return written


def _group_summary(group: pd.DataFrame) -> pd.Series:
    done = group[group["finished"]]
    logins = group["login"].dropna()
    return pd.Series(
        {
            "runs": len(done),
            "success_rate": (done["status"] == "completed").mean() if len(done) else float("nan"),
            "interaction_rate": (done["interactions"].fillna(0) > 0).mean() if len(done) else float("nan"),
            "reviewed": int(done["reviewed"].sum()),
            "in_review": int((group["status"] == "review_required").sum()),
            "logins_per_run": logins.astype("float64").mean() if len(logins) else float("nan"),
            "median_duration_s": done["duration_s"].median(),
        }
    )


def _file_summary(files: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per source and task: files per completed run, and the share of files whose extraction failed
    (both NaN where the journal saw no file: a run's files are known once listed or downloaded)."""
    completed = runs[runs["status"] == "completed"]
    per_group = completed.groupby(["source_id", "task_id"], observed=True)["id"].nunique()
    files = files[files["run_id"].isin(completed["id"])]
    files = files.assign(failed=(files["result"].astype("string") == "failure").fillna(False).astype("int64"))
    counted = files.groupby(["source_id", "task_id"], observed=True)
    table = pd.DataFrame({"completed": per_group})
    table["files"] = counted.size().reindex(table.index).fillna(0).astype("float64")
    failed = counted["failed"].sum().reindex(table.index).astype("float64")
    table["files_per_run"] = (table["files"] / table["completed"]).where(table["files"] > 0)
    table["extraction_failure_rate"] = (failed / table["files"].where(table["files"] > 0)).astype("float64")
    return table[["files_per_run", "extraction_failure_rate"]]


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'deck_nb[plot]'") from None
    return plt.subplots(figsize=(7, 3.5))[1]
