"""bench batch: 600 task runs needing one interaction each (Cloud Mobile's step-up MFA) under the
simulator's rate limit (200 / 10 s), answers from a responder.

The ceiling is the steady one of the best raw approach doing the same work: 2 requests per run
(create and submit), the event feed polled at the same tick (one request per second of the limit's
20), and on the current API the session ends the limit forces (one per credential over it) —
(20 − 1) / 2 = 9.5 runs/s on the seed's API once the window is full. The bare 10 runs/s (the limit
over 2 requests per run, nothing else) is printed beside it. A batch that starts with an empty window goes faster at
first, so the figure is measured over a steady stretch only — from two windows after the start to
the moment the last run is created (after that the batch drains), cut to a whole number of windows
— from the simulator's own counts (``/_sim/stats``, sampled; control routes do not count against the
limit). Also printed: requests
per run, event polls and the 429s absorbed and reaching the caller.

``--api`` chooses which API the runs go through, forced on the client (never auto-detected, which
would pick the current API against the simulator's default ``both``):

- ``connections`` (the seed's API): one connection, the runs on it.
- ``credentials`` (Deck's current API, default session limit 25): ``CREDENTIALS`` stored credentials,
  twice the limit, so the limit — not one credential's serial session — bounds concurrency, and the
  batch passes through two full generations of sessions (with, say, 40, the last 15 credentials
  would run alone on 15 sessions: a tail bounded by one session's pace, which no client can fill);
  the runs spread over them; each credential's runs share one session (one login each), the first
  alone, then each next run queued behind the current one. Also printed: logins per run
  (``/_sim/stats``) and items failed by ``session_limit_exceeded`` (must be 0).
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from _common import control, report, simulator_process

RUNS = int(os.environ.get("BENCH_BATCH_RUNS", 600))
LIMIT, WINDOW = (float(x) for x in os.environ.get("BENCH_BATCH_LIMIT", "200/10").split("/"))  # smaller to try it out
LIMIT = int(LIMIT)
MIN_REQUESTS_PER_RUN = 2  # create, submit
SAMPLE_S = 0.25
POLL_S = float(os.environ.get("BENCH_BATCH_POLL", 1.0))  # the event feed's tick


CREDENTIALS = int(os.environ.get("BENCH_BATCH_CREDENTIALS", 50))
SESSION_LIMIT = 25  # Deck's documented default, the simulator's and run_many's


def connections_items(dn: Any, deck: Any) -> list[Any]:
    """The seed's API: one connection (no MFA at login on Cloud Mobile), then the runs on it."""
    conn = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(60)
    return [dn.RunTask("task_sim_usage", conn, {"days": 1}) for _ in range(RUNS)]


def credentials_items(dn: Any, deck: Any) -> list[Any]:
    """The current API: CREDENTIALS stored credentials on Cloud Mobile (storing asks nothing), the
    runs dealt round-robin over them; every run asks the step-up MFA."""
    creds = [
        dn.connect("src_sim_mobile", f"user{i:03d}", "pw", respond={}, deck=deck).wait(60) for i in range(CREDENTIALS)
    ]
    if not all(c.ok for c in creds):
        raise RuntimeError(f"storing the credentials failed: {[c.status for c in creds if not c.ok]}")
    return [dn.RunTask("task_sim_usage", creds[i % CREDENTIALS], {"days": 1}) for i in range(RUNS)]


