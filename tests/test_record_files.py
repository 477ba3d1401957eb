"""Recordings as files: bad input names the line, a replay asked something new fails that call
(naming method, path and the nearest recorded request) and sends nothing, async clients record and
replay, ``DECK_NB_RECORD`` / ``DECK_NB_REPLAY`` cover a whole script, ``deck-nb recording check``
reports drift, and the recording package stays under the client."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from record_helpers import assert_real_clock, no_network

import deck_nb as dn
from deck_nb.cli import main
from deck_nb.recording import RecordingError, ReplayMiss


@pytest.fixture(autouse=True)
def _real_clock_after():
    yield
    assert_real_clock()


FAST = {"clock": "real", "time_scale": 0.01, "rate_limit": "off"}
ROOT = Path(__file__).parent.parent


@pytest.fixture
def recording(sim, tmp_path):
    path = tmp_path / "base.deckrec"
    with dn.record(path), dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
        deck.test()
        list(deck.sources.list())
        deck.tasks.retrieve("task_sim_bills")
    return path


def lines_of(path):
    return path.read_text().splitlines()


def rewrite(path, lines):
    path.write_text("\n".join(lines) + "\n")


def test_a_truncated_recording_names_its_last_line(recording):
    text = recording.read_text()
    recording.write_text(text[: len(text) - 30])
    with pytest.raises(RecordingError, match=r"line 4: the line is cut short: the recording is truncated"):
        dn.Deck(replay=recording)


def test_a_recording_cut_at_a_line_boundary_has_no_end_line(recording):
    rewrite(recording, lines_of(recording)[:-1])
    with pytest.raises(RecordingError, match=r"line 4: no end line: the recording is truncated"):
        dn.Deck(replay=recording)


def test_a_hand_edit_that_breaks_json_or_moves_lines_names_the_line(recording):
    lines = lines_of(recording)
    broken = [*lines[:2], lines[2].replace('"method": "GET"', '"method": GET'), *lines[3:]]
    rewrite(recording, broken)
    with pytest.raises(RecordingError, match=r"line 3: not valid JSON .*edited by hand"):
        dn.Deck(replay=recording)
    rewrite(recording, [lines[0], lines[2], lines[1], *lines[3:]])
    with pytest.raises(RecordingError, match=r"line 2: exchange number 1, expected 0"):
        dn.Deck(replay=recording)


def test_another_format_version_or_another_api_is_refused(recording):
    lines = lines_of(recording)
    header = json.loads(lines[0])
    rewrite(recording, [json.dumps({**header, "version": 99}), *lines[1:]])
    with pytest.raises(RecordingError, match=r"line 1: format version 99, but this deck_nb reads version 1"):
        dn.Deck(replay=recording)
    entry = json.loads(lines[1])
    rewrite(recording, [lines[0], json.dumps({**entry, "path": "/api/v9/things"}), *lines[2:]])
    with pytest.raises(RecordingError, match=r"line 2: GET /api/v9/things is not a Deck API path"):
        dn.Deck(replay=recording)
    recording.write_text("this is not a recording\n")
    with pytest.raises(RecordingError, match="line 1: not valid JSON"):
        dn.Deck(replay=recording)


def test_an_unrecorded_request_fails_that_call_naming_the_nearest_and_sends_nothing(recording):
    with no_network(), dn.Deck(replay=recording) as deck:
        with pytest.raises(ReplayMiss) as caught:
            deck.tasks.retrieve("task_sim_usage")
        assert "GET /v2/tasks/task_sim_usage" in str(caught.value)
        assert "nearest recorded request is GET /v2/tasks/task_sim_bills" in str(caught.value)
        assert deck.test()["environment"] == "simulator"  # the client goes on: only that call failed


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_a_write_is_matched_by_what_it_asks_and_one_never_recorded_is_a_miss_naming_the_difference(sim, tmp_path):
    path = tmp_path / "two.deckrec"
    with dn.record(path), dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
        for name, months in (("ada_lovelace", 1), ("bob_babbage", 2)):
            conn = dn.connect("src_sim_power", name, "pw_match_1", respond={"code": "123456"}, deck=deck).wait(30)
            assert dn.run_task("task_sim_bills", conn, {"months": months}, deck=deck).wait(30).ok
    text = path.read_text()
    assert "ada_lovelace" not in text and "bob_babbage" not in text  # login names: placeholders and digests only

    with no_network(), dn.Deck(replay=path) as deck:  # bob first: bob's recorded credential and run
        bob = dn.connect("src_sim_power", "bob_babbage", "x", respond={"code": "1"}, deck=deck).wait(30)
        assert len(dn.run_task("task_sim_bills", bob, {"months": 2}, deck=deck).wait(30).output["bills"]) == 2
        ada = dn.connect("src_sim_power", "ada_lovelace", "x", respond={"code": "1"}, deck=deck).wait(30)
        assert ada.id != bob.id
        with pytest.raises(ReplayMiss) as caught:  # never recorded: said, not answered with another run
            dn.run_task("task_sim_bills", ada, {"months": 3}, deck=deck).wait(30)
        said = str(caught.value)
        assert "no recorded answer for POST /v2/tasks/task_sim_bills/run" in said
        assert "input.months (recorded: 1)" in said and "pw_match_1" not in said
    with no_network(), dn.Deck(replay=path) as deck:  # another login name (not in the recording): by order
        conn = dn.connect("src_sim_power", "someone_else", "x", respond={"code": "1"}, deck=deck).wait(30)
        assert len(dn.run_task("task_sim_bills", conn, {"months": 1}, deck=deck).wait(30).output["bills"]) == 1


@pytest.mark.parametrize("files", ["digest", "full"])
def test_downloads_are_recorded_and_replay_their_bytes_or_say_only_the_digest_was_kept(files, sim, tmp_path):
    from _storage_runs import client, completed_run

    from deck_nb.recording import FileNotKept

    path = tmp_path / "files.deckrec"
    with dn.record(path, files=files), client(sim) as deck:
        run = completed_run(deck, sim, months=2)
        first = dn.download(run, tmp_path / "live", deck=deck, progress=False)
    assert first["fetched"].all() and path.read_text().count('"file": {"size"') == 2
    for replaying in ("Deck(replay=)", "dn.replay"):
        folder = tmp_path / replaying
        with no_network():
            if replaying == "dn.replay":
                with dn.replay(path), dn.Deck() as deck:
                    again = dn.download(run.id, folder, deck=deck, progress=False)
            else:
                with dn.Deck(replay=path) as deck:
                    again = dn.download(run.id, folder, deck=deck, progress=False)
                    if files == "digest":
                        with pytest.raises(FileNotKept, match='files="full"'):
                            deck.storage.download(first["storage_id"][0], tmp_path / "one.pdf")
        if files == "full":
            assert again["error"].isna().all() and list(again["sha256"]) == list(first["sha256"])
            assert [Path(p).read_bytes() for p in again["path"]] == [Path(p).read_bytes() for p in first["path"]]
        else:  # no bytes to give: each file's row says so, and no file (zeros or otherwise) is written
            assert not again["fetched"].any()
            assert all(e.startswith("FileNotKept: ") for e in again["error"])
            assert all("only the size" in e and 'record with files="full"' in e for e in again["error"])
            assert [p.name for p in folder.iterdir() if not p.name.startswith(".")] == []


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_async_clients_record_and_replay(sim, tmp_path):
    path = tmp_path / "async.deckrec"

    async def flow(deck):
        conn = await dn.connect(
            "src_sim_power", username="ada", password="pw_async_1", respond={"code": "123456"}, deck=deck
        )
        run = await dn.run_task("task_sim_usage", conn, {"days": 3}, deck=deck)
        return [run.id, run.status, run.output]

    async def record():
        with dn.record(path):
            async with dn.AsyncDeck(api_key=sim.api_key, base_url=sim.base_url) as deck:
                return await flow(deck)

    async def replay():
        async with dn.AsyncDeck(replay=path) as deck:
            return await flow(deck)

    recorded = asyncio.run(record())
    with no_network():
        assert asyncio.run(replay()) == recorded
    assert recorded[1] == "completed"


SCRIPT = """
import deck_nb as dn
deck = dn.Deck()
conn = dn.connect("src_sim_power", username="ada", password="pw_script_1", respond={"code": "123456"}, deck=deck)
conn.wait(30)
run = dn.run_task("task_sim_bills", conn, {"months": 2}, deck=deck).wait(30)
print(run.id, run.status, len(run.output["bills"]))
"""


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_the_environment_records_and_replays_a_whole_script(sim, tmp_path):
    path = tmp_path / "script.deckrec"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DECK_", "DECK_NB_"))}
    base["PYTHONPATH"] = str(ROOT)
    live = {**base, "DECK_API_KEY": sim.api_key, "DECK_BASE_URL": sim.base_url, "DECK_NB_RECORD": str(path)}
    recorded = subprocess.run([sys.executable, "-c", SCRIPT], env=live, capture_output=True, text=True, timeout=120)
    assert recorded.returncode == 0, recorded.stderr
    assert path.exists() and "completed 2" in recorded.stdout
    offline = {**base, "DECK_NB_REPLAY": str(path)}  # no key, no server
    replayed = subprocess.run([sys.executable, "-c", SCRIPT], env=offline, capture_output=True, text=True, timeout=120)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.splitlines()[-1] == recorded.stdout.splitlines()[-1]
    assert "embedded Deck simulator" not in replayed.stdout
    again = subprocess.run([sys.executable, "-c", SCRIPT], env=live, capture_output=True, text=True, timeout=120)
    assert "exists: pass overwrite=True" in again.stderr  # the old recording is kept


def test_recording_check_reports_drift_and_a_clean_recording(recording, capsys):
    assert main(["recording", "check", str(recording)]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("no drift the client relies on") and "unknown fields (kept" in out
    lines = lines_of(recording)
    last = json.loads(lines[3])
    last["response"]["json"]["new_thing"] = 1
    last["response"]["json"].pop("id")
    rewrite(recording, [*lines[:3], json.dumps(last), *lines[4:]])
    assert main(["recording", "check", str(recording)]) == 1
    out = capsys.readouterr().out
    assert (
        "Task: 1 object" in out
        and "new_thing (1×)" in out
        and "missing fields: id (1×)" in out
        and "does not fit: line 4" in out
    )
    rewrite(recording, lines[:2])
    assert main(["recording", "check", str(recording)]) == 2
    assert "no end line" in capsys.readouterr().err


def test_the_recording_package_imports_neither_the_client_nor_the_notebook_layer():
    for path in (ROOT / "deck_nb" / "recording").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                assert not name.startswith(
                    ("deck_nb.client", "deck_nb.notebook", "deck_nb.history", "deck_nb.widgets")
                ), path


PLUGIN_TEST = """
import deck_nb as dn

