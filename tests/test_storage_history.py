"""The journal keeps storage items as the client sees them (never the URL) and where each was
saved: History.files, History.extractions, and summary()'s files per run and extraction failure rate."""

from __future__ import annotations

import hashlib

from _storage_runs import client, completed_run

import deck_nb as dn
from deck_nb.history import History, Journal


def test_files_are_journaled_as_seen_and_saved_paths_follow(sim, tmp_path):
    journal = Journal(tmp_path / "h.sqlite")
    deck = client(sim, observers=[journal])
    sim.storage(fail_extraction=2)
    run = completed_run(deck, sim, months=3)
    items = deck.task_runs.files(run.id).to_list()
    files = History([journal]).files
    assert list(files.columns) == [
        "storage_id", "run_id", "task_id", "source_id", "file_name", "file_type", "file_size", "result",
        "created_at", "path", "sha256",
    ]  # fmt: skip
    assert list(files["storage_id"]) == [i.id for i in items] and files["path"].isna().all()
    assert set(files["task_id"]) == {"task_sim_bills"} and set(files["source_id"]) == {"src_sim_power"}
    assert str(files["created_at"].dtype).startswith("datetime64")
    path = deck.storage.download(items[0], tmp_path)  # fetches the item with its URL: journaled without it
    frame = dn.download(run, tmp_path / "all", deck=deck)
    files = History.load(tmp_path / "h.sqlite").files  # from the file, as a later session reads it
    first = files.set_index("storage_id").loc[items[0].id]
    assert first["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert set(files["path"]) == set(frame["path"]) and files["sha256"].notna().all()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("h.sqlite*"))
    assert b"signature=" not in raw and b"/_files/" not in raw


def test_extractions_and_summary_gain_the_files(sim, tmp_path):
    journal = Journal()
    deck = client(sim, observers=[journal])
    sim.storage(fail_extraction=1)
    first = completed_run(deck, sim, months=2)
    second = completed_run(deck, sim, months=2, username="bob")
    for run in (first, second):
        deck.task_runs.retrieve(run.id, include=("storage",))  # a run's storage section is journaled too
    history = History([journal])
    table = history.extractions
    assert len(table) == 4 and list(table.columns[:6]) == [
        "run_id", "storage_id", "task_id", "source_id", "file_name", "result",
    ]  # fmt: skip
    assert (table["result"] == "failure").sum() == 1 and table["total_due"].notna().sum() == 3
    assert str(table["due_date"].dtype).startswith("datetime64")
    summary = history.summary()
    row = summary.loc[("src_sim_power", "task_sim_bills")]
    assert row["files_per_run"] == 2.0 and row["extraction_failure_rate"] == 0.25


def test_storage_created_events_journal_files_without_a_listing(sim):
    journal = Journal()
    deck = client(sim)
    run = completed_run(deck, sim, months=2)
    journal.record(deck.events.list(types="storage.created"))
    files = History([journal]).files
    assert len(files) == 2 and set(files["run_id"]) == {run.id} and files["path"].isna().all()


def test_a_summary_says_nan_until_a_runs_files_are_seen(sim):
    journal = Journal()
    deck = client(sim, observers=[journal])
    run = completed_run(deck, sim, task="task_sim_usage")
    summary = History([journal]).summary()
    assert summary["files_per_run"].isna().all() and summary["extraction_failure_rate"].isna().all()
    deck.task_runs.files(run.id).to_list()
    row = History([journal]).summary().loc[("src_sim_power", "task_sim_usage")]
    assert row["files_per_run"] == 1.0 and row["extraction_failure_rate"] == 0.0  # a CSV: no extraction, no failure
