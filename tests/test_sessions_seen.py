"""``history().sessions`` as an analyst reads it after single runs on Deck's current API: the
session's status and runtime as Deck has them, not NaN for a session seen only through its runs."""

from __future__ import annotations

import pytest

import deck_nb as dn
from deck_nb.history import History, Journal

pytestmark = pytest.mark.deck_simulator(api="credentials", clock="real", time_scale=0.01, rate_limit="off")


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "history.sqlite")
    yield j
    j.close()


@pytest.fixture
def deck(sim, journal):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url, observers=[journal]) as client:
        yield client


def test_a_single_run_leaves_its_session_with_status_and_runtime(deck, journal):
    login = dn.connect("src_sim_power", "ada", "pw-sessions-1", deck=deck).wait(20)
    run = dn.run_task("task_sim_usage", login, input={"days": 1}, respond={"code": "123456"}, deck=deck).wait(20)
    assert run.status == "completed"
    sessions = History([journal]).sessions
    assert sessions["id"].tolist() == [run.run.session_id]
    row = sessions.iloc[0]
    served = deck.sessions.retrieve(run.run.session_id)  # what Deck says (read after the frame)
    assert row["status"] == served.status == "idle"
    assert row["runtime_s"] == pytest.approx(served.runtime_ms / 1000)

    again = dn.run_task("task_sim_usage", login, input={"days": 1}, deck=deck).wait(20)  # reuses the live session
    assert again.run.session_id == run.run.session_id
    row = History([journal]).sessions.iloc[0]
    served = deck.sessions.retrieve(run.run.session_id)
    assert row["runs"] == 2 and row["status"] == "idle"
    assert (
        row["runtime_s"] == pytest.approx(served.runtime_ms / 1000) and row["runtime_s"] > sessions.iloc[0]["runtime_s"]
    )


def test_a_batch_fills_its_sessions_from_the_event_feed_without_a_read_per_run(deck, journal):
    result = dn.run_many_sync(
        [dn.Pull("src_sim_power", "grace", "pw-sessions-2", task_id="task_sim_usage", input={"days": 1})],
        respond={"code": "123456"},
        deck=deck,
        poll_interval=0.05,
        timeout=60,
    )
    assert result[0].ok
    row = History([journal]).sessions.iloc[0]
    assert row["status"] == "idle" and row["runtime_s"] > 0
