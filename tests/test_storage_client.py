"""Deck Storage through the client, over loopback HTTP to the simulator (manual clock), on Deck and
AsyncDeck: a run's files page by page, include= sections, signed URLs (fresh, expired, tampered,
never sent a Deck header), retention, extraction failure, deduplication, screenshots, encryption."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from _storage_runs import client, completed_run, connected, run_on

import deck_nb as dn
from deck_nb.client import FileGone, StorageItem


def _async_list(deck: dn.Deck, make):
    async def go():
        adeck = deck.to_async()
        try:
            return await make(adeck)
        finally:
            await adeck.close()

    return asyncio.run(go())


def test_a_runs_files_come_page_by_page_without_urls_on_both_clients(sim):
    deck = client(sim)
    run = completed_run(deck, sim, months=5)
    assert run.output["bill_count"] == 5
    paged = deck.task_runs.files(run.id, limit=2)
    pages = list(paged.pages())
    assert [len(p.data) for p in pages] == [2, 2, 1]
    items = paged.to_list()
    assert len({i.id for i in items}) == 5 and all(isinstance(i, StorageItem) and i.url is None for i in items)
    assert all(i.object == "storage" and i.task_run_id == run.id and i.file_type == "application/pdf" for i in items)
    async_items = _async_list(deck, lambda a: a.task_runs.files(run.id, limit=2).to_list())
    assert [i.id for i in async_items] == [i.id for i in items]


def test_include_sections_are_there_only_when_asked(sim):
    deck = client(sim)
    run = completed_run(deck, sim, months=2)
    plain = deck.task_runs.retrieve(run.id)
    assert plain.storage is None and plain.screenshots is None and "storage" not in plain.to_dict()
    full = deck.task_runs.retrieve(run.id, include=("storage", "artifacts", "input"))
    assert [i.file_name for i in full.storage] == [i.file_name for i in deck.task_runs.files(run.id)]
    assert all(i.url is None for i in full.storage)
    assert full.input == {"months": 2} and full.screenshots and all(s.reasoning for s in full.screenshots)
    only_input = deck.task_runs.retrieve(run.id, include="input")
    assert only_input.input == {"months": 2} and only_input.storage is None
    with pytest.raises(ValueError, match="include takes"):
        deck.task_runs.retrieve(run.id, include=("storage", "everything"))
    async_run = _async_list(deck, lambda a: a.task_runs.retrieve(run.id, include=("storage",)))
    assert len(async_run.storage) == 2


def test_download_gets_a_fresh_url_and_sends_it_no_key(sim, tmp_path):
    deck = client(sim)
    run = completed_run(deck, sim, months=1)
    item = deck.task_runs.files(run.id).to_list()[0]
    path = deck.storage.download(item, tmp_path)
    assert path.name == item.file_name and path.stat().st_size == item.file_size
    assert path.read_bytes().startswith(b"%PDF")
    apath = _async_list(deck, lambda a: a.storage.download(item.id, tmp_path / "again.pdf"))
    assert apath.read_bytes() == path.read_bytes()
    downloads = sim.stats()["downloads"]
    assert downloads["served"] == 2 and downloads["with_authorization"] == 0


def test_an_expired_or_tampered_url_is_refused_and_download_asks_for_a_fresh_one(sim, tmp_path):
    deck = client(sim)
    run = completed_run(deck, sim, months=1)
    item = deck.storage.retrieve(deck.task_runs.files(run.id).to_list()[0].id)
    assert item.url and item.url not in repr(item) + item._repr_html_() + str(item)
    tampered = item.url[:-3] + ("AAA" if not item.url.endswith("AAA") else "BBB")
    assert httpx.get(tampered).status_code == 403
    sim.advance(301)  # past the default url_ttl of 300 s
    assert httpx.get(item.url).status_code == 403
    path = deck.storage.download(item, tmp_path / "bill.pdf")  # the stale item's URL is never used
    assert path.stat().st_size == item.file_size


def test_a_file_past_retention_is_gone_and_leaves_no_file(sim, tmp_path):
    deck = client(sim)
    run = completed_run(deck, sim, months=1)
    item = deck.task_runs.files(run.id).to_list()[0]
    sim.advance(91 * 86400)
    with pytest.raises(FileGone, match="no longer kept"):
        deck.storage.download(item, tmp_path / "bill.pdf")
    with pytest.raises(FileGone):
        _async_list(deck, lambda a: a.storage.download(item, tmp_path / "bill.pdf"))
    assert list(tmp_path.iterdir()) == []
    assert deck.task_runs.screenshots(run.id).to_list() == []  # kept 15 days


def test_a_failed_extraction_is_a_failure_result_with_the_file_still_there(sim, tmp_path):
    deck = client(sim)
    sim.storage(fail_extraction=2)
    run = completed_run(deck, sim, months=3)
    items = deck.task_runs.files(run.id).to_list()
    assert [i.result for i in items] == ["success", "failure", "success"]
    assert items[1].extraction is None and items[1].extraction_failed
    assert deck.storage.download(items[1], tmp_path).stat().st_size == items[1].file_size


def test_a_second_run_on_the_same_login_stores_only_new_files(sim):
    deck = client(sim)
    conn = connected(deck, sim)
    first = run_on(deck, sim, conn.id, months=2)
    second = run_on(deck, sim, conn.id, months=3)
    names = lambda run: [i.file_name for i in deck.task_runs.files(run.id)]  # noqa: E731
    assert len(names(first)) == 2 and len(names(second)) == 1
    assert set(names(second)).isdisjoint(names(first))


def test_screenshots_carry_reasoning_and_a_failed_runs_last_says_why(sim):
    deck = client(sim)
    conn = connected(deck, sim)
    failed = run_on(deck, sim, conn.id, months=1, fail_with="source_error")
    assert failed.status == "failed"
    shots = deck.task_runs.screenshots(failed.id).to_list()
    assert shots and shots[-1].reasoning.startswith("Stopped") and "source_error" in shots[-1].reasoning
    assert all(s.url not in repr(s) for s in shots)
    async_shots = _async_list(deck, lambda a: a.task_runs.screenshots(failed.id).to_list())
    assert [s.reasoning for s in async_shots] == [s.reasoning for s in shots]


def test_encrypted_payloads_are_opaque_strings_and_nothing_crashes(sim):
    deck = client(sim)
    sim.storage(encryption=True)
    run = completed_run(deck, sim, months=1)
    full = deck.task_runs.retrieve(run.id, include=("input", "storage"))
    assert isinstance(full.output, str) and full.output.startswith("enc_") and full.encrypted
    assert isinstance(full.input, str) and full.input.startswith("enc_")
    assert len(full.storage) == 1 and full.storage[0].extraction  # every other field is unchanged
    assert "trun_" in repr(full) and "TaskRun" in full._repr_html_()
    frame = dn.runs_frame([full])
    assert frame.loc[0, "status"] == "completed"
    with pytest.warns(UserWarning, match=f"{full.id}: its output is encrypted"):
        assert dn.outputs_frame([full]).empty  # said, not silent
