"""bench flow: 200 connect-with-MFA + task-run flows through deck_nb vs a minimal raw-httpx script
doing the same flow (same concurrency, same poll interval). Prints the wall-time ratio and the
requests per flow of both."""

from __future__ import annotations

import asyncio
import time

import httpx
from _common import report, simulator_process

FLOWS = 200
CONCURRENCY = 20
POLL_S = 0.05


async def raw_flows(base: str, key: str) -> tuple[float, int]:
    """The floor: what a careful person writes by hand with httpx (no retries, no history)."""
    requests = 0
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=base + "/", headers={"Authorization": f"Bearer {key}"}, limits=httpx.Limits(max_connections=100)
    ) as http:

        async def call(method: str, path: str, body=None) -> dict:
            nonlocal requests
            requests += 1
            response = await http.request(method, path, json=body)
            response.raise_for_status()
            return response.json()

        async def until(path: str, statuses: set[str]) -> dict:
            while (obj := await call("GET", path))["status"] not in statuses:
                await asyncio.sleep(POLL_S)
            return obj

        async def flow(i: int) -> None:
            async with gate:
                conn = await call(
                    "POST",
                    "connections",
                    {
                        "source_id": "src_sim_power",
                        "auth_method": "username_password",
                        "auth_credentials": {"username": f"u{i}", "password": "p"},
                    },
                )
                await until(f"connections/{conn['id']}", {"interaction_required"})
                await call("POST", f"connections/{conn['id']}/interaction", {"inputs": {"code": "123456"}})
                await until(f"connections/{conn['id']}", {"connected"})
                run = await call(
                    "POST", "tasks/task_sim_bills/run", {"connection_id": conn["id"], "input": {"months": 1}}
                )
                await until(f"task-runs/{run['id']}", {"completed"})

        started = time.perf_counter()
        await asyncio.gather(*(flow(i) for i in range(FLOWS)))
        return time.perf_counter() - started, requests


def deck_nb_flows(base: str, key: str) -> tuple[float, int, int]:
    import deck_nb as dn

    deck = dn.Deck(api_key=key, base_url=base, rate_limit=None)
    items = [
        dn.Pull("src_sim_power", f"u{i}", "p", task_id="task_sim_bills", input={"months": 1}) for i in range(FLOWS)
    ]
    started = time.perf_counter()
    result = dn.run_many_sync(
        items, respond={"code": "123456"}, deck=deck, concurrency=CONCURRENCY, poll_interval=POLL_S
    )
    elapsed = time.perf_counter() - started
    assert all(o.ok for o in result), result.frame["status"].value_counts()
    return elapsed, result.requests, sum(o.ok for o in result)


def main() -> None:
    with simulator_process("--time-scale", "0.01", "--rate-limit", "off") as (base, key):
        raw_s, raw_requests = asyncio.run(raw_flows(base, key))
        ours_s, our_requests, ok = deck_nb_flows(base, key)
    ratio = ours_s / raw_s
    per_raw, per_ours = raw_requests / FLOWS, our_requests / FLOWS
    report(
        "flow",
        ratio,
        1.0,
        "× raw wall time",
        "≤ 1.15 and requests ≤ raw + 10 %",
        ratio <= 1.15 and per_ours <= per_raw * 1.10,
        deck_nb_s=round(ours_s, 2),
        raw_s=round(raw_s, 2),
        requests_per_flow_deck_nb=round(per_ours, 2),
        requests_per_flow_raw=round(per_raw, 2),
        flows_ok=ok,
    )


if __name__ == "__main__":
    main()
