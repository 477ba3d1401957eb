"""History frames from real flows on the simulator: exact rows, columns and dtypes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest

import deck_nb as dn
from deck_nb.history import History, Journal
from deck_nb.history.frames import (
    CONNECTION_COLUMNS,
    ERROR_COLUMNS,
    EVENT_COLUMNS,
    INTERACTION_COLUMNS,
    RUN_COLUMNS,
)

pytestmark = pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.01, rate_limit="off")

SECRETS = ("pw-s3cr3t-9f2", "123456", "rex")


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "history.sqlite")
    yield j
    j.close()


@pytest.fixture
def deck(sim, journal):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url, observers=[journal]) as client:
        yield client


def connect(deck, source="src_sim_power", username="ada", respond=None):
    answers = respond if respond is not None else {"code": "123456", "answer": "rex"}
    return dn.connect(source, username, SECRETS[0], respond=answers, deck=deck).wait(20)


def test_frames_have_stable_columns_and_dtypes(deck, journal):
    conn = connect(deck)
    dn.run_task("task_sim_bills", conn, {"months": 2}, deck=deck).wait(20)
    h = History([journal])
    assert list(h.runs.columns) == RUN_COLUMNS
    assert list(h.connections.columns) == CONNECTION_COLUMNS
    assert list(h.interactions.columns) == INTERACTION_COLUMNS
    assert list(h.errors.columns) == ERROR_COLUMNS
    assert list(h.events.columns) == EVENT_COLUMNS
    runs = h.runs
    assert str(runs["created_at"].dtype) == "datetime64[us, UTC]"
    assert str(runs["finished_at"].dtype) == "datetime64[us, UTC]"
    for name in ("status", "result", "api", "error_type", "error_code"):
        assert isinstance(runs[name].dtype, pd.CategoricalDtype), name
    for name in ("task_id", "source_id", "username", "external_id"):  # open sets: text, so histories concat
        assert runs[name].dtype == "string", name
    for name in ("interactions", "attempts"):
        assert str(runs[name].dtype) == "Int64"
    assert runs["duration_s"].dtype == "float64" and runs["id"].dtype == "string"
    inter = h.interactions
    assert str(inter["shown_at"].dtype) == "datetime64[us, UTC]"
    assert isinstance(inter["outcome"].dtype, pd.CategoricalDtype)
    assert inter["time_to_answer_s"].dtype == "float64"


def test_success_flow_rows(deck, journal):
    conn = connect(deck)
    run = dn.run_task("task_sim_bills", conn, {"months": 2}, deck=deck).wait(20)
    h = History([journal])
    connections = h.connections
    assert connections[["id", "source_id", "status", "interactions", "interaction_types", "attempts"]].to_dict(
        "records"
    ) == [
        {
            "id": conn.id,
            "source_id": "src_sim_power",
            "status": "connected",
            "interactions": 1,
            "interaction_types": "mfa",
            "attempts": 1,
        }
    ]
    runs = h.runs
    row = runs.iloc[0]
    assert (row["id"], row["task_id"], row["source_id"], row["connection_id"]) == (
        run.id,
        "task_sim_bills",
        "src_sim_power",
        conn.id,
    )
    assert (row["status"], row["result"], row["interactions"], row["attempts"]) == ("completed", "success", 0, 0)
    assert pd.isna(row["error_code"]) and row["duration_s"] > 0 and row["runtime_s"] == pytest.approx(0.03, abs=0.02)
    assert len(runs) == 1
    interactions = h.interactions
    assert interactions[
        ["resource_kind", "resource_id", "type", "field_names", "attempts_remaining", "submissions", "outcome"]
    ].to_dict("records") == [
        {
            "resource_kind": "connection",
            "resource_id": conn.id,
            "type": "mfa",
            "field_names": "code",
            "attempts_remaining": 3,
            "submissions": 1,
            "outcome": "accepted",
        }
    ]
    assert interactions["time_to_answer_s"].iloc[0] >= 0
    kinds = h.events["kind"].astype(str).tolist()
    assert kinds.count("interaction") == 1 and kinds.count("answer") == 1 and kinds.count("result") == 2
    assert h.errors.empty


def test_retry_and_lockout_rows(deck, journal):
    retried = connect(deck, respond={"code": ["000000", "123456"]})
    locked = connect(deck, username="user_locked", respond={"code": "999999"})
    h = History([journal])
    by_id = h.connections.set_index("id")
    assert by_id.loc[retried.id, "status"] == "connected" and by_id.loc[retried.id, "attempts"] == 2
    assert by_id.loc[locked.id, "status"] == "invalid"
    assert (by_id.loc[locked.id, "error_type"], by_id.loc[locked.id, "error_code"]) == ("auth", "auth_invalid")
    outcomes = h.interactions.groupby("resource_id", observed=True)["outcome"].apply(lambda s: list(s.astype(str)))
    assert outcomes[retried.id] == ["rejected", "accepted"]
    assert outcomes[locked.id] == ["rejected"]
    errors = h.errors
    assert errors[["origin", "resource_id", "type", "code"]].to_dict("records") == [
        {"origin": "resource", "resource_id": locked.id, "type": "auth", "code": "auth_invalid"}
    ]
    reasons = h.failure_reasons()
    assert reasons.to_dict("records") == [{"error_type": "auth", "error_code": "auth_invalid", "count": 1}]


def test_timeout_rows(deck, journal):
    def slow(interaction):
        time.sleep(1.6)
        return {"code": "123456"}

    job = connect(deck, respond=slow)
    h = History([journal])
    conn = h.connections.iloc[0]
    assert (conn["status"], conn["error_code"]) == ("disconnected", "interaction_timeout")
    inter = h.interactions.iloc[0]
    assert inter["outcome"] == "timed_out" and pd.notna(inter["closed_at"])
    errors = h.errors
    assert set(errors["origin"].astype(str)) == {"api", "resource"}
    api_error = errors[errors["origin"] == "api"].iloc[0]
    assert (api_error["code"], api_error["status_code"], api_error["resource_id"]) == (
        "interaction_timeout",
        408,
        job.id,
    )
    assert api_error["request_id"].startswith("req_") and api_error["method"] == "POST"


def test_mid_run_interactions_and_injected_failures(deck, journal, sim):
    conn = connect(deck, source="src_sim_bank")
    run = dn.run_task(
        "task_sim_statements", conn, respond={"account_id": lambda f: f.options[0].value}, deck=deck
    ).wait(20)
    failed = dn.run_task("task_sim_bills", conn, {"fail_with": "source_error"}, deck=deck).wait(20)
    h = History([journal])
    runs = h.runs.set_index("id")
    assert runs.loc[run.id, "interaction_types"] == "account_selection" and runs.loc[run.id, "attempts"] == 1
    assert (
        runs.loc[failed.id, "status"],
        runs.loc[failed.id, "result"],
        runs.loc[failed.id, "error_type"],
        runs.loc[failed.id, "error_code"],
    ) == ("failed", "failure", "source", "source_error")
    summary = h.summary()
    assert summary.loc[("src_sim_bank", "task_sim_statements"), "success_rate"] == 1.0
    assert summary.loc[("src_sim_bank", "task_sim_statements"), "interaction_rate"] == 1.0
    assert summary.loc[("src_sim_bank", "task_sim_bills"), "success_rate"] == 0.0
    tta = h.time_to_answer()
    assert list(tta.columns) == ["answered", "p50", "p90", "p99"]
    assert set(tta.index) == {"mfa", "security_question", "account_selection"}


def test_client_side_errors_are_recorded_with_status_and_request_ids(deck, journal, sim):
    sim.set_faults(error_rate=1.0)
    fragile = dn.Deck(api_key=sim.api_key, base_url=sim.base_url, observers=[journal], max_retries=1)
    with pytest.raises(dn.client.InternalServerError):
        fragile.connections.retrieve("conn_x")
    sim.set_faults()
    row = History([journal]).errors.iloc[0]
    assert (row["origin"], row["code"], row["status_code"], row["method"], row["path"]) == (
        "api",
        "api_error",
        500,
        "GET",
        "/connections/conn_x",
    )
    assert row["resource_id"] == "conn_x"


def test_rest_resources_are_journaled_too(deck, journal, sim):
    conn = deck.connections.create("src_sim_mobile", username="a", password=SECRETS[0])
    deck.connections.wait(conn, timeout=5)
    run = deck.task_runs.create("task_sim_bills", connection_id=conn)
    list(deck.task_runs.list())  # a listing is observed as well
    assert deck.task_runs.wait(run, timeout=5).status == "interaction_required"  # step-up MFA
    deck.task_runs.submit_interaction(run, code="123456")
    deck.task_runs.wait(run, timeout=5)
    h = History([journal])
    assert h.runs["status"].tolist() == ["completed"] and h.connections["status"].tolist() == ["connected"]
    assert h.interactions[["type", "outcome"]].astype(str).values.tolist() == [["mfa", "accepted"]]


def test_no_secret_anywhere_in_the_journal_or_frames(deck, journal, tmp_path):
    conn = connect(deck, source="src_sim_bank")
    dn.run_task("task_sim_statements", conn, respond={"account_id": lambda f: f.options[0].value}, deck=deck).wait(20)
    with pytest.raises(dn.client.InteractionInputInvalid):
        connect(deck, respond=lambda i: {"cde": SECRETS[1]})
    h = History([journal])
    text = "".join(h.frame(name).to_csv() for name in ("runs", "connections", "interactions", "errors", "events"))
    raw = (tmp_path / "history.sqlite").read_bytes()
    for suffix in ("-wal", "-shm"):
        extra = tmp_path / f"history.sqlite{suffix}"
        if extra.exists():
            raw += extra.read_bytes()
    for secret in SECRETS:
        assert secret not in text, secret
        assert secret.encode() not in raw, secret


def test_history_file_survives_and_combines(deck, journal, tmp_path, sim):
    connect(deck)
    other = Journal(tmp_path / "other.sqlite")
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url, observers=[other]) as second:
        connect(second, source="src_sim_mobile", respond={})
    other.close()
    combined = History.load(tmp_path / "history.sqlite", tmp_path / "other.sqlite")
    assert sorted(combined.connections["source_id"].astype(str)) == ["src_sim_mobile", "src_sim_power"]
    with pytest.raises(FileNotFoundError):
        History.load(tmp_path / "nope.sqlite")


def test_export_parquet_and_csv(deck, journal, tmp_path):
    connect(deck)
    h = History([journal])
    for fmt in ("parquet", "csv"):
        files = h.export(tmp_path / fmt, fmt)
        assert sorted(p.name for p in files) == sorted(
            f"{n}.{fmt}"
            for n in ("runs", "connections", "credentials", "sessions", "interactions", "errors", "events", "files")
        )
    back = pd.read_parquet(tmp_path / "parquet" / "connections.parquet")
    assert back["id"].tolist() == h.connections["id"].tolist()
    assert str(back["created_at"].dtype).startswith("datetime64")


def test_plots_draw(deck, journal):
    import matplotlib

    matplotlib.use("Agg")
    conn = connect(deck)
    dn.run_task("task_sim_bills", conn, deck=deck).wait(20)
    h = History([journal])
    assert h.plot_success().get_title().startswith("Task runs")
    assert h.plot_time_to_answer().get_ylabel() == "seconds to answer"


class TestServerSideFrames:
    def test_runs_frame_from_list_matches_columns(self, deck):
        conn = connect(deck)
        run = dn.run_task("task_sim_bills", conn, {"months": 3}, deck=deck).wait(20)
        frame = dn.runs_frame(deck.task_runs.list())
        assert list(frame.columns) == RUN_COLUMNS
        assert frame["id"].tolist() == [run.id] and frame["status"].tolist() == ["completed"]
        assert frame["runtime_s"].iloc[0] == pytest.approx(0.03, abs=0.02)
        assert frame.dtypes.astype(str).tolist() == History([Journal()]).runs.dtypes.astype(str).tolist()
        conns = dn.connections_frame(deck.connections.list())
        assert list(conns.columns) == CONNECTION_COLUMNS and conns["status"].tolist() == ["connected"]

    def test_outputs_frame_flattens_bills_with_the_run_id(self, deck):
        conn = connect(deck)
        runs = [dn.run_task("task_sim_bills", conn, {"months": m}, deck=deck).wait(20) for m in (2, 3)]
        bills = dn.outputs_frame(runs)
        assert list(bills.columns[:4]) == ["run_id", "task_id", "source_id", "item"]
        assert bills.groupby("run_id").size().to_dict() == {runs[0].id: 2, runs[1].id: 3}
        assert {"statement_date", "amount_due", "currency", "usage_kwh", "account_number"} <= set(bills.columns)
        assert str(bills["statement_date"].dtype).startswith("datetime64")
        assert bills["amount_due"].dtype == "float64"

    def test_outputs_frame_keeps_scalar_fields(self, deck):
        conn = connect(deck, source="src_sim_bank")
        run = dn.run_task(
            "task_sim_statements", conn, respond={"account_id": lambda f: f.options[2].value}, deck=deck
        ).wait(20)
        frame = dn.outputs_frame(run)
        assert len(frame) == 20 and set(frame["account_id"]) == {run.output["account_id"]}


CHILD = r"""
import deck_nb as dn
from deck_nb.simulator import start
sim = start(time_scale=0.005, rate_limit=None, api="connections")
deck = dn.Deck(api_key=sim.api_key, base_url=sim.base_url)
dn.set_default_deck(deck)
conn = dn.connect("src_sim_power", "ada", "pw", respond={"code": "123456"}).wait(30)
print("CONN", conn.id, conn.status, flush=True)
while True:  # batches, until killed in the middle of one
    result = dn.run_many_sync([dn.RunTask("task_sim_bills", conn, {"months": 1}) for _ in range(10)],
                              poll_interval=0.02)
    for outcome in result:
        print("RUN", outcome.run.id, outcome.status, flush=True)
