"""bench batch: 300 task runs needing one interaction each (Cloud Mobile's step-up MFA), simulator
rate limit on (200 / 10 s), answers from a responder. Prints completed runs per second beside the
ceiling the rate limit allows (2 requests per run at least: create and submit), requests per run,
and the 429s that reached the caller."""

from __future__ import annotations

import time

from _common import report, simulator_process

RUNS = 300
LIMIT, WINDOW = 200, 10.0


def main() -> None:
    import deck_nb as dn

    # time scale 0.2: interaction windows of 24 s, so paced submissions never miss them
    with simulator_process("--time-scale", "0.2", "--rate-limit", f"{LIMIT}/{WINDOW:g}s") as (base, key):
        deck = dn.Deck(api_key=key, base_url=base)
        conn = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(60)
        time.sleep(WINDOW)  # start the batch with the organization's window empty
        items = [dn.RunTask("task_sim_usage", conn, {"days": 1}) for _ in range(RUNS)]
        started = time.perf_counter()
        result = dn.run_many_sync(items, respond={"code": "123456"}, deck=deck, concurrency=100, poll_interval=1.0)
        elapsed = time.perf_counter() - started
        stats = deck.stats
    completed = sum(o.status == "completed" for o in result)
    rate = completed / elapsed
    ceiling = LIMIT / WINDOW / 2
    caller_429s = sum("RateLimit" in (o.error or "") for o in result)
    report(
        "batch",
        rate,
        ceiling,
        "runs/s",
        "≥ 90 % of the ceiling, no 429 reaching the caller",
        rate >= 0.9 * ceiling and caller_429s == 0,
        share_of_ceiling=f"{rate / ceiling:.0%}",
        completed=completed,
        seconds=round(elapsed, 1),
        requests_per_run=round(result.requests / RUNS, 3),
        event_polls=result.event_polls,
        server_429s_absorbed=stats.rate_limited,
        caller_429s=caller_429s,
    )


if __name__ == "__main__":
    main()
