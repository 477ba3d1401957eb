"""dn.download and dn.extractions, over loopback HTTP: one row per file, resumable, hostile names
kept inside the folder and off other files, failures as rows, links in the HTML, extraction fields
typed by the task's schema, batches and jobs as input, encrypted runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from _storage_runs import client, completed_run
from _storage_server import BODY, KEY, StorageServer

import deck_nb as dn
from deck_nb.files import FilesFrame


def test_download_writes_every_file_once_and_a_second_call_fetches_nothing(sim, tmp_path, capsys):
    deck = client(sim)
    run = completed_run(deck, sim, months=3)
    frame = dn.download(run, tmp_path / "deck_files", deck=deck, progress=True)
    assert isinstance(frame, FilesFrame) and len(frame) == 3 and frame["fetched"].all()
    assert list(frame.columns[:9]) == [
        "run_id", "storage_id", "file_name", "file_type", "file_size", "path", "sha256", "result", "error",
    ]  # fmt: skip
    for row in frame.itertuples():
        data = Path(row.path).read_bytes()
        assert len(data) == row.file_size and data.startswith(b"%PDF") and pd.isna(row.error)
    assert "Downloaded 3 of 3 files" in capsys.readouterr().err  # the progress line's last words
    served = sim.stats()["downloads"]["served"]
    again = dn.download([run.id], tmp_path / "deck_files", deck=deck)  # resumed: on disk, same size and sha256
    assert not again["fetched"].any() and list(again["sha256"]) == list(frame["sha256"])
    assert sim.stats()["downloads"]["served"] == served
    Path(frame.loc[0, "path"]).write_bytes(b"%PDF damaged")  # a damaged copy is fetched again
    third = dn.download(dn.runs_frame([run]), tmp_path / "deck_files", deck=deck)
    assert list(third["fetched"]) == [True, False, False] and third.loc[0, "sha256"] == frame.loc[0, "sha256"]


HOSTILE = {
    "1": "../../escape.pdf",
    "2": "/etc/passwd",
    "3": "a\u0000b.pdf",
    "4": "CON",
    "5": "x" * 300 + ".pdf",
    "6": "bill.pdf",
    "7": "bill.pdf",
    "8": "<img src=x onerror=alert(1)>.pdf",
}


def test_hostile_names_stay_inside_the_folder_and_off_other_files(sim, tmp_path):
    deck = client(sim)
    sim.storage(file_names=HOSTILE)
    run = completed_run(deck, sim, months=8)
    folder = tmp_path / "a" / "deck_files"
    folder.mkdir(parents=True)
    (folder / "bill.pdf").write_bytes(b"mine")  # the analyst's own file, not from this download
    frame = dn.download(run, folder, deck=deck)
    assert frame["error"].isna().all() and len(frame) == 8
    paths = [folder.resolve() / p.split("/")[-1] for p in frame["path"]]
    assert len(set(paths)) == 8 and all(p.parent == folder.resolve() and p.is_file() for p in paths)
    assert (folder / "bill.pdf").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"] and sorted(
        p.name for p in (tmp_path / "a").iterdir()
    ) == ["deck_files"]
    names = [p.name for p in paths]
    assert "escape.pdf" in names and "passwd" in names and "ab.pdf" in names and "_CON" in names
    assert all(len(n.encode()) <= 150 for n in names)
    html = frame._repr_html_()
    assert "<img" not in html and "&lt;img" in html and html.count("<a href=") == 8


def test_a_file_past_retention_is_a_row_with_its_error_and_the_others_download(sim, tmp_path):
    deck = client(sim)
    old = completed_run(deck, sim, months=1, username="old")
    sim.advance(91 * 86400)
    new = completed_run(deck, sim, months=2, username="new")
    frame = dn.download([old, new], tmp_path, deck=deck)
    by_run = frame.groupby("run_id")
    assert by_run.size().to_dict() == {old.id: 1, new.id: 2}
    gone = frame[frame["run_id"] == old.id].iloc[0]
    assert gone["error"].startswith("FileGone") and pd.isna(gone["path"]) and not gone["fetched"]
    assert frame[frame["run_id"] == new.id]["fetched"].all()


def test_a_url_refused_twice_is_a_row_and_the_rest_is_fetched(tmp_path):
    server = StorageServer().start()
    try:
        deck = dn.Deck(api_key=KEY, base_url=server.base_url, api="connections", rate_limit=None, max_retries=0)
        frame = dn.download("trun_ok-expired-gone-expired_once", tmp_path, deck=deck)
    finally:
        server.stop()
    errors = dict(zip(frame["storage_id"], frame["error"].fillna(""), strict=True))
    assert errors["stor_ok"] == "" and errors["stor_expired_once"] == ""
    assert errors["stor_expired"].startswith("FileExpired") and errors["stor_gone"].startswith("FileGone")
    assert (tmp_path / "ok.bin").read_bytes() == BODY
    assert sorted(p.name for p in tmp_path.iterdir()) == [".deck_nb-files.json", "expired_once.bin", "ok.bin"]
    for token in server.tokens:
        assert token not in frame.to_csv() and token not in frame._repr_html_()


def test_extractions_are_typed_by_the_tasks_schema_and_failures_are_rows(sim):
    deck = client(sim)
    sim.storage(fail_extraction=2)
    bills = completed_run(deck, sim, months=3)
    more = completed_run(deck, sim, months=1, username="bob")
    usage = completed_run(deck, sim, task="task_sim_usage", username="carl")
    asked: list[str] = []
    deck.add_observer(type("Count", (), {"on_object": lambda self, obj, call: asked.append(call.path)})())
    frame = dn.extractions([bills.id, more.id, usage.id], deck=deck)
    assert asked.count("/tasks/task_sim_bills") == 1  # one schema read per task
    assert list(frame.columns[:6]) == ["run_id", "storage_id", "task_id", "source_id", "file_name", "result"]
    assert len(frame) == 5 and set(frame["task_id"]) == {"task_sim_bills", "task_sim_usage"}
    assert str(frame["due_date"].dtype).startswith("datetime64") and frame["total_due"].dtype == "float64"
    failed = frame[frame["result"] == "failure"]
    assert len(failed) == 1 and pd.isna(failed.iloc[0]["total_due"])
    csv = frame[frame["task_id"] == "task_sim_usage"].iloc[0]
    assert csv["result"] == "success" and pd.isna(csv["total_due"])
    assert frame["source_id"].notna().all()  # read from the runs, given only their ids


def test_extractions_of_nothing_have_the_columns(sim):
    deck = client(sim)
    assert list(dn.extractions([], deck=deck).columns) == [
        "run_id", "storage_id", "task_id", "source_id", "file_name", "result",
    ]  # fmt: skip
    with pytest.raises(TypeError, match="runs frame"):
        dn.download(pd.DataFrame({"x": [1]}), deck=deck)


@pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.01, rate_limit="off")
def test_jobs_and_batches_download_and_encrypted_runs_show_everywhere(sim, tmp_path):
    deck = dn.Deck(api_key=sim.api_key, base_url=sim.base_url, api="connections", rate_limit=None)
    sim.storage(encryption=True)
    batch = dn.run_many_sync(
        [
            dn.Pull("src_sim_power", f"u{i}", "pass_good", task_id="task_sim_bills", input={"months": 2})
            for i in range(2)
        ],
        respond={"code": "123456"},
        deck=deck,
    )
    assert all(o.ok for o in batch)
    frame = batch.download(tmp_path / "batch")
    assert len(frame) == 4 and frame["fetched"].all()
    table = batch.extractions
    assert len(table) == 4 and table["total_due"].dtype == "float64"
    job = batch[0].run
    assert job.run.encrypted and isinstance(job.output, str)
    assert len(dn.download(job, tmp_path / "job")) == 2
    texts = [repr(job), job._repr_html_(), job.card.text(), batch.frame.to_csv(), repr(batch)]
    with pytest.warns(UserWarning, match="its output is encrypted"):
        texts += [dn.history().runs.to_csv(), dn.runs_frame([job]).to_csv(), dn.outputs_frame([job]).to_csv()]
    assert all(isinstance(t, str) for t in texts)
    assert job.card.text() and "completed" in job.card.text()


def test_a_failed_runs_last_screenshot_for_its_card_and_the_screenshots_frame(sim):
    from _storage_runs import connected, run_on

    from deck_nb.files import last_screenshot, screenshots
    from deck_nb.widgets import _files as card_lines

    deck = client(sim)
    failed = run_on(deck, sim, connected(deck, sim).id, months=1, fail_with="source_error")
    shot, image = last_screenshot(failed, deck=deck)
    assert shot.reasoning.startswith("Stopped") and image.startswith(b"\x89PNG")
    assert "data:image/png;base64," in card_lines.screenshot_html(shot, image)
    frame = screenshots(failed.id, deck=deck)
    assert list(frame["reasoning"])[-1] == shot.reasoning and "url" not in frame.columns
    assert list(frame["index"]) == list(range(len(frame)))
    sim.advance(16 * 86400)  # screenshots are kept 15 days
    assert last_screenshot(failed, deck=deck) == (None, None)
    assert screenshots(failed, deck=deck).empty
