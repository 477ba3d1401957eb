"""bench flow: 200 connect-with-MFA + task-run flows through deck_nb vs the best raw-httpx script for
the same job: one that follows the event feed (``GET /v2/events``, one request per tick for all
flows) as deck_nb does, not one that polls each resource. Same concurrency, same tick, the same
connection pool limits. Each side runs on a freshly reset simulator, alternating, best of three. Both
speak the seed's API (connections): the floor is written for it, and the same work must be measured on
both sides. Prints the wall-time ratio and the requests per flow of both, and the client CPU time per
flow of both (``time.process_time``, the simulator runs in its own process): on a shared machine the
steadier figure of what deck_nb's own work costs."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import httpx
from _common import control, report, simulator_process

FLOWS = int(__import__("os").environ.get("BENCH_FLOWS", 200))
CONCURRENCY = 20
POLL_S = 0.05
TIME_SCALE = "0.05"  # phases of 100 ms, interaction windows of 6 s (room for a busy machine: 2.4 s at 0.02 was missed)
REPEAT = 3


async def raw_flows(base: str, key: str) -> tuple[float, int, int, float, list[str]]:
    """The floor: what a careful person writes by hand with httpx — flows wait on one shared event-feed
    follower (no retries, no history, no pacing)."""
    requests = polls = 0
    gate = asyncio.Semaphore(CONCURRENCY)
    latest: dict[str, dict] = {}
    wakers: dict[str, asyncio.Event] = {}
    async with httpx.AsyncClient(
        base_url=base + "/",
        headers={"Authorization": f"Bearer {key}"},
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),  # deck_nb's pool
    ) as http:

        async def call(method: str, path: str, body=None, params=None) -> dict:
            nonlocal requests
            requests += 1
            response = await http.request(method, path, json=body, params=params)
            response.raise_for_status()
            return response.json()

        async def follow(since: str) -> None:
            """One GET /v2/events per tick (pages followed); ties re-read 1 µs back, deduped by id."""
            nonlocal polls
            seen: set[str] = set()
            newest = datetime.fromisoformat(since.replace("Z", "+00:00"))
            while True:
                after = (newest - timedelta(microseconds=1)).isoformat().replace("+00:00", "Z")
                params: dict = {"limit": 100, "created_after": after}
                while True:
                    page = await call("GET", "events", params=params)
                    for event in page["data"]:
                        if event["id"] in seen:
                            continue
                        seen.add(event["id"])
                        newest = max(newest, datetime.fromisoformat(event["created_at"].replace("Z", "+00:00")))
                        obj = event["data"]
                        latest[obj["id"]] = obj
                        if obj["id"] in wakers:
                            wakers[obj["id"]].set()
                    if not page["has_more"]:
                        break
                    params = {"limit": 100, "created_after": after, "cursor": page["next_cursor"]}
                polls += 1
                await asyncio.sleep(POLL_S)

        async def until(obj: dict, statuses: set[str]) -> dict:
            waker = wakers.setdefault(obj["id"], asyncio.Event())
            async with asyncio.timeout(60):
                while latest.get(obj["id"], obj)["status"] not in statuses:
                    if follower.done():
                        follower.result()  # the feed follower failed: say why
                    waker.clear()
                    try:
                        async with asyncio.timeout(1):
                            await waker.wait()
                    except TimeoutError:
                        pass
            return latest[obj["id"]]

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
                await until(conn, {"interaction_required"})
                await call("POST", f"connections/{conn['id']}/interaction", {"inputs": {"code": "123456"}})
                await until(conn, {"connected"})
                run = await call(
                    "POST", "tasks/task_sim_bills/run", {"connection_id": conn["id"], "input": {"months": 1}}
                )
                await until(run, {"completed"})

        started, cpu = time.perf_counter(), time.process_time()
        now = control(base, key, "GET", "config")["now"]
        follower = asyncio.ensure_future(follow(now))
        try:
            outcomes = await asyncio.gather(*(flow(i) for i in range(FLOWS)), return_exceptions=True)
        finally:
            follower.cancel()
        failed = [type(o).__name__ for o in outcomes if isinstance(o, BaseException)]
        return time.perf_counter() - started, requests, polls, time.process_time() - cpu, failed


def deck_nb_flows(base: str, key: str) -> tuple[float, int, int, float, list[str]]:
    import deck_nb as dn

    # the same work as the floor: the seed's API (connections); auto-detection would pick the current
    # API against the simulator's default ``both`` (a stored credential, the login on the run: other requests)
    deck = dn.Deck(api_key=key, base_url=base, rate_limit=None, api="connections")
    items = [
        dn.Pull("src_sim_power", f"u{i}", "p", task_id="task_sim_bills", input={"months": 1}) for i in range(FLOWS)
    ]
    started, cpu = time.perf_counter(), time.process_time()
    result = dn.run_many_sync(
        items, respond={"code": "123456"}, deck=deck, concurrency=CONCURRENCY, poll_interval=POLL_S
    )
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    deck.close()
    failed = [o.status for o in result if not o.ok]
    return elapsed, result.requests, result.event_polls, cpu, failed


def main() -> None:
    raws, ours = [], []
    with simulator_process("--time-scale", TIME_SCALE, "--rate-limit", "off") as (base, key):
        for _ in range(REPEAT):
            control(base, key, "POST", "reset")
            raws.append(asyncio.run(raw_flows(base, key)))
            control(base, key, "POST", "reset")
            ours.append(deck_nb_flows(base, key))
            print(f"  raw {raws[-1][0]:.2f} s, deck_nb {ours[-1][0]:.2f} s", flush=True)
    raw_s, raw_requests, raw_polls, _, _ = min(raws)
    raw_failed = [kind for run in raws for kind in run[4]]
    ours_s, our_requests, our_polls, _, _ = min(ours)
    failed = [status for run in ours for status in run[4]]
    ratio = ours_s / raw_s
    per_raw, per_ours = raw_requests / FLOWS, our_requests / FLOWS
    # the feed is polled once per tick while flows wait, so its share of the requests grows with the run's
    # length: the flows' own requests and the feed's polls per second are compared apart
    own_raw, own_ours = (raw_requests - raw_polls) / FLOWS, (our_requests - our_polls) / FLOWS
    rate_raw, rate_ours = raw_polls / raw_s, our_polls / ours_s
    # CPU: the least of each side's runs (a busy neighbour only ever adds to it)
    cpu_raw, cpu_ours = (min(run[3] for run in runs) / FLOWS * 1000 for runs in (raws, ours))
    report(
        "flow",
        ratio,
        1.0,
        "× raw wall time",
        "≤ 1.05 × wall; the flows' own requests and the feed polls per second ≤ the floor's",
        ratio <= 1.05 and own_ours <= own_raw and rate_ours <= rate_raw and not failed,
        label=f"flow: {FLOWS} connect-with-MFA + run flows, {CONCURRENCY} at a time, {POLL_S:g} s tick, "
        f"time scale {TIME_SCALE}",
        figure_text=f"{ratio:.2f} × ({ours_s:.2f} s); {per_ours:.2f} requests per flow "
        f"({own_ours:.2f} + feed {rate_ours:.1f} polls/s); "
        f"client CPU {cpu_ours:.1f} ms per flow ({cpu_ours / cpu_raw:.2f} ×)",
        floor_text=f"raw httpx following the event feed: {raw_s:.2f} s, {per_raw:.2f} requests per flow "
        f"({own_raw:.2f} + feed {rate_raw:.1f} polls/s), "
        f"{cpu_raw:.1f} ms CPU per flow",
        deck_nb_s=[round(r[0], 2) for r in ours],
        raw_s=[round(r[0], 2) for r in raws],
        requests_per_flow_deck_nb=round(per_ours, 2),
        requests_per_flow_raw=round(per_raw, 2),
        event_polls_deck_nb=our_polls,
        event_polls_raw=raw_polls,
        deck_nb_flows_failed=failed,
        raw_flows_failed=raw_failed,  # a failed raw flow makes the floor look faster: shown, not hidden
        client_cpu_ms_per_flow_deck_nb=round(cpu_ours, 2),  # where the time goes: deck_nb's own work
        client_cpu_ms_per_flow_raw=round(cpu_raw, 2),
        client_cpu_ratio=round(cpu_ours / cpu_raw, 3),
    )


if __name__ == "__main__":
    main()
