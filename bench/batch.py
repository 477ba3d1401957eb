"""bench batch: 600 task runs needing one interaction each (Cloud Mobile's step-up MFA) under the
simulator's rate limit (200 / 10 s), answers from a responder.

The ceiling is the steady one: with 2 requests per run at least (create and submit), 200 / 10 s
allows 10 runs/s once the window is full. A batch that starts with an empty window goes faster at
first, so the figure is measured over a steady stretch only — from two windows after the start to
the moment the last run is created (after that the batch drains) — from the simulator's own counts
(``/_sim/stats``, sampled; control routes do not count against the limit). Also printed: requests
per run, event polls and the 429s absorbed and reaching the caller.

``--api`` chooses which API the runs go through: ``connections`` (the seed's API) is the only one
today; another API adds one entry to ``APIS`` (its setup and items) and its own extra figures.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from _common import report, simulator_process

RUNS = int(os.environ.get("BENCH_BATCH_RUNS", 600))
LIMIT, WINDOW = (float(x) for x in os.environ.get("BENCH_BATCH_LIMIT", "200/10").split("/"))  # smaller to try it out
LIMIT = int(LIMIT)
MIN_REQUESTS_PER_RUN = 2  # create, submit
SAMPLE_S = 0.25


def connections_items(dn: Any, deck: Any) -> list[Any]:
    """The seed's API: one connection (no MFA at login on Cloud Mobile), then the runs on it."""
    conn = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(60)
    return [dn.RunTask("task_sim_usage", conn, {"days": 1}) for _ in range(RUNS)]


APIS: dict[str, Callable[[Any, Any], list[Any]]] = {"connections": connections_items}


class Sampler:
    """The simulator's counts every SAMPLE_S seconds: (monotonic time, requests, created, completed)."""

    def __init__(self, base: str, key: str) -> None:
        self.http = httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=10)
        self.url = f"{base.removesuffix('/v2')}/_sim/stats"
        self.samples: list[tuple[float, int, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            stats = self.http.get(self.url).json()
            self.samples.append(
                (
                    time.monotonic(),
                    stats["requests"],
                    stats["task_runs_created"],
                    stats["statuses"]["task_runs"].get("completed", 0),
                )
            )

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self.http.close()

    def steady(self, started: float) -> tuple[float, float, float]:
        """(runs completed per s, requests per s, seconds) from two windows in to the last creation."""
        begin = next((s for s in self.samples if s[0] >= started + 2 * WINDOW), None)
        end = next((s for s in self.samples if s[2] >= RUNS), None)
        seconds = end[0] - begin[0] if begin and end else 0.0
        if seconds < 2 * WINDOW:
            raise RuntimeError(f"the steady stretch is only {seconds:.1f} s: raise BENCH_BATCH_RUNS")
        return (end[3] - begin[3]) / seconds, (end[1] - begin[1]) / seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", choices=sorted(APIS), default="connections")
    api = parser.parse_args().api

    import deck_nb as dn

    # time scale 0.2: interaction windows of 24 s, so paced submissions never miss them
    with simulator_process("--time-scale", "0.2", "--rate-limit", f"{LIMIT}/{WINDOW:g}s") as (base, key):
        deck = dn.Deck(api_key=key, base_url=base, rate_limit=(LIMIT, WINDOW))
        items = APIS[api](dn, deck)
        time.sleep(WINDOW)  # start the batch with the organization's window empty
        with Sampler(base, key) as sampler:
            started = time.monotonic()
            result = dn.run_many_sync(items, respond={"code": "123456"}, deck=deck, concurrency=100, poll_interval=1.0)
            elapsed = time.monotonic() - started
            time.sleep(2 * SAMPLE_S)
        stats = deck.stats
    completed = sum(o.status == "completed" for o in result)
    rate, server_rps, steady_s = sampler.steady(started)
    ceiling = LIMIT / WINDOW / MIN_REQUESTS_PER_RUN
    caller_429s = sum("RateLimit" in (o.error or "") for o in result)
    polls_per_s = result.event_polls / elapsed
    report(
        "batch",
        rate,
        ceiling,
        "runs/s (steady)",
        "≥ 95 % of the steady ceiling, no 429 reaching the caller",
        rate >= 0.95 * ceiling and caller_429s == 0 and completed == RUNS,
        label=f"batch ({api}): {RUNS} runs with an interaction, limit {LIMIT}/{WINDOW:g} s",
        figure_text=f"{rate:.2f} runs/s steady ({rate / ceiling:.0%}), {result.requests / RUNS:.2f} requests per run, "
        f"{caller_429s} 429s to the caller",
        floor_text=f"the steady ceiling, {ceiling:g} runs/s ({MIN_REQUESTS_PER_RUN} requests per run)",
        api=api,
        share_of_steady_ceiling=f"{rate / ceiling:.1%}",
        steady_stretch_s=round(steady_s, 1),
        server_requests_per_s_steady=round(server_rps, 2),
        limit_left_unused_steady=f"{1 - server_rps / (LIMIT / WINDOW):.1%}",  # where the rest goes
        whole_batch_runs_per_s=round(completed / elapsed, 2),
        completed=completed,
        seconds=round(elapsed, 1),
        requests_per_run=round(result.requests / RUNS, 3),
        event_polls=result.event_polls,
        event_polls_share_of_limit=f"{polls_per_s / (LIMIT / WINDOW):.1%}",
        server_429s_absorbed=stats.rate_limited,
        caller_429s=caller_429s,
    )


if __name__ == "__main__":
    main()
