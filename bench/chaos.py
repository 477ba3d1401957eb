"""bench chaos: reliability under faults and load.

1. A batch of 500 task runs, each with an interaction (Cloud Mobile's step-up MFA), first on a clean
   simulator, then with 10 % injected 500s, 5 % 429s, 2 % dropped connections and 50 ± 25 ms latency:
   runs requested / created / completed / recorded, retries, unhandled errors, same outcomes.
2. Load: 200 concurrent HTTP connections creating 1,000 runs: p50 / p99 latency and errors.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
from _common import report, simulator_process

RUNS = 500
FAULTS = {"error_rate": 0.10, "rate_limit_rate": 0.05, "drop_rate": 0.02, "latency_ms": 50, "latency_jitter_ms": 25}


def control(base: str, key: str, method: str, path: str, body=None) -> dict:
    root = base.removesuffix("/v2")
    return httpx.request(
        method, f"{root}/_sim/{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ).json()


def batch(dn, deck, conn, journal) -> tuple[list[str], object, float]:
    items = [dn.RunTask("task_sim_usage", conn, {"days": 1}) for _ in range(RUNS)]
    started = time.perf_counter()
    result = dn.run_many_sync(items, respond={"code": "123456"}, deck=deck, concurrency=100, poll_interval=0.5)
    return [o.status for o in result], result, time.perf_counter() - started


def faults_part(base: str, key: str) -> dict:
    import deck_nb as dn
    from deck_nb.history import History, Journal

    journal = Journal()
    deck = dn.Deck(api_key=key, base_url=base, observers=[journal], rate_limit=None)  # the simulator has none
    conn = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(60)
    clean, _, clean_s = batch(dn, deck, conn, journal)
    created_before = control(base, key, "GET", "stats")["task_runs_created"]
    control(base, key, "POST", "faults", {**FAULTS, "seed": 11})
    faulty, result, faulty_s = batch(dn, deck, conn, journal)
    stats = control(base, key, "GET", "stats")
    control(base, key, "DELETE", "faults")
    runs = History([journal]).runs
    faulty_ids = {o.run.id for o in result if o.run is not None and o.run.id}
    recorded = runs[runs["id"].isin(faulty_ids)]
    terminal = recorded["status"].isin(["completed", "failed", "canceled"]).sum()
    return {
        "requested": RUNS,
        "created": stats["task_runs_created"] - created_before,
        "completed": faulty.count("completed"),
        "recorded_terminal": int(terminal),
        "retries": result.retries,
        "unhandled": sum(o.error is not None for o in result),
        "same_outcomes": sorted(clean) == sorted(faulty),
        "faults_injected": stats["faults_injected"],
        "clean_s": round(clean_s, 1),
        "faulty_s": round(faulty_s, 1),
    }


async def load_part(base: str, key: str) -> dict:
    """200 clients, one keep-alive connection each (httpx's pool gets slow far past 100 connections in one
    client; separate clients keep the load generator from being what is measured)."""
    headers = {"Authorization": f"Bearer {key}"}
    latencies: list[float] = []
    errors = 0
    clients = [
        httpx.AsyncClient(base_url=base + "/", headers=headers, timeout=60, limits=httpx.Limits(max_connections=1))
        for _ in range(200)
    ]
    try:
        conns = await asyncio.gather(
            *(
                c.post(
                    "connections",
                    json={"source_id": "src_sim_mobile", "auth_credentials": {"username": f"load{i}", "password": "p"}},
                )
                for i, c in enumerate(clients)
            )
        )
        ids = [c.json()["id"] for c in conns]
        await asyncio.sleep(0.5)  # connecting takes 2 s × 0.2

        async def five_runs(i: int) -> None:
            nonlocal errors
            for _ in range(5):
                started = time.perf_counter()
                response = await clients[i].post("tasks/task_sim_usage/run", json={"connection_id": ids[i]})
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 201

        await asyncio.gather(*(five_runs(i) for i in range(200)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "errors": errors,
        "connections": len(clients),
        "runs": len(latencies),
    }


def main() -> None:
    # time scale 0.2: MFA windows of 24 s, so retried and paced answers still land in time
    with simulator_process("--time-scale", "0.2", "--rate-limit", "off") as (base, key):
        faults = faults_part(base, key)
        load = asyncio.run(load_part(base, key))
    ok = (
        faults["created"] == faults["requested"] == faults["completed"] == faults["recorded_terminal"]
        and faults["unhandled"] == 0
        and faults["same_outcomes"]
        and load["errors"] == 0
    )
    report(
        "chaos",
        faults["completed"],
        faults["requested"],
        "runs completed under faults",
        "all requested = created = completed = recorded, 0 unhandled; load 0 errors",
        ok,
        **faults,
        load_p50_ms=load["p50_ms"],
        load_p99_ms=load["p99_ms"],
        load_errors=load["errors"],
        load_connections=load["connections"],
        load_runs=load["runs"],
    )


if __name__ == "__main__":
    main()
