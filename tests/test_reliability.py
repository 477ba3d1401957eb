"""Faults and load: a batch keeps working through 500s, 429s, dropped connections and latency,
creates exactly what was asked, and ends with the same outcomes as without faults."""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest

import deck_nb as dn
from deck_nb.history import History, Journal

FAULTS = {"error_rate": 0.10, "rate_limit_rate": 0.05, "drop_rate": 0.02, "latency_ms": 50, "latency_jitter_ms": 25}


@pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.2, rate_limit="off")
def test_a_batch_under_faults_matches_a_clean_batch_exactly(sim):
    journal = Journal()
    deck = dn.Deck(api_key=sim.api_key, base_url=sim.base_url, observers=[journal], rate_limit=None)
    conn = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(30)

    def batch():
        items = [dn.RunTask("task_sim_usage", conn, {"days": 1}) for _ in range(40)]
        items.append(dn.RunTask("task_sim_bills", conn, {"fail_with": "source_error"}))  # an expected failure
        return dn.run_many_sync(items, respond={"code": "123456"}, deck=deck, concurrency=41, poll_interval=0.2)

    clean = batch()
    created_before = sim.stats()["task_runs_created"]
    sim.set_faults(**FAULTS, seed=3)
    faulty = batch()
    stats = sim.stats()
    sim.set_faults()
    assert stats["task_runs_created"] - created_before == 41  # idempotency keys reused on every retry
    assert [o.status for o in faulty] == [o.status for o in clean] == ["completed"] * 40 + ["failed"]
    assert all(o.error is None for o in faulty)  # nothing unhandled
    assert faulty.retries > 0 and sum(stats["faults_injected"].values()) > 0
    runs = History([journal]).runs.set_index("id")
    for outcome in faulty:
        assert runs.loc[outcome.run.id, "status"] == outcome.status  # every run terminal in the history


@pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.2, rate_limit="off")
def test_the_simulator_holds_200_concurrent_connections_and_1000_runs(sim):
    async def load():
        headers = {"Authorization": f"Bearer {sim.api_key}"}
        clients = [
            httpx.AsyncClient(
                base_url=sim.base_url + "/", headers=headers, timeout=60, limits=httpx.Limits(max_connections=1)
            )
            for _ in range(200)
        ]
        latencies, statuses = [], []
        try:
            conns = await asyncio.gather(
                *(
                    c.post(
                        "connections",
                        json={
                            "source_id": "src_sim_mobile",
                            "auth_credentials": {"username": f"l{i}", "password": "p"},
                        },
                    )
                    for i, c in enumerate(clients)
                )
            )
            ids = [c.json()["id"] for c in conns]
            await asyncio.sleep(0.6)

            async def five(i):
                for _ in range(5):
                    started = time.perf_counter()
                    response = await clients[i].post("tasks/task_sim_usage/run", json={"connection_id": ids[i]})
                    latencies.append(time.perf_counter() - started)
                    statuses.append(response.status_code)

            await asyncio.gather(*(five(i) for i in range(200)))
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))
        return latencies, statuses

    latencies, statuses = asyncio.run(load())
    assert statuses == [201] * 1000
    assert sim.stats()["task_runs_created"] == 1000
    print(f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {sorted(latencies)[989] * 1000:.0f} ms")


def test_simulator_binds_loopback_by_default(sim):
    assert sim.host == "127.0.0.1" and sim.base_url.startswith("http://127.0.0.1:")
