"""bench frames: build the runs frame from a 100,000-run journal, beside the floor of
``pandas.DataFrame.from_records`` on the same prepared records (the journal's rows, in memory).
Warm: the session that recorded the runs; cold: a new session opening the file and building the frame."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from _common import best_of, report, timed

RUNS = int(__import__("os").environ.get("BENCH_FRAMES_RUNS", 100_000))


def fill(journal) -> None:
    """A realistic journal: every run queued → running → (prompt →) completed or failed."""
    sources = ["src_sim_power", "src_sim_bank", "src_sim_mobile"]
    tasks = ["task_sim_bills", "task_sim_statements", "task_sim_usage"]

    def states(i: int):
        base = {
            "object": "task_run",
            "id": f"trun_{i:024x}",
            "task_id": tasks[i % 3],
            "source_id": sources[i % 3],
            "connection_id": f"conn_{i % 500:024x}",
            "created_at": "2026-11-28T10:00:00Z",
            "errors": [],
        }
        yield {**base, "status": "queued", "updated_at": "2026-11-28T10:00:00Z"}
        yield {**base, "status": "running", "updated_at": "2026-11-28T10:00:01Z"}
        if i % 3:
            yield {
                **base,
                "status": "interaction_required",
                "updated_at": "2026-11-28T10:00:02Z",
                "interaction": {
                    "type": "mfa",
                    "message": "Enter the code",
                    "fields": [{"name": "code", "type": "string", "label": "Code"}],
                },
            }
        if i % 50 == 0:
            yield {
                **base,
                "status": "failed",
                "result": "failure",
                "updated_at": "2026-11-28T10:00:04Z",
                "errors": [{"type": "source", "code": "source_error", "message": "The source returned an error."}],
            }
        else:
            yield {
                **base,
                "status": "completed",
                "result": "success",
                "runtime_ms": 3000,
                "updated_at": "2026-11-28T10:00:04Z",
                "completed_at": "2026-11-28T10:00:04Z",
            }

    batch = []
    for i in range(RUNS):
        batch.extend(states(i))
        if len(batch) >= 20_000:
            journal.record(batch)
            batch = []
    journal.record(batch)


def main() -> None:
    import pandas as pd

    from deck_nb.history import History, Journal
    from deck_nb.history.frames import QUERIES, RUN_COLUMNS, journal_rows

    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "big.sqlite")
        started = time.perf_counter()
        fill(journal)
        filled_s = time.perf_counter() - started
        history = History([journal])
        rows = journal_rows(journal, "runs")  # the prepared records, for the floor
        assert len(rows) == RUNS and QUERIES["runs"][1] == RUN_COLUMNS
        ours = best_of(lambda: timed(lambda: history.runs))
        floor = best_of(lambda: timed(lambda: pd.DataFrame.from_records(rows, columns=RUN_COLUMNS)))
        frame = history.runs
        assert len(frame) == RUNS
        path = journal.path
        journal.close()

        def cold() -> float:
            """A new session: open the history file and build the runs frame."""
            started = time.perf_counter()
            reopened = Journal(path)
            assert len(History([reopened]).runs) == RUNS
            elapsed = time.perf_counter() - started
            reopened.close()
            return elapsed

        cold_s = best_of(cold)
    ratio = ours / floor
    report(
        "frames",
        ratio,
        1.0,
        "× from_records",
        "≤ 1.5",
        ratio <= 1.5,
        label=f"frames: runs frame of a {RUNS:,}-run journal",
        figure_text=f"warm {ratio:.2f} × ({ours:.2f} s); cold (open the file and build) {cold_s:.2f} s",
        floor_text=f"`DataFrame.from_records` on the same rows ({floor:.2f} s)",
        runs_frame_warm_s=round(ours, 3),
        runs_frame_cold_s=round(cold_s, 3),
        from_records_s=round(floor, 3),
        journal_fill_s=round(filled_s, 1),
    )


if __name__ == "__main__":
    main()
