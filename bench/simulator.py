"""bench simulator: requests per second on ``GET /v2/task-runs/{id}`` vs a hello-world route on the
same server stack (Starlette + uvicorn, one process each); the load comes from another process."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import time

import httpx
from _common import READY, report, simulator_process

REQUESTS = int(__import__("os").environ.get("BENCH_SIM_REQUESTS", 4000))
CONCURRENCY = 32
HELLO = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from deck_nb._serve import ServerThread  # the very server setup the simulator uses


async def hello(request):
    return JSONResponse({"hello": "world"})


server = ServerThread(Starlette(routes=[Route("/hello", hello)]), host="127.0.0.1", port=0).start()
print(f"ready at {server.root_url} — API key none", flush=True)
server.join(3600)
"""


async def load(url: str, headers: dict[str, str]) -> float:
    async with httpx.AsyncClient(headers=headers, limits=httpx.Limits(max_connections=CONCURRENCY)) as client:
        for _ in range(50):  # warm up connections
            (await client.get(url)).raise_for_status()
        queue = iter(range(REQUESTS))

        async def worker() -> None:
            for _ in queue:
                (await client.get(url)).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return REQUESTS / (time.perf_counter() - started)


def wrk_rps(url: str, headers: dict[str, str]) -> float:
    args = ["wrk", "-t1", f"-c{CONCURRENCY}", "-d4s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def best_rps(url: str, headers: dict[str, str]) -> float:
    """wrk (Debian's package) when present — a C load generator cannot be the bottleneck — else httpx."""
    if shutil.which("wrk"):
        return max(wrk_rps(url, headers) for _ in range(2))
    return max(asyncio.run(load(url, headers)) for _ in range(2))


def main() -> None:
    with simulator_process("--rate-limit", "off", "--clock", "manual") as (base, key):
        headers = {"Authorization": f"Bearer {key}"}
        conn = httpx.post(
            f"{base}/connections",
            headers=headers,
            json={"source_id": "src_sim_mobile", "auth_credentials": {"username": "a", "password": "p"}},
        ).json()
        httpx.post(f"{base.removesuffix('/v2')}/_sim/clock/advance", headers=headers, json={"seconds": 2})
        run = httpx.post(f"{base}/tasks/task_sim_bills/run", headers=headers, json={"connection_id": conn["id"]}).json()
        ours = best_rps(f"{base}/task-runs/{run['id']}", headers)
    hello = subprocess.Popen([sys.executable, "-c", HELLO], stdout=subprocess.PIPE, text=True)
    try:
        root = READY.search(hello.stdout.readline()).group(1)
        floor = best_rps(f"{root}/hello", {})
    finally:
        hello.terminate()
        hello.wait(10)
    share = ours / floor
    report(
        "simulator",
        share,
        1.0,
        "× hello-world req/s",
        "≥ 0.5",
        share >= 0.5,
        label="simulator: `GET /v2/task-runs/{id}`",
        figure_text=f"{ours:,.0f} req/s ({share:.2f} ×)",
        floor_text=f"hello-world route, same stack ({floor:,.0f} req/s, {'wrk' if shutil.which('wrk') else 'httpx'})",
        task_run_rps=round(ours),
        hello_world_rps=round(floor),
        load_generator="wrk" if shutil.which("wrk") else "httpx",
    )


if __name__ == "__main__":
    main()
