"""History of Deck's current API (credentials, sessions) beside the seed's (connections), in one
journal: objects shaped as deck-api-current.md describes are fed through the journal's public
``record`` / observer hooks, as client models and as plain dicts (pages and events too)."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

import deck_nb as dn
from deck_nb.client import DeckModel, TaskRun
from deck_nb.history import History, Journal
from deck_nb.history.frames import CREDENTIAL_COLUMNS, RUN_COLUMNS, SESSION_COLUMNS

PASSWORD = "pw-never-9c1e"


def at(second: int) -> str:
    return f"2026-06-09T10:{second // 60:02d}:{second % 60:02d}Z"


def credential(status="unverified", second=0, **more):
    return {
        "id": "cred_a1",
        "object": "credential",
        "status": status,
        "source_id": "src_sim_power",
        "external_id": "client-7",
        "auth_method": "username_password",
        "auth_credentials": {"username": "ada"},
        "created_at": at(0),
        "updated_at": at(second),
        **more,
    }


def run(id, status, second, task="task_sim_bills", session="sess_a1", created=None, **more):
    return {
        "id": id,
        "object": "task_run",
        "task_id": task,
        "source_id": "src_sim_power",
        "agent_id": "agt_1",
        "credential_id": "cred_a1",
        "session_id": session,
        "connection_id": None,
        "status": status,
        "result": None,
        "created_at": at(created if created is not None else second),
        "updated_at": at(second),
        **more,
    }


MFA = {"type": "mfa", "message": "Enter the code", "fields": [{"name": "code", "type": "text", "label": "Code"}]}


def session(status, second, runs=("trun_1",)):
    entries = [{"id": r, "task_id": "task_sim_bills", "agent_id": "agt_1", "credential_id": "cred_a1"} for r in runs]
    return {
        "id": "sess_a1",
        "object": "session",
        "status": status,
        "runtime_ms": 1000 * second,
        "task_runs": entries,
        "created_at": at(1),
        "updated_at": at(second),
    }


def event(type_, data, second):
    return {"id": f"evt_{type_}_{second}", "object": "event", "type": type_, "data": data, "created_at": at(second)}


def story(journal: Journal) -> None:
    """A credential stored, a first run that logs in (MFA) in a new session, a second run reusing the
    session that waits for review, a third cancelled through `cancelling`, then the session ends."""
    journal.record([credential()])
    journal.record([run("trun_1", "queued", 1)])
    journal.record([run("trun_1", "interaction_required", 4, created=1, interaction=MFA)])
    journal.on_submission("task_run", "trun_1", ("code",), None)
    journal.record([run("trun_1", "running", 6, created=1), event("credential.verified", credential("verified", 6), 6)])
    journal.record([run("trun_1", "completed", 9, created=1, result="success", runtime_ms=8000, completed_at=at(9))])
    journal.record([session("idle", 9)])
    journal.record([run("trun_2", "queued", 10, task="task_sim_pay_bill")])
    journal.record([run("trun_2", "review_required", 14, task="task_sim_pay_bill", created=10)])
    journal.record([run("trun_2", "completed", 20, task="task_sim_pay_bill", created=10, result="success")])
    journal.record([run("trun_3", "running", 21)])
    journal.record([event("task_run.canceling", run("trun_3", "canceling", 22, created=21), 22)])
    journal.record([run("trun_3", "canceled", 23, created=21, result="unknown", canceled_at=at(23))])
    journal.record([session("completed", 640, runs=("trun_1", "trun_2", "trun_3"))])


@pytest.fixture
def journal():
    j = Journal()
    yield j
    j.close()


def test_credentials_and_sessions_frames_have_one_row_each_with_the_documented_dtypes(journal):
    story(journal)
    h = History([journal])
    creds = h.credentials
    assert list(creds.columns) == CREDENTIAL_COLUMNS
    row = creds.iloc[0]
    assert (row["id"], row["source_id"], row["external_id"], row["status"], row["runs"]) == (
        "cred_a1",
        "src_sim_power",
        "client-7",
        "verified",
        3,
    )
    assert row["verified_at"] == pd.Timestamp(at(6)) and pd.isna(row["invalid_at"])
    sessions = h.sessions
    assert list(sessions.columns) == SESSION_COLUMNS
    assert sessions.to_dict("records") == [
        {
            "id": "sess_a1",
            "credential_id": "cred_a1",
            "status": "completed",
            "created_at": pd.Timestamp(at(1)),
            "ended_at": pd.Timestamp(at(640)),
            "runs": 3,
            "runtime_s": 640.0,
        }
    ]
    for frame, times, categories, counts in (
        (creds, ("created_at", "verified_at", "invalid_at"), ("status",), ("runs",)),
        (sessions, ("created_at", "ended_at"), ("status",), ("runs",)),
    ):
        assert frame["id"].dtype == "string"
        for name in times:
            assert str(frame[name].dtype) == "datetime64[us, UTC]", name
        for name in categories:
            assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
        for name in counts:
            assert str(frame[name].dtype) == "Int64", name


def test_runs_of_the_current_api_carry_credential_session_and_api(journal):
    story(journal)
    runs = History([journal]).runs.set_index("id")
    assert list(History([journal]).runs.columns) == RUN_COLUMNS
    assert runs["status"].astype(str).to_dict() == {"trun_1": "completed", "trun_2": "completed", "trun_3": "canceled"}
    assert set(runs["api"]) == {"credentials"} and set(runs["session_id"]) == {"sess_a1"}
    assert set(runs["credential_id"]) == {"cred_a1"} and runs["connection_id"].isna().all()
    assert runs.loc["trun_1", "interactions"] == 1 and runs.loc["trun_1", "attempts"] == 1
    assert runs.loc["trun_1", "runtime_s"] == 8.0 and runs.loc["trun_1", "duration_s"] == 8.0
    statuses = History([journal]).events.query("kind == 'status' and resource_id == 'trun_3'")["status"]
    assert statuses.astype(str).tolist() == ["running", "cancelling", "canceled"]  # one spelling
    outcome = History([journal]).interactions[["resource_id", "type", "outcome"]].astype(str).values.tolist()
    assert outcome == [["trun_1", "mfa", "accepted"]]


def test_summaries_count_review_and_logins_per_run(journal):
    story(journal)
    journal.record([run("trun_4", "review_required", 30, task="task_sim_pay_bill", session="sess_b2")])
    # a session opened by trun_0 before this journal began: trun_5 reused it, so it is no login
    journal.record([run("trun_5", "completed", 40, session="sess_old", result="success")])
    journal.record([{**session("idle", 41, runs=("trun_0", "trun_5")), "id": "sess_old"}])
    h = History([journal])
    summary = h.summary()
    assert {"reviewed", "in_review", "logins_per_run"} <= set(summary.columns)
    pay = summary.loc[("src_sim_power", "task_sim_pay_bill")]
    assert (pay["runs"], pay["reviewed"], pay["in_review"]) == (1, 1, 1)
    # trun_2 reused the session trun_1 opened; trun_4 opened sess_b2
    assert pay["logins_per_run"] == 0.5
    bills = summary.loc[("src_sim_power", "task_sim_bills")]
    assert (bills["runs"], bills["success_rate"], bills["logins_per_run"]) == (
        3,
        pytest.approx(2 / 3),
        pytest.approx(1 / 3),
    )
    reuse = h.session_reuse()
    assert reuse.loc["cred_a1"].to_dict() == {"runs": 5, "sessions": 3, "logins": 2, "logins_per_run": 0.4}
    assert h.sessions.set_index("id")["runs"].to_dict() == {"sess_a1": 3, "sess_b2": 1, "sess_old": 2}


def test_a_failed_review_is_a_failure_reason(journal):
    journal.record([run("trun_9", "review_required", 5, task="task_sim_pay_bill")])
    rejected = {"type": "task", "code": "review_rejected", "message": "The payment was rejected in review"}
    journal.record(
        [run("trun_9", "failed", 7, task="task_sim_pay_bill", created=5, result="failure", errors=[rejected])]
    )
    reasons = History([journal]).failure_reasons()
    assert reasons.to_dict("records") == [{"error_type": "task", "error_code": "review_rejected", "count": 1}]


def test_both_apis_in_one_journal(journal):
    conn = {
        "id": "conn_1",
        "object": "connection",
        "status": "connected",
        "source_id": "src_sim_bank",
        "created_at": at(0),
        "updated_at": at(2),
    }
    seed_run = {**run("trun_s", "completed", 5, result="success"), "connection_id": "conn_1"}
    seed_run.update(credential_id=None, session_id=None)
    journal.record([conn, seed_run, run("trun_c", "completed", 6, result="success")])
    h = History([journal])
    assert h.runs[["id", "api"]].astype(str).values.tolist() == [["trun_s", "connections"], ["trun_c", "credentials"]]
    assert h.connections["id"].tolist() == ["conn_1"] and h.credentials["id"].tolist() == ["cred_a1"]
    assert repr(h) == "<History of 2 runs, 1 connections, 1 credentials, 1 sessions from memory>"


def test_credential_lifecycle_from_events_invalid_then_fixed_by_a_patch(journal):
    journal.record([event("credential.created", credential(), 0)])
    journal.record([event("credential.invalid", credential("invalid", 8), 8)])
    journal.record([event("credential.unverified", credential("unverified", 30), 30)])
    journal.record([event("credential.verified", credential("verified", 45), 45)])
    row = History([journal]).credentials.iloc[0]
    assert row["status"] == "verified" and row["runs"] == 0
    assert (row["invalid_at"], row["verified_at"]) == (pd.Timestamp(at(8)), pd.Timestamp(at(45)))
    journal.record([event("credential.deleted", credential("deleted", 50), 50)])
    assert History([journal]).credentials["status"].tolist() == ["deleted"]


def test_client_models_and_dicts_journal_alike():
    as_dicts, as_models = Journal(), Journal()
    objects = [credential(), run("trun_1", "running", 3), session("idle", 9)]
    as_dicts.record(objects)
    as_models.record([TaskRun.model_validate(objects[1]), *(DeckModel.model_validate(o) for o in objects[::2])])
    for name in ("runs", "credentials", "sessions"):
        pd.testing.assert_frame_equal(History([as_dicts]).frame(name), History([as_models]).frame(name))
    assert History([as_models]).sessions["runs"].tolist() == [1]


def test_unknown_objects_and_statuses_are_carried_or_skipped_never_crashed_on(journal):
    class Broken:
        def to_dict(self):
            raise RuntimeError("not an API object")

    seen = journal.record(
        [
            {"object": "agent", "id": "agt_1"},
            {"object": "task_run"},  # no id
            {"object": "credential", "id": 7},
            42,
            None,
            Broken(),
            {"object": "list", "data": [run("trun_n", "paused_for_audit", 3), {"object": "storage_item"}]},
            {"object": "session", "id": "sess_z", "status": "hibernating", "task_runs": "not-a-list"},
        ]
    )
    journal.on_object(object(), None)
    assert seen == 2
    h = History([journal])
    assert h.runs["status"].astype(str).tolist() == ["paused_for_audit"]
    assert set(h.sessions["id"]) == {"sess_z", "sess_a1"}


def test_server_side_frames_give_the_same_columns_and_dtypes(journal):
    story(journal)
    runs = [
        run("trun_2", "review_required", 14, task="task_sim_pay_bill"),
        run("trun_1", "completed", 9, result="success"),
    ]
    frame = dn.runs_frame({"object": "list", "data": runs, "has_more": False})
    assert frame["id"].tolist() == ["trun_2", "trun_1"]  # the order given
    assert frame.dtypes.astype(str).tolist() == History([journal]).runs.dtypes.astype(str).tolist()
    assert frame["interactions"].isna().all() and frame["attempts"].isna().all()  # only a journal knows
    creds = dn.credentials_frame([DeckModel.model_validate(credential("invalid", 5))])
    assert creds.dtypes.astype(str).tolist() == History([journal]).credentials.dtypes.astype(str).tolist()
    assert (creds["status"].tolist(), creds["invalid_at"].tolist()) == (["invalid"], [pd.Timestamp(at(5))])
    sessions = dn.sessions_frame([session("idle", 9, runs=("trun_1", "trun_2"))])
    assert sessions[["id", "credential_id", "runs"]].values.tolist() == [["sess_a1", "cred_a1", 2]]
    with pytest.raises(TypeError, match="runs_frame takes task runs, not a credential"):
        dn.runs_frame([credential()])


def test_no_password_reaches_the_file_or_the_frames(tmp_path):
    path = tmp_path / "h.sqlite"
    journal = Journal(path)
    secret_cred = credential(auth_credentials={"username": "ada", "password": PASSWORD})
    journal.record([secret_cred, run("trun_1", "interaction_required", 4, interaction=MFA)])
    journal.on_submission("task_run", "trun_1", ("code",), None)
    h = History([journal])
    text = "".join(h.frame(name).astype(str).to_csv() for name in ("runs", "credentials", "sessions", "events"))
    journal.close()
    assert PASSWORD not in text
    assert PASSWORD.encode() not in b"".join(p.read_bytes() for p in tmp_path.iterdir())


OLD_RESOURCES = """CREATE TABLE resources(
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, source_id TEXT, task_id TEXT, connection_id TEXT,
    external_id TEXT, status TEXT, result TEXT, created_at REAL, updated_at REAL, finished_at REAL,
    runtime_ms INTEGER, interactions INTEGER NOT NULL DEFAULT 0, interaction_types TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0, error_type TEXT, error_code TEXT, error_message TEXT,
    first_seen REAL, last_seen REAL)"""


def test_a_history_file_of_an_older_deck_nb_opens_and_takes_new_runs(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(OLD_RESOURCES)
        db.execute(
            "INSERT INTO resources(id, kind, source_id, task_id, connection_id, status, created_at, first_seen)"
            " VALUES ('trun_old', 'task_run', 'src_sim_power', 'task_sim_bills', 'conn_1', 'completed', 1.0, 1.0)"
        )
    db.close()
    journal = Journal(path)
    journal.record([run("trun_new", "completed", 5, result="success")])
    journal.close()
    runs = History.load(path).runs
    assert runs[["id", "api"]].astype(str).values.tolist() == [["trun_old", "connections"], ["trun_new", "credentials"]]
    assert runs["credential_id"].isna().tolist() == [True, False]


# -- end to end: the simulator's current API over loopback HTTP --------------------------------
# (first as raw HTTP, the server's own dicts; then through the client, as a notebook uses it)

ANSWERS = {"mfa": {"code": "123456"}, "security_question": {"answer": "rex"}}


@pytest.mark.deck_simulator(api="credentials")
def test_a_journal_of_the_simulators_current_api(sim):
    import httpx

    http = httpx.Client(base_url=sim.base_url + "/", headers={"Authorization": f"Bearer {sim.api_key}"}, timeout=30)
    journal = Journal()

    def call(method, path, body=None, expect=200):
        response = http.request(method, path, json=body)
        assert response.status_code == expect, response.text
        journal.record([response.json()])
        return response.json()

    def drive(run):
        for _ in range(30):  # bounded: the manual clock moves 1 s a step
            sim.advance(1)
            run = call("GET", f"task-runs/{run['id']}")
            if run["status"] == "interaction_required":
                answer = ANSWERS[run["interaction"]["type"]]
                response = http.post(f"task-runs/{run['id']}/interaction", json={"input": answer})
                assert response.status_code == 200, response.text
                journal.on_submission("task_run", run["id"], tuple(answer), None)  # as the client: first the
                journal.record([response.json()])  # submission (names only), then the object it answered
            elif run["status"] in ("completed", "failed", "canceled", "review_required"):
                return run
        raise AssertionError(f"run still {run['status']}")

    try:
        body = {"source_id": "src_sim_power", "auth_method": "username_password"}
        cred = call("POST", "credentials", {**body, "auth_credentials": {"username": "ada", "password": PASSWORD}}, 201)
        first = call("POST", "tasks/task_sim_bills/run", {"credential_id": cred["id"], "input": {"months": 1}}, 201)
        first = drive(first)
        second = call(
            "POST", "tasks/task_sim_pay_bill/run", {"session_id": first["session_id"], "input": {"amount": 9}}, 201
        )
        assert drive(second)["status"] == "review_required"
        sim.control("POST", f"task-runs/{second['id']}/review", {"decision": "approve"})
        call("GET", f"task-runs/{second['id']}")
        call("GET", f"sessions/{first['session_id']}")
        call("GET", f"credentials/{cred['id']}")
        journal.record([http.get("events", params={"limit": 100}).json()])  # a page of events, taken as is
    finally:
        http.close()
    h = History([journal])
    runs = h.runs.set_index("id")
    assert runs["status"].astype(str).to_dict() == {first["id"]: "completed", second["id"]: "completed"}
    assert set(runs["api"]) == {"credentials"} and set(runs["session_id"]) == {first["session_id"]}
    assert h.credentials[["id", "status", "runs"]].values.tolist() == [[cred["id"], "verified", 2]]
    assert h.sessions[["id", "credential_id", "runs"]].values.tolist() == [[first["session_id"], cred["id"], 2]]
    summary = h.summary()
    assert summary.loc[("src_sim_power", "task_sim_bills"), "logins_per_run"] == 1.0
    pay = summary.loc[("src_sim_power", "task_sim_pay_bill")]
    assert (pay["reviewed"], pay["logins_per_run"]) == (1, 0.0)  # the session was reused: no login
    prompts = h.interactions
    assert set(prompts["resource_id"]) == {first["id"]} and set(prompts["outcome"].astype(str)) == {"accepted"}
    frames = "".join(h.frame(name).astype(str).to_csv() for name in ("runs", "credentials", "sessions", "events"))
    assert PASSWORD not in frames


@pytest.mark.deck_simulator(api="credentials", clock="real", time_scale=0.01, rate_limit="off")
def test_the_clients_current_api_is_journaled_end_to_end(sim):
    from deck_nb.client import Deck

    journal = Journal()
    with Deck(api_key=sim.api_key, base_url=sim.base_url, observers=[journal]) as deck:
        cred = deck.credentials.create("src_sim_power", username="ada", password=PASSWORD)
        first = deck.task_runs.create("task_sim_bills", credential_id=cred.id, input={"months": 1})
        for _ in range(10):  # the login's prompts arrive on the run
            first = deck.task_runs.wait(first.id, timeout=10)
            if first.status != "interaction_required":
                break
            deck.task_runs.submit_interaction(first.id, ANSWERS[first.interaction.type])
        second = deck.task_runs.create("task_sim_pay_bill", session_id=first.session_id, input={"amount": 9})
        assert deck.task_runs.wait(second.id, timeout=10).status == "review_required"
        sim.control("POST", f"task-runs/{second.id}/review", {"decision": "approve"})
        deck.task_runs.wait(second.id, timeout=10)
        deck.sessions.retrieve(first.session_id)
        deck.credentials.retrieve(cred.id)
        server_side = dn.runs_frame(deck.task_runs.list())
    h = History([journal])
    assert h.runs[["id", "status"]].astype(str).values.tolist() == [[first.id, "completed"], [second.id, "completed"]]
    assert set(h.runs["api"]) == {"credentials"} and set(h.runs["session_id"]) == {first.session_id}
    assert h.credentials[["id", "status", "runs"]].values.tolist() == [[cred.id, "verified", 2]]
    assert h.sessions[["id", "credential_id", "runs"]].values.tolist() == [[first.session_id, cred.id, 2]]
    assert h.summary()["reviewed"].sum() == 1 and h.session_reuse()["logins_per_run"].tolist() == [0.5]
    assert set(h.interactions["outcome"].astype(str)) == {"accepted"}
    assert sorted(server_side["id"]) == sorted([first.id, second.id]) and set(server_side["api"]) == {"credentials"}
    assert server_side.dtypes.astype(str).tolist() == h.runs.dtypes.astype(str).tolist()
