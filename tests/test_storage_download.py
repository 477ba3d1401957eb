"""deck.storage.download against a hostile storage server, on Deck and AsyncDeck: a file lands
whole or not at all, a refused URL is fetched afresh once, the signed URL never gets a Deck header,
and no error, log line or journal row holds the URL."""

from __future__ import annotations

import asyncio
import logging
import pickle
import time

import pytest
from _storage_server import BODY, KEY, StorageServer

import deck_nb as dn
from deck_nb.client import DownloadIncomplete, DownloadTooLarge, FileExpired, FileGone
from deck_nb.history import History, Journal


@pytest.fixture(scope="module")
def server():
    s = StorageServer().start()
    yield s
    s.stop()


def _deck(kind: str, server, journal=None):
    options = dict(api_key=KEY, base_url=server.base_url, timeout=1, deadline=3, rate_limit=None, max_retries=0)
    deck = dn.Deck(api="connections", observers=[journal] if journal else None, **options)
    return deck if kind == "sync" else deck.to_async()


def _download(kind: str, deck, item, dest):
    if kind == "sync":
        try:
            return deck.storage.download(item, dest)
        finally:
            deck.close()

    async def go():
        try:
            return await deck.storage.download(item, dest)
        finally:
            await deck.close()

    return asyncio.run(go())


def _secret_free(server, *texts: str) -> None:
    for token in server.tokens:
        for text in texts:
            assert token not in text


KINDS = ["sync", "async"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_lands_whole_and_the_signed_url_gets_no_deck_header(kind, server, tmp_path):
    before = len(server.bucket_headers)
    path = _download(kind, _deck(kind, server), "stor_ok", tmp_path / "out.bin")
    assert path == tmp_path / "out.bin" and path.read_bytes() == BODY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]  # no temporary file left
    sent = server.bucket_headers[before:]
    assert sent and all("authorization" not in h and "idempotency-key" not in h for h in sent)
    assert all(not h.get("user-agent", "").startswith("deck_nb") for h in sent)
    assert server.api_headers[-1]["authorization"] == f"Bearer {KEY}"  # the API call did carry the key


@pytest.mark.parametrize("kind", KINDS)
def test_a_folder_as_dest_takes_a_safe_name_from_the_item(kind, server, tmp_path):
    server.names["stor_ok"] = "../../escape.bin"
    try:
        path = _download(kind, _deck(kind, server), "stor_ok", tmp_path)
    finally:
        server.names.clear()
    assert path == tmp_path / "escape.bin" and path.read_bytes() == BODY
    assert not (tmp_path.parent / "escape.bin").exists()


@pytest.mark.parametrize("kind", KINDS)
def test_a_refused_url_is_fetched_afresh_once(kind, server, tmp_path):
    server.hits.pop("stor_expired_once", None)
    path = _download(kind, _deck(kind, server), "stor_expired_once", tmp_path / "f.bin")
    assert path.read_bytes() == BODY and server.hits["stor_expired_once"] == 2


CASES = [
    ("stor_expired", FileExpired, "refused (403) twice"),
    ("stor_gone", FileGone, "no longer kept"),
    ("stor_oversize", DownloadTooLarge, "outgrew its file_size"),
    ("stor_bigger_header", DownloadTooLarge, "announced"),
    ("stor_hangup", DownloadIncomplete, "broke"),
    ("stor_short", DownloadIncomplete, "ended at"),
    ("stor_stall", DownloadIncomplete, "did not finish"),
    ("stor_trickle", DownloadIncomplete, "did not finish"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("storage_id", "error", "says"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_body_ends_with_a_typed_error_and_no_file(kind, storage_id, error, says, server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    journal = Journal()
    started = time.monotonic()
    with pytest.raises(error) as caught:
        _download(kind, _deck(kind, server, journal), storage_id, tmp_path / "f.bin")
    assert time.monotonic() - started < 8  # every wait is bounded (deadline 3 s + the size's share)
    assert list(tmp_path.iterdir()) == []  # nothing left: no file, no temporary file
    exc = caught.value
    assert says in str(exc) and storage_id in str(exc) and exc.storage_id == storage_id
    errors = History([journal]).errors
    assert error.__name__ in set(errors["code"].astype(str))  # journaled like any failed call
    _secret_free(server, str(exc), repr(exc), repr(pickle.dumps(exc)), caplog.text, errors.to_csv())
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)  # no httpx error chained


@pytest.mark.parametrize("kind", KINDS)
def test_a_file_that_cannot_be_written_says_so_not_that_the_stream_broke(kind, server, tmp_path):
    (tmp_path / "taken").write_text("a file, where the download wants a folder")
    with pytest.raises(dn.client.DownloadError) as caught:
        _download(kind, _deck(kind, server), "stor_ok", tmp_path / "taken" / "f.bin")
    text = str(caught.value)
    assert "could not be written in" in text and "Not a directory" in text and "broke" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_httpx_log_lines_never_show_a_signed_url(server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    _download("sync", _deck("sync", server), "stor_ok", tmp_path / "f.bin")
    assert "HTTP Request: GET" in caplog.text and "<signed URL>" in caplog.text
    _secret_free(server, caplog.text)
