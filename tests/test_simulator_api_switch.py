"""One simulator, two APIs: `--api both` shares one world between connections and credentials;
`--api connections` and `--api credentials` each answer the other's paths with 404 not_found."""

from __future__ import annotations

import pytest
from helpers import CurrentApi, error_of

from deck_nb.simulator import start


@pytest.fixture
def cur(sim):
    client = CurrentApi(sim)
    yield client
    client.http.close()


def _not_found(response) -> bool:
    return (
        response.status_code == 404
        and error_of(response)["type"] == "request"
        and (error_of(response)["code"] == "not_found")
    )


@pytest.mark.deck_simulator(clock="manual", rate_limit="off", api="connections")
def test_connections_only_hides_credentials_and_sessions(cur, sim):
    assert sim.api == "connections" and sim.control("GET", "config")["api"] == "connections"
    assert _not_found(cur.get("credentials", limit=1))  # what a client's detection asks
    assert _not_found(cur.post("credentials", {"source_id": "src_sim_power"}))
    assert _not_found(cur.get("credentials/cred_x"))
    assert _not_found(cur.patch("cred_x", {"external_id": "x"}))
    assert _not_found(cur.request_delete("cred_x"))
    assert _not_found(cur.get("sessions/sess_x"))
    assert _not_found(cur.post("sessions/sess_x/end"))
    for body in ({"credential_id": "cred_x"}, {"session_id": "sess_x"}):
        refused = cur.post("tasks/task_sim_bills/run", body)
        assert refused.status_code == 400 and error_of(refused)["code"] == "input_missing"
        assert error_of(refused)["field"] == "connection_id"
    conn = cur.connected("src_sim_power")
    run = cur.start_run("task_sim_bills", conn["id"])
    cur.advance(4)
    assert cur.run(run["id"])["status"] == "completed"


@pytest.mark.deck_simulator(clock="manual", rate_limit="off", api="credentials")
def test_credentials_only_hides_connections(cur, sim):
    assert sim.api == "credentials"
    assert _not_found(cur.get("connections"))
    assert _not_found(cur.post("connections", {"source_id": "src_sim_power"}))
    assert _not_found(cur.get("connections/conn_x"))
    assert _not_found(cur.post("connections/conn_x/interaction", {"inputs": {}}))
    assert _not_found(cur.post("connections/conn_x/disconnect"))
    refused = cur.post("tasks/task_sim_bills/run", {"connection_id": "conn_x"})
    assert refused.status_code == 400 and error_of(refused)["code"] == "input_missing"
    assert error_of(refused)["field"] == "credential_id"
    assert "connection_id" not in error_of(refused)["message"]
    assert cur.ok(cur.get("credentials", limit=1))["data"] == []
    run = cur.start("task_sim_bills", credential_id=cur.store("src_sim_power")["id"])
    assert cur.log_in(run["id"])["status"] == "running"


def test_both_apis_share_one_world(cur, sim):
    assert sim.api == "both" and sim.control("GET", "config")["session_limit"] == 25
    assert cur.ok(cur.get("credentials", limit=1))["data"] == []  # detection picks the current API
    conn = cur.connected("src_sim_power")
    seed = cur.start_run("task_sim_bills", conn["id"], {"months": 1})
    cred = cur.store("src_sim_power")
    current = cur.start("task_sim_bills", {"months": 1}, credential_id=cred["id"])
    assert (seed["credential_id"], seed["session_id"]) == (None, None)
    assert current["connection_id"] is None and current["session_id"].startswith("sess_")
    cur.log_in(current["id"])
    cur.advance(3)
    listed = cur.ok(cur.get("task-runs"))["data"]
    assert [r["id"] for r in listed] == [seed["id"], current["id"]]
    assert {r["status"] for r in listed} == {"completed"}
    types = cur.event_types()
    assert "connection.connected" in types and "credential.verified" in types and "session.idle" in types
    mixed = cur.post("tasks/task_sim_bills/run", {"connection_id": conn["id"], "credential_id": cred["id"]})
    assert mixed.status_code == 400 and error_of(mixed)["code"] == "input_invalid"
    assert error_of(mixed)["field"] == "connection_id"
    stats = sim.stats()
    assert (stats["connections_created"], stats["credentials_created"], stats["task_runs_created"]) == (1, 1, 2)
    assert stats["statuses"]["sessions"] == {"idle": 1} and stats["statuses"]["credentials"] == {"verified": 1}


def test_start_refuses_unknown_options():
    with pytest.raises(ValueError, match="api"):
        start(api="graphql")
    with pytest.raises(ValueError, match="session limit"):
        start(session_limit="many")
    with pytest.raises(ValueError, match="session limit"):
        start(session_limit=0)


@pytest.mark.deck_simulator(clock="manual", rate_limit="4/10s")
def test_both_apis_count_against_one_rate_limit_and_one_fault_setting(cur, sim):
    assert cur.get("credentials").status_code == 200
    assert cur.get("connections").status_code == 200
    assert cur.get("sessions/sess_x").status_code == 404
    assert cur.get("task-runs").status_code == 200
    refused = cur.get("credentials")
    assert refused.status_code == 429 and error_of(refused)["code"] == "rate_limit_exceeded"
    assert cur.get("connections").status_code == 429
    sim.reset()
    sim.set_faults(error_rate=1.0)
    for path in ("credentials", "connections"):
        failed = cur.get(path)
        assert failed.status_code == 500 and error_of(failed)["code"] == "api_error"
