"""Errors in a notebook are short: a DeckError shows as one block through IPython's
``_render_traceback_`` hook — no tenacity or httpx frames, no secret — and ``%tb verbose`` still
shows the full traceback. Run in a real IPython InteractiveShell against the simulator."""

from __future__ import annotations

import re
import socket

import pytest
from IPython.core.interactiveshell import InteractiveShell

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PASSWORD = "hunter2-very-secret"


@pytest.fixture
def shell():
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance(colors="nocolor")
    yield sh
    sh.run_cell("try:\n    deck.close()\nexcept Exception:\n    pass")
    InteractiveShell.clear_instance()


def _run(shell, capsys, code: str) -> str:
    capsys.readouterr()
    shell.run_cell(code)
    out = capsys.readouterr()
    return ANSI.sub("", out.out + out.err)


def test_a_deck_error_from_the_server_is_one_short_block(sim, shell, capsys):
    shell.user_ns.update(base_url=sim.base_url, api_key=sim.api_key)
    _run(shell, capsys, "import deck_nb as dn\ndeck = dn.Deck(api_key=api_key, base_url=base_url, max_retries=1)")
    cell = (
        f"conn = deck.connections.create('src_sim_power', username='ada', password={PASSWORD!r})\n"
        "deck.connections.submit_interaction(conn.id, code='123456')\n"
    )
    shown = _run(shell, capsys, cell)
    lines = [line for line in shown.splitlines() if line.strip()]
    assert lines[0].startswith("InteractionNotRequired: ")
    assert "code interaction/interaction_not_required" in shown and "HTTP 400" in shown
    assert re.search(r"request req_\w+", shown)
    assert "call POST /connections/conn_" in shown and "raised at line 2 of your cell" in shown
    assert "→ Nothing is waiting for input" in shown
    assert "%tb verbose" in shown
    assert len(lines) <= 6
    for noise in ("tenacity", "httpx", "Traceback", "site-packages", PASSWORD, api_key_tail(sim)):
        assert noise not in shown

    full = _run(shell, capsys, "%tb verbose")
    assert "tenacity" in full and "InteractionNotRequired" in full  # the whole story, on request
    again = _run(shell, capsys, "%tb")
    assert "tenacity" not in again and again.strip().startswith("InteractionNotRequired")


def test_a_connection_failure_through_retries_is_short_too(shell, capsys):
    with socket.socket() as probe:  # a port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    shell.user_ns["url"] = f"http://127.0.0.1:{port}/v2"
    shown = _run(
        shell,
        capsys,
        "import deck_nb as dn\n"
        "deck = dn.Deck(api_key='sk_test_notebook_secret', base_url=url, max_retries=2, deadline=5)\n"
        "deck.sources.list().to_list()\n",
    )
    assert shown.strip().startswith("APIConnectionError: GET /sources failed (ConnectError)")
    assert "→ No answer from Deck" in shown
    for noise in ("tenacity", "httpx", "httpcore", "Traceback", "sk_test_notebook_secret"):
        assert noise not in shown


def test_the_full_traceback_can_be_kept_on(shell, capsys, monkeypatch):
    monkeypatch.setenv("DECK_NB_TRACEBACK", "full")
    shown = _run(shell, capsys, "from deck_nb.client import WaitTimeout\nraise WaitTimeout('still running after 1s')")
    assert "Traceback" in shown or "----" in shown
    monkeypatch.delenv("DECK_NB_TRACEBACK")
    shown = _run(shell, capsys, "raise WaitTimeout('still running after 1s')")
    assert shown.strip().splitlines()[0] == "WaitTimeout: still running after 1s"
    assert "→ It did not get there in time" in shown


def api_key_tail(sim) -> str:
    return sim.api_key[-12:]


def test_a_failed_job_shows_deck_s_code_and_what_to_do(shell, capsys):
    shown = _run(
        shell,
        capsys,
        "from deck_nb.client import ErrorDetail\nfrom deck_nb.notebook import JobFailed\n"
        "raise JobFailed('connection conn_1 ended `invalid`', "
        "[ErrorDetail(type='auth', code='auth_invalid', message='The credentials were rejected.')])",
    )
    lines = shown.strip().splitlines()
    assert lines[0] == "JobFailed: connection conn_1 ended `invalid`"
    assert "code auth/auth_invalid" in shown and "→ The source rejected the credentials" in shown
    assert "Traceback" not in shown
