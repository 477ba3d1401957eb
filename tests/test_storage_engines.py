"""What carries dn.download's transfers: an event loop of its own thread through an AsyncDeck twin,
or, for a client built on the user's own http_client, threads over that very client; either way no
thread is left behind, an interrupt leaves no part file, and the journal hears every saved file."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from _storage_runs import client, completed_run

import deck_nb as dn
from deck_nb.files import _download as files_download

_BEFORE: set[threading.Thread] = set()


@pytest.fixture(autouse=True)
def _threads_before():
    """The download loops other tests' unclosed clients keep are not this test's."""
    _BEFORE.clear()
    _BEFORE.update(threading.enumerate())


def _once_a_file_is_kept(monkeypatch, action) -> None:
    """``action()`` once, in the download's own thread, as its first fetched file is kept."""
    real, done = files_download._Saved.add, []

    def add(self, fetched, kept=False):
        real(self, fetched, kept)
        if not done:
            done.append(True)
            action()

    monkeypatch.setattr(files_download._Saved, "add", add)


def _download_threads() -> list[str]:
    fresh = set(threading.enumerate()) - _BEFORE
    return [t.name for t in fresh if t.name.startswith("deck-nb-download")]


def test_a_download_runs_on_its_clients_loop_which_close_ends(sim, tmp_path, monkeypatch):
    deck = client(sim)
    run = completed_run(deck, sim, months=4)
    seen: list[str] = []
    real = files_download.engine_for

    def spy(client_, concurrency):
        engine = real(client_, concurrency)
        seen.append(type(engine).__name__)
        return engine

    monkeypatch.setattr(files_download, "engine_for", spy)
    frame = dn.download(run, tmp_path, deck=deck, concurrency=3)
    assert seen == ["Batch"] and frame["fetched"].all() and len(frame) == 4
    assert _download_threads() == ["deck-nb-download"]  # the client's loop, kept for its next download
    again = dn.download(run, tmp_path / "again", deck=deck)
    assert again["fetched"].all() and _download_threads() == ["deck-nb-download"]  # the same loop
    deck.close()
    assert _download_threads() == []
    journaled = dn.history().files.set_index("storage_id")
    for row in again.itertuples():  # every saved file reached the journal, with its latest path and sha256
        assert journaled.loc[row.storage_id, "path"] == row.path
        assert journaled.loc[row.storage_id, "sha256"] == row.sha256


def test_a_client_on_the_users_own_http_client_keeps_it_for_every_call(sim, tmp_path):
    asked: list[str] = []
    mine = httpx.Client(event_hooks={"request": [lambda request: asked.append(request.url.path)]})
    deck = client(sim, http_client=mine)
    run = completed_run(deck, sim, months=3)
    asked.clear()
    frame = dn.download(run, tmp_path, deck=deck)
    assert frame["fetched"].all() and len(frame) == 3
    assert sum(path.startswith("/v2/storage/") for path in asked) == 3  # each file's fresh URL, through mine
    assert sum(path.endswith("/storage") for path in asked) == 1  # the run's listing too
    assert _download_threads() == []
    mine.close()


def test_an_interrupt_stops_the_transfers_and_leaves_no_part(sim, tmp_path, monkeypatch):
    deck = client(sim)
    run = completed_run(deck, sim, months=6)

    def press_ctrl_c():
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        _once_a_file_is_kept(patched, press_ctrl_c)
        with pytest.raises(KeyboardInterrupt):
            dn.download(run, tmp_path, deck=deck, concurrency=2)
    assert _download_threads() == ["deck-nb-download"]  # the loop stays; the transfers have ended
    names = [p.name for p in Path(tmp_path).iterdir()]
    assert not [n for n in names if n.endswith(".part")], names
    again = dn.download(run, tmp_path, deck=deck)  # what ended whole is kept; the rest is fetched now
    assert again["error"].isna().all() and len(again) == 6 and (~again["fetched"]).sum() >= 1
    assert len([p for p in Path(tmp_path).iterdir() if not p.name.startswith(".")]) == 6  # no copy twice
    deck.close()
    assert _download_threads() == []


def test_a_journal_record_is_all_or_nothing(sim, tmp_path):
    """A batch of saved files is one transaction: one that fails half-way leaves no row of it."""
    from deck_nb.client._download import Fetched
    from deck_nb.history import Journal

    deck = client(sim)
    run = completed_run(deck, sim, months=2)
    items = list(deck.task_runs.files(run.id))
    journal = Journal(tmp_path / "journal.sqlite")

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no path")

    good = Fetched(tmp_path / "a.pdf", items[0].file_size, "0" * 64, items[0])
    bad = Fetched(Unprintable(), items[1].file_size, "1" * 64, items[1])  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        journal.on_files_saved([good, bad])
    assert journal.count("files") == 0  # autocommit would have kept the first half
    journal.on_files_saved([good])
    assert journal.query("SELECT storage_id, sha256 FROM files")[1] == [(items[0].id, "0" * 64)]
    journal.close()


def test_an_async_deck_passed_to_download_leaves_no_loop_behind(sim, tmp_path):
    deck = client(sim)
    run = completed_run(deck, sim, months=2)
    adeck = deck.to_async()
    frame = dn.download(run.id, tmp_path, deck=adeck)
    assert frame["fetched"].all() and len(frame) == 2
    assert _download_threads() == []  # the sync twin made for the call was closed, with its loop
    deck.close()


def test_closing_the_deck_mid_download_ends_it_with_rows_not_a_hang(sim, tmp_path, monkeypatch):
    deck = client(sim)
    run = completed_run(deck, sim, months=6)

    def close_from_elsewhere():  # another thread closes the Deck meanwhile
        closer = threading.Thread(target=deck.close)
        closer.start()
        closer.join(30)
        assert not closer.is_alive()

    result: list = []
    with monkeypatch.context() as patched:
        _once_a_file_is_kept(patched, close_from_elsewhere)
        worker = threading.Thread(target=lambda: result.append(dn.download(run, tmp_path, deck=deck, concurrency=1)))
        worker.start()
        worker.join(60)
    assert not worker.is_alive() and result  # it ended, with its frame
    frame = result[0]
    assert frame["fetched"].sum() >= 1 and len(frame) == 6
    stopped = frame[~frame["fetched"]]
    assert stopped["error"].str.startswith("Stopped").all()
    assert _download_threads() == [] and not list(Path(tmp_path).glob("*.part"))
    with pytest.raises(RuntimeError, match="was closed"):  # a closed Deck downloads nothing more
        dn.download(run, tmp_path / "later", deck=deck)
    assert _download_threads() == []


def test_files_whose_manifest_was_lost_are_not_saved_twice(sim, tmp_path):
    deck = client(sim)
    run = completed_run(deck, sim, months=3)
    first = dn.download(run, tmp_path, deck=deck)
    (tmp_path / ".deck_nb-files.json").unlink()  # a kill before it was saved, or a full disk
    (tmp_path / "bill_mine.pdf").write_bytes(b"the user's own file")
    again = dn.download(run, tmp_path, deck=deck)  # fetched again to check, then known by their bytes
    assert list(again["path"]) == list(first["path"]) and list(again["sha256"]) == list(first["sha256"])
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert len(names) == 4 and "bill_mine.pdf" in names  # no "(2)" copies; the user's file untouched
    assert (tmp_path / "bill_mine.pdf").read_bytes() == b"the user's own file"
    deck.close()
