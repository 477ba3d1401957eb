"""A replayed session is answered with no person and no responder: the recording never kept the real
answers (placeholders only), so any well-formed answer goes and the recorded verdict follows. That is
what lets an analyst's own notebook, whose forms a person answered when it was recorded, run
unchanged under nbval, papermill or a script in CI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from record_helpers import assert_real_clock, no_network

import deck_nb as dn
from deck_nb.client import DeckError
from deck_nb.notebook.responders import ReplayResponder

FAST = {"clock": "real", "time_scale": 0.01, "rate_limit": "off"}
FLOW = """
import deck_nb as dn
deck = dn.Deck({options})
conn = dn.connect("src_sim_power", username="ada", password="pw_replay_7", deck=deck{respond})
run = dn.run_task("task_sim_bills", conn, {{"months": 2}}, deck=deck).wait(60)
print("RESULT", run.status, len(run.output["bills"]))
"""


@pytest.fixture(autouse=True)
def _real_clock_after():
    yield
    assert_real_clock()


def _script(code: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DECK_NB_", "DECK_API_KEY"))}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_a_recorded_session_replays_in_a_script_with_nobody_to_answer(deck_simulator, tmp_path):
    path = tmp_path / "bills.deckrec"
    options = f"api_key={deck_simulator.api_key!r}, base_url={deck_simulator.base_url!r}"
    recorded = _script(FLOW.format(options=options, respond=', respond={"code": "123456"}'), DECK_NB_RECORD=str(path))
    assert recorded.returncode == 0, recorded.stderr
    assert "pw_replay_7" not in path.read_text() and "123456" not in path.read_text()
    # the same script, no respond= and no terminal: only the recording can answer it
    replayed = _script(FLOW.format(options="", respond=""), DECK_NB_REPLAY=str(path))
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.splitlines()[-1] == recorded.stdout.splitlines()[-1] == "RESULT completed 2"
    # answered by code when it was recorded: DECK_NB_RESPONDER=simulator replays it too, never asking the
    # recording a GET /v2/test it does not hold
    simulated = _script(FLOW.format(options="", respond=""), DECK_NB_REPLAY=str(path), DECK_NB_RESPONDER="simulator")
    assert simulated.returncode == 0 and simulated.stdout.splitlines()[-1] == "RESULT completed 2", simulated.stderr
    # and without the recording, nobody can answer: a clear NoAnswer, at once
    live = _script(FLOW.format(options=options, respond=""))
    assert live.returncode != 0 and "NoAnswer" in live.stderr and "DECK_NB_REPLAY" in live.stderr


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_a_client_replaying_its_own_recording_is_answered_and_a_live_one_is_refused(deck_simulator, tmp_path):
    path = tmp_path / "own.deckrec"
    with dn.record(path), dn.Deck(api_key=deck_simulator.api_key, base_url=deck_simulator.base_url) as deck:
        conn = dn.connect("src_sim_power", username="ada", password="pw_own_1", respond={"code": "123456"}, deck=deck)
        dn.run_task("task_sim_usage", conn, {"days": 2}, deck=deck).wait(60)
    with no_network(), dn.Deck(replay=path) as replaying:
        conn = dn.connect("src_sim_power", username="ada", password="pw_own_1", deck=replaying)
        run = dn.run_task("task_sim_usage", conn, {"days": 2}, deck=replaying).wait(60)
        assert run.status == "completed" and isinstance(run.responder, ReplayResponder)
    live = dn.Deck(api_key=deck_simulator.api_key, base_url=deck_simulator.base_url)
    with live, pytest.raises(DeckError, match="only answers a session replayed"):
        ReplayResponder().check(live)


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_a_notebook_that_records_itself_replays_unchanged(deck_simulator, tmp_path):
    """docs/ci.md step 1 puts ``with dn.record(path):`` in the notebook; under a replay of that very
    file it records nothing and leaves the file alone (no "exists: pass overwrite=True")."""
    path = tmp_path / "self.deckrec"
    code = f"""
import deck_nb as dn
deck = dn.Deck({{options}})
with dn.record({str(path)!r}) as rec:
    conn = dn.connect("src_sim_power", username="ada", password="pw_self_3", deck=deck)
    run = dn.run_task("task_sim_usage", conn, {{{{"days": 2}}}}, deck=deck{{respond}}).wait(60)
print("RESULT", run.status, len(run.output["usage"]), rec.exchanges > 0)
"""
    options = f"api_key={deck_simulator.api_key!r}, base_url={deck_simulator.base_url!r}"
    recorded = _script(code.format(options=options, respond=', respond={"code": "123456"}'))
    assert recorded.returncode == 0 and recorded.stdout.splitlines()[-1] == "RESULT completed 2 True", recorded.stderr
    kept = path.read_bytes()
    replayed = _script(code.format(options="", respond=""), DECK_NB_REPLAY=str(path))
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.splitlines()[-1] == "RESULT completed 2 False" and path.read_bytes() == kept