APIS: dict[str, Callable[[Any, Any], list[Any]]] = {
    "connections": connections_items,
    "credentials": credentials_items,
}


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
        """(runs completed per s, requests per s, seconds) from two windows in to the last creation,
        cut to a whole number of windows: a sliding window admits ``LIMIT`` per window, but a stretch of
        3.4 windows can hold 4 windows' bursts (a figure over 100 % of the ceiling)."""
        begin = next((s for s in self.samples if s[0] >= started + 2 * WINDOW), None)
        last = next((s for s in self.samples if s[2] >= RUNS), None)
        windows = int((last[0] - begin[0]) // WINDOW) if begin and last else 0
        if windows < 2:
            raise RuntimeError(f"the steady stretch is under {2 * WINDOW:g} s: raise BENCH_BATCH_RUNS")
        end = min((s for s in self.samples if s[0] >= begin[0]), key=lambda s: abs(s[0] - begin[0] - windows * WINDOW))
        seconds = end[0] - begin[0]
        return (end[3] - begin[3]) / seconds, (end[1] - begin[1]) / seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", choices=sorted(APIS), default="connections")
    api = parser.parse_args().api

    import deck_nb as dn

    # time scale 0.2: interaction windows of 24 s, so paced submissions never miss them
    limits = ("--rate-limit", f"{LIMIT}/{WINDOW:g}s", "--session-limit", str(SESSION_LIMIT))
    with simulator_process("--time-scale", "0.2", *limits) as (base, key):
        deck = dn.Deck(api_key=key, base_url=base, rate_limit=(LIMIT, WINDOW), api=api)
        items = APIS[api](dn, deck)
        time.sleep(WINDOW)  # start the batch with the organization's window empty
        before = control(base, key, "GET", "stats")
        with Sampler(base, key) as sampler:
            started = time.monotonic()
            result = dn.run_many_sync(
                items,
                respond={"code": "123456"},
                deck=deck,
                concurrency=100,
                poll_interval=POLL_S,
                session_limit=SESSION_LIMIT,
            )
            elapsed = time.monotonic() - started
            time.sleep(2 * SAMPLE_S)
        after = control(base, key, "GET", "stats")
        stats = deck.stats
    completed = sum(o.status == "completed" for o in result)
    failures = Counter(f"{o.status}: {o.error_code or o.error}" for o in result if o.status != "completed")
    rate, server_rps, steady_s = sampler.steady(started)
    bare_ceiling = LIMIT / WINDOW / MIN_REQUESTS_PER_RUN
    forced_ends = max(0, CREDENTIALS - SESSION_LIMIT) if api == "credentials" else 0
    floor_requests = MIN_REQUESTS_PER_RUN + forced_ends / RUNS
    ceiling = (LIMIT / WINDOW - 1 / POLL_S) / floor_requests
    caller_429s = sum("RateLimit" in (o.error or "") for o in result)
    polls_per_s = result.event_polls / elapsed
    extra: dict[str, Any] = {}
    limit_failures = 0
    if api == "credentials":
        logins = after.get("logins", 0) - before.get("logins", 0)
        limit_failures = sum(o.error_code == "session_limit_exceeded" for o in result)
        extra = {
            "credentials": CREDENTIALS,
            "session_limit": SESSION_LIMIT,
            "logins": logins,
            "logins_per_run": round(logins / RUNS, 3),
            "sessions_created": after.get("sessions_created", 0) - before.get("sessions_created", 0),
            "session_limit_waits": result.session_limit_waits,
            "session_limit_failures": limit_failures,
        }
    report(
        "batch",
        rate,
        ceiling,
        "runs/s (steady)",
        "≥ 95 % of the steady ceiling, no 429 reaching the caller"
        + (", no item failed by the session limit" if api == "credentials" else ""),
        rate >= 0.95 * ceiling and caller_429s == 0 and completed == RUNS and limit_failures == 0,
        label=f"batch ({api}): {RUNS} runs with an interaction, limit {LIMIT}/{WINDOW:g} s"
        + (f", {CREDENTIALS} credentials, session limit {SESSION_LIMIT}" if api == "credentials" else ""),
        figure_text=f"{rate:.2f} runs/s steady ({rate / ceiling:.0%}; {rate / bare_ceiling:.0%} of the bare limit), "
        f"{result.requests / RUNS:.2f} requests per run, "
        f"{caller_429s} 429s to the caller"
        + (
            f", {extra['logins_per_run']:.3g} logins per run, {limit_failures} items failed by session_limit_exceeded"
            if extra
            else ""
        ),
        floor_text=f"the steady ceiling of a raw client, {ceiling:.2f} runs/s ({floor_requests:.3g} requests per run, "
        f"the feed polled every {POLL_S:g} s); bare limit {bare_ceiling:g} runs/s",
        api=api,
        share_of_steady_ceiling=f"{rate / ceiling:.1%}",
        share_of_bare_limit=f"{rate / bare_ceiling:.1%}",  # the limit over 2 requests per run, nothing else
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
        not_completed=dict(failures),
        **extra,
    )


if __name__ == "__main__":
    main()
