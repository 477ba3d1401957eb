"""The secrets audit: every flow and every notebook runs with distinctive secret values, then the
saved notebooks (outputs and widget state), the history file, every DataFrame, the DEBUG logs
(httpx included), reprs and exception texts are scanned. Zero hits."""

from __future__ import annotations

import logging
import pickle
import re
import secrets
import shutil
from pathlib import Path

import nbformat
import pyotp
import pytest
from nbclient import NotebookClient

import deck_nb as dn
from deck_nb.history import History, Journal
from deck_nb.notebook import DictResponder, TOTPResponder

TOKEN = secrets.token_hex(6)
PASSWORD = f"AUDIT-pw-{TOKEN}"
USERNAME = f"AUDIT-user-{TOKEN}"
PASSPHRASE = f"AUDIT-phrase-{TOKEN}"
WEBHOOK_SECRET = "whsec_" + "QVVESVQtd2ViaG9vay1zZWNyZXQtdmFsdWU="
FIXED = ["123456", "rex"]  # the simulator's code and answer cannot vary: scanned with ids and times masked
NOISE = re.compile(
    r"\b(conn|trun|req|evt|evtd)_[0-9a-f]{24}\b|\d{4}-\d{2}-\d{2}[ T][\d:.]+\S*|\b[0-9a-f]{32}\b"
    r"|\b\d{10}\b"
)  # ids, timestamps, widget model ids, account numbers


def leaks(text: str, api_key: str, named: bool = False) -> list[str]:
    """``named``: a frame or history that names the account (its user name, as given) by design."""
    scanned = (
        (PASSWORD, PASSPHRASE, WEBHOOK_SECRET, api_key)
        if named
        else (PASSWORD, USERNAME, PASSPHRASE, WEBHOOK_SECRET, api_key)
    )
    found = [s for s in scanned if s in text]
    quiet = NOISE.sub("", text)
    found += [s for s in FIXED if re.search(rf"(?<![\w-]){s}(?![\w-])", quiet, re.IGNORECASE)]
    return found


@pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.01, rate_limit="off")
def test_no_secret_leaks_from_any_flow(sim, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    journal = Journal(tmp_path / "audit.sqlite")
    deck = dn.Deck(api_key=sim.api_key, base_url=sim.base_url, observers=[journal])
    adeck = deck.to_async()
    texts: list[str] = [repr(deck), repr(adeck), repr(sim)]
    answers = {"code": ["000000", "123456"], "answer": "rex", "account_id": lambda f: f.options[0].value}
    responder = DictResponder(answers)
    texts.append(repr(responder))
    power = dn.connect("src_sim_bank", USERNAME, PASSWORD, respond=responder, deck=deck).wait(20)
    run = dn.run_task("task_sim_statements", power, deck=deck).wait(20)
    novel = dn.connect(
        "src_sim_novel",
        USERNAME,
        PASSWORD,
        deck=deck,
        respond={
            "device_name": "x",
            "pin": 123456,
            "remember_device": True,
            "delivery": "sms",
            "passphrase": PASSPHRASE,
        },
    ).wait(20)
    locked = dn.connect("src_sim_power", USERNAME, PASSWORD, respond={"code": ["000000"] * 3}, deck=deck).wait(20)
    texts += [
        repr(power),
        power._repr_html_(),
        repr(run),
        run._repr_html_(),
        repr(novel),
        repr(locked),
        repr(power.interactions),
        repr(power.resource),
        power.resource.model_dump_json(),
    ]
    errors = []
    pending = deck.connections.create("src_sim_novel", username=USERNAME, password=PASSWORD)
    deck.connections.wait(pending)
    for bad in (
        {"cde": PASSPHRASE},
        {
            "device_name": PASSPHRASE,
            "pin": "123456",
            "remember_device": True,
            "delivery": "sms",
            "passphrase": PASSPHRASE,
        },
    ):
        try:
            deck.connections.submit_interaction(pending, bad)
        except dn.DeckError as exc:
            errors.append(exc)
    try:
        locked.raise_for_status()
    except dn.DeckError as exc:
        errors.append(exc)
    texts += [str(e) + repr(e) + repr(pickle.dumps(e)) for e in errors]
    assert len(errors) == 3
    destination = deck.event_destinations.create(name="audit", url="http://127.0.0.1:9/x", secret=WEBHOOK_SECRET)
    texts += [repr(destination), str(destination)]
    batch = dn.run_many_sync(
        [dn.Pull("src_sim_power", USERNAME, PASSWORD, task_id="task_sim_bills", input={"months": 1})],
        respond={"code": "123456"},
        deck=deck,
    )
    texts += [repr(batch), repr(batch[0])]
    named = [batch.frame.to_csv()]  # frames and the history name the account (issue 22): the user name only
    totp_secret = pyotp.random_base32()
    totp = TOTPResponder(totp_secret)
    texts.append(repr(totp))
    assert totp_secret not in repr(totp)
    history = History([journal])
    named += [history.frame(name).to_csv() for name in ("runs", "connections", "interactions", "errors", "events")]
    texts += [repr(history), repr(journal)]
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("audit.sqlite*"))
    named.append(raw.decode("latin-1"))
    assert USERNAME in named[0] and USERNAME in named[1]  # the account is named where the analyst looks
    texts.append(caplog.text)
    deck.close()
    assert "POST /connections" in caplog.text and batch[0].ok and run.ok and novel.ok  # it all really ran
    found = {leak for text in texts for leak in leaks(text, sim.api_key)}
    found |= {leak for text in named for leak in leaks(text, sim.api_key, named=True)}
    assert found == set()


NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_secret_leaks_from_any_notebook(path, tmp_path, monkeypatch):
    monkeypatch.setenv("DECK_NB_RESPONDER", "simulator")
    monkeypatch.setenv("DECK_SIM_TIME_SCALE", "0.05")
    for name in ("DECK_API_KEY", "DECK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # the same notebook, with a distinctive password in place of the demo one
        cell.source = cell.source.replace("pass_good", PASSWORD)
    assert PASSWORD in "".join(c.source for c in nb.cells) or path.name == "quickstart.ipynb"
    shutil.copy(path, tmp_path / path.name)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", store_widget_state=True, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    nbformat.write(nb, tmp_path / path.name)
    saved = nbformat.read(tmp_path / path.name, as_version=4)
    outputs = str([c.get("outputs", []) for c in saved.cells])
    widgets = str(saved.metadata.get("widgets", {}))
    assert leaks(outputs, "no-key") == [] and leaks(widgets, "no-key") == []
    assert "simulated" not in outputs + widgets  # the simulator responder's password
