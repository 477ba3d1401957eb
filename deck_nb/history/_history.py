"""``History``: the journal(s) as DataFrames, with the summaries and plots an analyst asks for."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from ._schema import QUERIES
from .frames import journal_rows, typed
from .journal import Journal

FRAMES = tuple(QUERIES)


class History:
    """``.runs``, ``.connections``, ``.interactions``, ``.errors``, ``.events`` as DataFrames."""

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
        runs = sum(j.count("resources") for j in self.journals)
        return f"<History of {runs} connections and runs from {where}>"

    def frame(self, name: str) -> pd.DataFrame:
        if name not in QUERIES:
            raise KeyError(f"no frame {name!r}; frames: {', '.join(FRAMES)}")
        rows: list[tuple] = []
        for journal in self.journals:
            rows.extend(journal_rows(journal, name))
        frame = typed(rows, QUERIES[name][1])
        if name in ("runs", "connections") and len(self.journals) > 1:
            frame = frame.drop_duplicates("id", keep="last").reset_index(drop=True)
        return frame

    @property
    def runs(self) -> pd.DataFrame:
        return self.frame("runs")

    @property
    def connections(self) -> pd.DataFrame:
        return self.frame("connections")

    @property
    def interactions(self) -> pd.DataFrame:
        return self.frame("interactions")

    @property
    def errors(self) -> pd.DataFrame:
        return self.frame("errors")

    @property
    def events(self) -> pd.DataFrame:
        return self.frame("events")

    # -- summaries ---------------------------------------------------------------------------

    def summary(self) -> pd.DataFrame:
        """Per source and task: runs, success rate, share of runs that asked for input, median duration."""
        runs = self.runs
        if runs.empty:
            return pd.DataFrame(columns=["runs", "success_rate", "interaction_rate", "median_duration_s"])
        finished = runs[runs["status"].isin(["completed", "failed", "canceled"])]
        grouped = finished.groupby(["source_id", "task_id"], observed=True)
        return pd.DataFrame(
            {
                "runs": grouped.size(),
                "success_rate": grouped["status"].apply(lambda s: (s == "completed").mean()),
                "interaction_rate": grouped["interactions"].apply(lambda s: (s.fillna(0) > 0).mean()),
                "median_duration_s": grouped["duration_s"].median(),
            }
        )

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


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'deck_nb[plot]'") from None
    return plt.subplots(figsize=(7, 3.5))[1]
