"""The signed-URL audit: after a whole download session — listings, retrieves, include sections,
screenshots, dn.download (files fetched, resumed, gone), dn.extractions, the card's lines, failed
downloads — no signed URL (nor its signature) is in a repr, an HTML card, a DataFrame, the history
file, an exception or a log line (DEBUG, httpx and httpcore included)."""

from __future__ import annotations

import logging
import pickle
import re

import httpx
import pytest
from _storage_runs import client, completed_run, connected, run_on

import deck_nb as dn
from deck_nb.client import DeckError
from deck_nb.files import fetch_image, screenshots
from deck_nb.history import History, Journal
from deck_nb.widgets import _files as card_lines

URLISH = re.compile(r"signature=|/_files/")


def test_no_signed_url_anywhere_after_a_download_session(sim, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    journal = Journal(tmp_path / "audit.sqlite")
    deck = client(sim, observers=[journal])
    sim.storage(fail_extraction=1)
    run = completed_run(deck, sim, months=3)
    failed = run_on(deck, sim, connected(deck, sim, username="f").id, months=1, fail_with="source_error")
    texts: list[str] = []
    items = deck.task_runs.files(run.id).to_list()
    retrieved = [deck.storage.retrieve(i.id) for i in items]
    full = deck.task_runs.retrieve(run.id, include=("storage", "artifacts", "input"))
    shots = deck.task_runs.screenshots(failed.id).to_list()
    texts += [repr(x) + str(x) + x._repr_html_() for x in [*items, *retrieved, full, *shots]]
    texts += [repr(full.storage), repr(full.screenshots)]
    frame = dn.download(run, tmp_path / "files", deck=deck)
    again = dn.download([run.id, failed.id], tmp_path / "files", deck=deck)
    table = dn.extractions(run, deck=deck)
    shot_frame = screenshots(failed, deck=deck)
    image, last = fetch_image(failed.id, deck=deck)
    texts += [f.to_csv() + repr(f) for f in (frame, again, table, shot_frame)]
    texts += [frame._repr_html_(), again._repr_html_()]
    texts += [*card_lines.files_text(full.storage), card_lines.files_html(full.storage)]
    texts += [card_lines.screenshot_html(last, image), card_lines.screenshot_text(last)]
    assert card_lines.screenshot_html(last, image).count("data:image/png;base64,") == 1
    sim.advance(91 * 86400)
    errors: list[DeckError] = []
    for item in items:
        try:
            deck.storage.download(item, tmp_path / "late.pdf")
        except DeckError as exc:
            errors.append(exc)
    gone = dn.download(run, tmp_path / "late", deck=deck)
    assert len(errors) == 3 and gone["error"].str.startswith("FileGone").all()
    texts += [str(e) + repr(e) + repr(pickle.dumps(e)) for e in errors] + [gone.to_csv(), gone._repr_html_()]
    history = History([journal])
    session = dn.history()  # the session's own journal, which every client also writes
    for name in ("runs", "errors", "events", "files"):
        texts += [history.frame(name).to_csv(), session.frame(name).to_csv()]
    texts += [history.extractions.to_csv(), history.summary().to_csv(), repr(history)]
    texts.append(b"".join(p.read_bytes() for p in tmp_path.glob("audit.sqlite*")).decode("latin-1"))
    texts += [p.read_text() for p in tmp_path.glob("*/.deck_nb-files.json")]
    texts.append(caplog.text)
    deck.close()
    # the URLs this session could have leaked: the simulator's own answers, read apart from deck_nb
    raw = httpx.Client(base_url=sim.base_url + "/", headers={"Authorization": f"Bearer {sim.api_key}"})
    urls = [raw.get(f"storage/{i.id}").json()["url"] for i in items]
    urls += [s["url"] for s in raw.get(f"task-runs/{failed.id}/screenshots").json()["data"]]
    raw.close()
    signatures = [httpx.URL(u).params["signature"] for u in urls if u]
    assert retrieved[0].url and "HTTP Request: GET" in caplog.text  # it all really ran, and httpx logged
    assert frame["fetched"].all() and not again["fetched"].iloc[:3].any()
    for text in texts:
        assert not URLISH.search(text), URLISH.search(text).group(0) if URLISH.search(text) else ""
        for secret in [r.url for r in retrieved] + signatures:
            assert secret not in text


@pytest.mark.parametrize("what", ["a list item", "an event"])
def test_items_seen_elsewhere_carry_no_url(sim, what):
    deck = client(sim)
    run = completed_run(deck, sim, months=1)
    if what == "a list item":
        objects = deck.task_runs.files(run.id).to_list()
    else:
        objects = deck.events.list(types="storage.created").to_list()
    assert objects and all((o.to_dict().get("data") or o.to_dict()).get("url") is None for o in objects)