def test_bills(deck_recording):
    deck = dn.Deck()
    conn = dn.connect("src_sim_power", username="ada", password="pw_plugin_1", respond={"code": "123456"}, deck=deck)
    run = dn.run_task("task_sim_bills", conn, {"months": 3}, deck=deck).wait(30)
    assert run.status == "completed" and len(run.output["bills"]) == 3
    print("RUN", run.id)
"""


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_the_pytest_options_record_and_replay_a_test_through_the_fixture(sim, tmp_path):
    (tmp_path / "test_mine.py").write_text(PLUGIN_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith("DECK_")}
    base["PYTHONPATH"] = str(ROOT)
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s", "-c", "pytest.ini", "test_mine.py"]
    live = {**base, "DECK_API_KEY": sim.api_key, "DECK_BASE_URL": sim.base_url}
    recorded = subprocess.run(
        [*args, "--deck-record=recs"], env=live, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert recorded.returncode == 0, recorded.stdout[-2000:]
    assert (tmp_path / "recs" / "test_mine" / "test_bills.deckrec").exists()
    replayed = subprocess.run(
        [*args, "--deck-replay=recs"], env=base, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert replayed.returncode == 0, replayed.stdout[-2000:]
    run_line = [line for line in recorded.stdout.splitlines() if line.startswith("RUN")]
    assert run_line and run_line[0] in replayed.stdout  # the same run id, from the recording


def test_under_replay_the_clock_reads_as_at_recording_time_and_waits_take_no_wall_time(recording):
    import time as real_time
    from datetime import datetime, timedelta

    from deck_nb import _clock

    recorded_at = datetime.fromisoformat(json.loads(lines_of(recording)[0])["recorded_at"])
    started = real_time.perf_counter()
    with dn.replay(recording):
        assert abs(_clock.now() - recorded_at) < timedelta(seconds=5)
        before = _clock.now()
        _clock.sleep(360)  # a six-minute wait
        asyncio.run(_clock.async_sleep(30))
        assert _clock.now() - before >= timedelta(seconds=390)
    assert real_time.perf_counter() - started < 2
    assert not _clock.current().virtual  # the real clock is back when the replay ends


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_a_fresh_recording_of_a_run_in_a_session_has_no_drift(deck_simulator, tmp_path, capsys):
    """A session that is `idle` between runs is a documented status, not drift."""
    path = tmp_path / "session.deckrec"
    with dn.record(path), dn.Deck(api_key=deck_simulator.api_key, base_url=deck_simulator.base_url) as deck:
        conn = dn.connect("src_sim_power", username="ada", password="pw_drift_1", deck=deck)
        run = dn.run_task("task_sim_usage", conn, {"days": 2}, respond={"code": "123456"}, deck=deck).wait(60)
    assert run.ok and "/v2/sessions/" in path.read_text()  # the run's session was read, idle
    assert main(["recording", "check", str(path)]) == 0, capsys.readouterr().out
    assert "unknown statuses" not in capsys.readouterr().out
