"""bench chaos: reliability under faults and load.

1. Batches of 500 task runs, each with an interaction (Cloud Mobile's step-up MFA), through a small
   hostile proxy in front of the simulator (``_hostile.py``):
   - clean;
   - faults: 10 % injected 500s, 5 % 429s, 2 % dropped connections and 50 ± 25 ms latency;
   - hostile: the event feed answering 503 for 15 s from 2 s in, and 1 % of responses trickling one
     byte every 0.5 s, with a client of ``timeout=10, deadline=30``.
   Each prints runs requested / created / completed / recorded (terminal in the history), retries,
   unhandled errors and hangs. Every batch runs with ``timeout=None`` (what analysts leave running)
   inside a watchdog: a hang is a run not finished when its batch's bound is reached (a batch that has
   not returned by then gave none of its runs an outcome: those not completed in the history count).
2. Load: 200 concurrent HTTP connections creating 1,000 runs: p50 / p99 latency and errors.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import threading
import time
from collections import Counter

import httpx
from _common import control, report, simulator_process
from _hostile import HostileProxy

RUNS = int(os.environ.get("BENCH_CHAOS_RUNS", 500))
API = "connections"
FAULTS = {"error_rate": 0.10, "rate_limit_rate": 0.05, "drop_rate": 0.02, "latency_ms": 50, "latency_jitter_ms": 25}
OUTAGE_AFTER_S, OUTAGE_S = 2.0, 15.0
TRICKLE_RATE = 0.01
HOSTILE_CLIENT = {"timeout": 10, "deadline": 30}  # a trickle is cut well inside a 24 s answer window
BOUND_S = float(os.environ.get("BENCH_CHAOS_BOUND", 240))  # a batch still running after this has hung runs
TERMINAL = ["completed", "failed", "canceled"]


def _kind(error: str) -> str:
    """An outcome's error, short enough to count (its first line, cut)."""
    return str(error).splitlines()[0][:90]


def _top_errors(result) -> dict[str, int]:
    return dict(Counter(_kind(o.error) for o in result if o.error).most_common(3))


def bounded(fn, bound: float):
    """``fn()`` on a daemon thread; its result, or None if it has not returned within ``bound`` seconds."""
    box: list = []
    worker = threading.Thread(target=lambda: box.append(fn()), daemon=True)
    worker.start()
    worker.join(bound)
    return box[0] if box else None


class Batches:
    def __init__(self, dn, journal, conn, base: str, key: str) -> None:
        self.dn, self.journal, self.conn, self.base, self.key = dn, journal, conn, base, key

    def recorded_ids(self) -> set[str]:
        from deck_nb.history import History

        return set(History([self.journal]).runs["id"])

    def run(self, deck, name: str, during=None) -> dict:
        """One batch of RUNS; its counts beside the simulator's and the history's."""
        dn = self.dn
        items = [dn.RunTask("task_sim_usage", self.conn, {"days": 1}) for _ in range(RUNS)]
        created_before = control(self.base, self.key, "GET", "stats")["task_runs_created"]
        known = self.recorded_ids()
        started = time.perf_counter()
        if during is not None:
            during()
        result = bounded(
            lambda: dn.run_many_sync(items, respond={"code": "123456"}, deck=deck, concurrency=100, poll_interval=0.5),
            BOUND_S,
        )
        elapsed = time.perf_counter() - started
        from deck_nb.history import History

        done = None if result is None else [o.status for o in result]
        runs = History([self.journal]).runs
        mine = runs[~runs["id"].isin(known)]
        terminal = int(mine["status"].isin(TERMINAL).sum())
        created = control(self.base, self.key, "GET", "stats")["task_runs_created"] - created_before
        return {
            "batch": name,
            "requested": RUNS,
            "created": created,
            "completed": sum(o.status == "completed" for o in result)
            if result
            else int((mine["status"] == "completed").sum()),
            "recorded": terminal,
            "returned": result is not None,  # the batch call itself ended within its bound
            "hangs": 0 if result is not None else RUNS - int((mine["status"] == "completed").sum()),
            "unhandled": None if result is None else sum(o.error is not None for o in result),
            "retries": None if result is None else result.retries,
            "statuses": None if done is None else sorted(done),
            "outcomes": None if done is None else dict(Counter(done)),
            "errors": None if result is None else _top_errors(result),
            "seconds": round(elapsed, 1),
        }


