"""bench memory: resident memory of one client (and its session history) after 10,000 finished runs,
through ``run_many``; the simulator runs in its own process."""

from __future__ import annotations

import gc

from _common import report, rss_mb, simulator_process

RUNS = 10_000


def main() -> None:
    import deck_nb as dn

    with simulator_process("--time-scale", "0.001", "--rate-limit", "off") as (base, key):
        # the seed's API: the connection logs in once (its MFA answered by connect); on the current API
        # each run in a new session would log in, and sessions idle out after 0.6 s at this time scale
        deck = dn.Deck(api_key=key, base_url=base, rate_limit=None, api="connections")
        dn.set_default_deck(deck)
        conn = dn.connect("src_sim_power", "ada", "pw", respond={"code": "123456"}).wait(60)
        # warm up: imports, pools, first frames
        dn.run_many_sync(
            [dn.RunTask("task_sim_bills", conn, {"months": 1}) for _ in range(200)], concurrency=50, poll_interval=0.05
        )
        gc.collect()
        before = rss_mb()
        kept = 0
        for _ in range(RUNS // 1000):
            result = dn.run_many_sync(
                [dn.RunTask("task_sim_bills", conn, {"months": 1}) for _ in range(1000)],
                concurrency=100,
                poll_interval=0.05,
            )
            kept += sum(o.ok for o in result)
            del result  # the analyst keeps frames, not job objects
        gc.collect()
        after = rss_mb()
        runs_in_history = len(dn.history().runs)
    growth = after - before
    report(
        "memory",
        growth,
        50.0,
        "MB growth per 10,000 runs",
        "≤ 50 MB",
        growth <= 50 and kept == RUNS,  # memory of runs that failed early says nothing
        label=f"memory: {RUNS:,} finished runs",
        figure_text=f"{growth:+.0f} MB ({kept:,} of {RUNS:,} runs completed)",
        floor_text="—",
        rss_before_mb=round(before),
        rss_after_mb=round(after),
        runs_completed=kept,
        runs_in_history=runs_in_history,
    )


if __name__ == "__main__":
    main()
