"""``deck-nb demo``: the quickstart in a terminal, on the embedded simulator.

Connect to a simulated utility (its MFA code is asked at the prompt), fetch bills, and print the
bills and the run history as tables."""

from __future__ import annotations

import argparse
import sys

SOURCES = {"src_sim_power": "Acme Power", "src_sim_bank": "Riverside Bank", "src_sim_mobile": "Cloud Mobile"}


def add_parser(commands) -> None:
    demo = commands.add_parser(
        "demo",
        help="the quickstart flow in a terminal, on the embedded simulator",
        description="Connect to a simulated utility (you type its MFA code), fetch bills, and print the "
        "bills and the run history as tables. Ctrl-C stops it.",
    )
    demo.add_argument("--months", type=int, default=6, help="bills to fetch, 1 to 24 (default: 6)")
    demo.add_argument("--headless", action="store_true", help="answer prompts with the simulator's magic values")
    demo.add_argument("--time-scale", type=float, default=0.5, help="simulator speed (default 0.5: twice as fast)")
    demo.set_defaults(func=run)


def _table(title: str, frame) -> None:
    import pandas as pd

    print(f"\n{title}")
    seconds = [c for c in frame.columns if c.endswith("_s")]
    frame = frame.assign(**{c: frame[c].round(1) for c in seconds})  # durations to a tenth of a second
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(frame.to_string(index=False) if len(frame) else "(none)")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (KeyboardInterrupt, EOFError) as exc:
        print("\nStopped." if isinstance(exc, KeyboardInterrupt) else "\nNo more input: stopped.", file=sys.stderr)
        return 130 if isinstance(exc, KeyboardInterrupt) else 1


def _run(args: argparse.Namespace) -> int:
    import deck_nb as dn
    from deck_nb.notebook import ConsoleResponder, SimulatorResponder
    from deck_nb.simulator import start

    if not 1 <= args.months <= 24:
        print("--months must be from 1 to 24", file=sys.stderr)
        return 2
    # the seed's API: the demo walks a connection's login MFA and its Connections table
    with (
        start(time_scale=args.time_scale, api="connections") as sim,
        dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck,
    ):
        dn.set_default_deck(deck)
        responder = SimulatorResponder() if args.headless else ConsoleResponder()
        print(f"deck_nb demo — embedded Deck simulator at {sim.base_url}")
        print("Connecting to Acme Power as `ada`. The simulator's MFA code is 123456 (try a wrong one first).")
        conn = dn.connect("src_sim_power", username="ada", password="pass_good", respond=responder).wait()
        print(f"\n{conn!r}")
        if not conn.ok:
            print(f"The connection ended `{conn.status}`: {'; '.join(map(str, conn.errors))}", file=sys.stderr)
            return 1
        print(f"\nFetching {args.months} months of bills…")
        job = dn.run_task("task_sim_bills", conn, input={"months": args.months}).wait()
        print(repr(job))
        if not job.ok:
            print(f"The run ended `{job.status}`: {'; '.join(map(str, job.errors))}", file=sys.stderr)
            return 1
        bills = dn.outputs_frame(job)
        _table("Bills", bills[["statement_date", "amount_due", "currency", "usage_kwh", "account_number"]])
        history = dn.history()
        _table(
            "Connections", history.connections[["id", "source_id", "status", "duration_s", "interactions", "attempts"]]
        )
        _table("Runs", history.runs[["id", "task_id", "status", "result", "duration_s", "interactions"]])
        _table(
            "Interactions",
            history.interactions[["resource_kind", "type", "attempts_remaining", "time_to_answer_s", "outcome"]],
        )
        dn.set_default_deck(None)
    return 0