def faults_part(base: str, key: str) -> list[dict]:
    import deck_nb as dn
    from deck_nb.history import Journal

    proxy = HostileProxy(base.removesuffix("/v2")).start()
    try:
        journal = Journal()
        # the seed's API: its runs on one connection go at once (on the current API one credential's
        # runs share one session in turn, and 500 of them would measure that, not the faults)
        deck = dn.Deck(api_key=key, base_url=proxy.base_url, observers=[journal], rate_limit=None, api=API)
        conn = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(60)
        batches = Batches(dn, journal, conn, base, key)
        clean = batches.run(deck, "clean")
        control(base, key, "POST", "faults", {**FAULTS, "seed": 11})
        faults = batches.run(deck, "faults")
        faults["faults_injected"] = control(base, key, "GET", "stats")["faults_injected"]
        control(base, key, "DELETE", "faults")
        hostile_deck = dn.Deck(
            api_key=key, base_url=proxy.base_url, observers=[journal], rate_limit=None, api=API, **HOSTILE_CLIENT
        )

        def storm() -> None:
            proxy.trickle(TRICKLE_RATE)
            threading.Timer(OUTAGE_AFTER_S, proxy.feed_outage, [OUTAGE_S]).start()

        hostile = batches.run(hostile_deck, "feed outage + trickle", during=storm)
        proxy.calm()
        hostile["proxy"] = dict(proxy.counts)
    finally:
        proxy.stop()
    for batch in (faults, hostile):
        batch["same_outcomes_as_clean"] = batch.pop("statuses") == clean["statuses"] if clean["statuses"] else None
    clean.pop("statuses")
    return [clean, faults, hostile]


def whole(batch: dict) -> bool:
    """requested = created = completed = recorded, nothing unhandled, no hang, same outcomes as clean."""
    return (
        batch["returned"]
        and batch["requested"] == batch["created"] == batch["completed"] == batch["recorded"]
        and batch["unhandled"] == 0
        and batch["hangs"] == 0
        and batch.get("same_outcomes_as_clean", True) is not False
    )


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
        load = asyncio.run(load_part(base, key))  # first: a hung batch's thread would load the machine
        control(base, key, "POST", "reset")
        batches = faults_part(base, key)
    ok = all(whole(b) for b in batches) and load["errors"] == 0
    clean, faults, hostile = batches

    def line(b: dict) -> str:
        counts = (
            f"{b['requested']} requested / {b['created']} created / {b['completed']} completed / "
            f"{b['recorded']} recorded"
        )
        if not b["returned"]:
            return f"{counts}; the batch had not returned after {BOUND_S:g} s ({b['hangs']} runs without an outcome)"
        return f"{counts}, {b['unhandled']} unhandled, {b['hangs']} hangs"

    report(
        "chaos",
        faults["completed"] + hostile["completed"],
        2 * RUNS,
        "runs completed under faults",
        "requested = created = completed = recorded, 0 unhandled, 0 hangs; load 0 errors",
        ok,
        label=f"chaos: {RUNS} runs under 10 % 500s, 5 % 429s, 2 % drops, 50±25 ms; {RUNS} under a {OUTAGE_S:g} s "
        f"event-feed outage + {TRICKLE_RATE:.0%} trickling responses",
        figure_text=f"faults: {line(faults)}, {faults['retries']} retries; outage + trickle: {line(hostile)}; "
        f"load: 200 connections, 1,000 runs, p50 {load['p50_ms']:g} ms, p99 {load['p99_ms']:g} ms, "
        f"{load['errors']} errors",
        floor_text=f"a clean run ({clean['completed']} completed)",
        **{f"{b['batch']}": {k: v for k, v in b.items() if k != "batch"} for b in batches},
        load=load,
    )
    if any(b["hangs"] for b in batches):
        sys.stdout.flush()
        os._exit(1)  # a hung batch leaves its thread behind: do not wait for it


if __name__ == "__main__":
    main()