"""


def test_sigkill_mid_batch_loses_nothing_written_before(tmp_path):
    path = tmp_path / "killed.sqlite"
    env = {**os.environ, "DECK_NB_HISTORY": str(path)}
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env=env)
    reported = []
    try:
        for line in child.stdout:
            reported.append(line.split())
            if len(reported) >= 31:  # the connection and three batches: the fourth is under way
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    code = (
        "import json, sys; from deck_nb.history import History; h = History.load(sys.argv[1]);"
        "print(json.dumps({'runs': dict(zip(h.runs['id'], h.runs['status'].astype(str))),"
        " 'conns': list(h.connections['id'])}))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    conn_id = reported[0][1]
    assert conn_id in loaded["conns"]
    for _, run_id, status in reported[1:]:
        assert loaded["runs"][run_id] == status == "completed"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_plain_rest_client_is_journaled_to_the_session_history(sim):
    from deck_nb.history import use_history_file

    use_history_file(None)  # a fresh in-memory session journal
    deck = dn.Deck(api_key=sim.api_key, base_url=sim.base_url)
    conn = deck.connections.create("src_sim_mobile", username="a", password=SECRETS[0])
    deck.connections.wait(conn, timeout=5)
    assert dn.history().connections[["id", "status"]].values.tolist() == [[conn.id, "connected"]]
    deck.close()


# -- which clients journal: one decision, whichever way the client is imported -------------------

MAKE_CLIENT = {
    "dn.Deck": "import deck_nb as dn\ndeck = dn.Deck(api_key=KEY, base_url=URL)\n"
    "conn = deck.connections.create('src_sim_mobile', username='a', password='pw')",
    "deck_nb.client.Deck": "from deck_nb.client import Deck\ndeck = Deck(api_key=KEY, base_url=URL)\n"
    "conn = deck.connections.create('src_sim_mobile', username='a', password='pw')",
    "deck_nb.client.AsyncDeck": "import asyncio\nfrom deck_nb.client import AsyncDeck\n"
    "async def main():\n"
    "    async with AsyncDeck(api_key=KEY, base_url=URL) as deck:\n"
    "        return await deck.connections.create('src_sim_mobile', username='a', password='pw')\n"
    "conn = asyncio.run(main())",
}


@pytest.mark.parametrize("path", sorted(MAKE_CLIENT))
def test_every_import_path_journals_to_the_session_history(sim, path):
    script = (
        f"import json, sys\nKEY, URL = sys.argv[1], sys.argv[2]\n{MAKE_CLIENT[path]}\n"
        "from deck_nb.history import history\n"
        "print(json.dumps([conn.id, history().connections['id'].tolist()]))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DECK_NB_HISTORY"}
    out = subprocess.run(
        [sys.executable, "-c", script, sim.api_key, sim.base_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    made, journaled = json.loads(out.stdout)
    assert journaled == [made]


def test_import_deck_nb_loads_neither_the_client_nor_the_journal():
    code = (
        "import sys, deck_nb as dn\n"
        "heavy = [m for m in ('httpx', 'pandas', 'deck_nb.client', 'deck_nb.history.journal') if m in sys.modules]\n"
        "print(heavy, callable(dn.history))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["[]", "True"]


def test_dn_history_is_the_callable_package_whatever_was_imported_before():
    import deck_nb.history.frames  # noqa: F401  (loading the package's modules must not rebind dn.history)
    from deck_nb.history import Journal  # noqa: F401

    assert dn.history is deck_nb_history_module()
    assert isinstance(dn.history(), History)
    assert dn.use_history_file is deck_nb_history_module().use_history_file
    assert {"session_journal", "SESSION_OBSERVER"}.isdisjoint(deck_nb_history_module().__all__)


def deck_nb_history_module():
    return sys.modules["deck_nb.history"]


class Recorder:
    def __init__(self):
        self.seen = []

    def on_object(self, obj, call):
        self.seen.append(getattr(obj, "id", None))

    def on_error(self, error, call): ...

    def on_submission(self, kind, id, field_names, error): ...


def test_a_default_observer_registered_on_the_client_watches_every_new_client(sim):
    from deck_nb.client import AsyncDeck, Deck, add_default_observer, default_observers, remove_default_observer

    recorder = Recorder()
    add_default_observer(recorder)
    try:
        deck = Deck(api_key=sim.api_key, base_url=sim.base_url)
        assert recorder in default_observers() and recorder in deck.to_async().observers
        conn = deck.connections.create("src_sim_mobile", username="a", password="pw")
        assert conn.id in recorder.seen
    finally:
        remove_default_observer(recorder)
    assert recorder not in AsyncDeck(api_key=sim.api_key, base_url=sim.base_url).observers
    assert recorder in deck.observers  # a client already made keeps what it started with
    deck.close()
