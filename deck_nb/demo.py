"""``deck-nb demo``: the quickstart in a terminal, on the embedded simulator.

Log in to a simulated utility (its MFA code is asked at the prompt), fetch bills, and print the bills
and the history as tables. On Deck's current API (the default, as in the quickstart) ``dn.connect``
stores a credential and the first run logs in, so the MFA is asked under that run; ``--api
connections`` walks the seed's API instead, where the connection itself logs in."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys

SOURCES = {"src_sim_power": "Acme Power", "src_sim_bank": "Riverside Bank", "src_sim_mobile": "Cloud Mobile"}
APIS = ("credentials", "connections")
INTERACTION_COLUMNS = ["resource_kind", "type", "attempts_remaining", "time_to_answer_s", "outcome"]
# the history's tables each API fills: (title, frame, columns)
TABLES = {
    "credentials": [
        ("Credentials", "credentials", ["id", "source_id", "status", "runs"]),
        ("Sessions", "sessions", ["id", "status", "runs", "runtime_s"]),  # still idle, for the next run
        ("Runs", "runs", ["id", "task_id", "session_id", "status", "result", "duration_s", "interactions"]),
        ("Interactions", "interactions", ["resource_kind", "type", "time_to_answer_s", "outcome"]),
    ],
    "connections": [
        ("Connections", "connections", ["id", "source_id", "status", "duration_s", "interactions", "attempts"]),
        ("Runs", "runs", ["id", "task_id", "status", "result", "duration_s", "interactions"]),
        (
            "Interactions",
            "interactions",
            ["resource_kind", "type", "attempts_remaining", "time_to_answer_s", "outcome"],
        ),
    ],
}


def add_parser(commands) -> None:
    demo = commands.add_parser(
        "demo",
        help="the quickstart flow in a terminal, on the embedded simulator",
        description="Log in to a simulated utility (you type its MFA code), fetch bills, and print the "
        "bills and the history as tables. Ctrl-C stops it.",
    )
    demo.add_argument("--months", type=int, default=6, help="bills to fetch, 1 to 24 (default: 6)")
    demo.add_argument("--headless", action="store_true", help="answer prompts with the simulator's magic values")
    demo.add_argument("--time-scale", type=float, default=0.5, help="simulator speed (default 0.5: twice as fast)")
    demo.add_argument(
        "--api",
        choices=APIS,
        default="credentials",
        help="which Deck API: credentials (Deck's current one, the default: the first run logs in) "
        "or connections (the original: the connection logs in)",
    )
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


def _line(job) -> str:
    """A job as a terminal shows it: the card's one line, not a Python repr."""
    return job.card.text()


def _failed(what: str, job) -> int:
    print(f"The {what} did not succeed: it ended {job.status}.", file=sys.stderr)
    return 1


@contextlib.contextmanager
def _main_thread_takes_ctrl_c(make_server):
    """Make and enter a server (which starts its thread) with SIGINT blocked, so that thread and every
    thread it starts never take Ctrl-C. Otherwise the kernel may hand SIGINT to the server thread:
    the prompt's ``input()`` in the main thread is then not interrupted, reads the end of input
    instead, and the demo ends "No more input" (exit 1) rather than "Stopped." (130)."""
    blocking = hasattr(signal, "pthread_sigmask")
    with contextlib.ExitStack() as stack:
        if blocking:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            entered = stack.enter_context(make_server())
        finally:
            if blocking:  # a Ctrl-C pressed meanwhile arrives here, and the stack stops the server
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        yield entered


def _run(args: argparse.Namespace) -> int:
    import deck_nb as dn
    from deck_nb.notebook import ConsoleResponder, SimulatorResponder
    from deck_nb.simulator import start

    if not 1 <= args.months <= 24:
        print("--months must be from 1 to 24", file=sys.stderr)
        return 2
    current = args.api == "credentials"
    with (
        _main_thread_takes_ctrl_c(lambda: start(time_scale=args.time_scale, api=args.api)) as sim,
        dn.Deck(api_key=sim.api_key, base_url=sim.base_url, api=args.api) as deck,
    ):
        dn.set_default_deck(deck)
        responder = SimulatorResponder() if args.headless else ConsoleResponder()
        print(f"deck_nb demo — embedded Deck simulator at {sim.base_url} ({args.api} API)")
        hint = "it is answered for you" if args.headless else "try a wrong one first"
        if current:
            print(
                "Storing a login for Acme Power as ada; the first run logs in with it. "
                f"The simulator's MFA code is 123456 ({hint})."
            )
        else:
            print(f"Connecting to Acme Power as ada. The simulator's MFA code is 123456 ({hint}).")
        conn = dn.connect("src_sim_power", username="ada", password="pass_good", respond=responder).wait()
        print(f"\n{_line(conn)}")
        if not conn.ok:
            return _failed("login", conn)
        months = f"{args.months} month{'s' if args.months != 1 else ''}"
        print(f"\nFetching {months} of bills{' (this run logs in: its MFA is asked now)' if current else ''}…")
        job = dn.run_task("task_sim_bills", conn, input={"months": args.months}, respond=responder).wait()
        print(f"\n{_line(job)}")  # on a line of its own, after a code typed at the prompt
        if current:
            print(_line(conn))  # the run's login verified the stored credential
        if not job.ok:
            return _failed("run", job)
        bills = dn.outputs_frame(job)
        _table("Bills", bills[["statement_date", "amount_due", "currency", "usage_kwh", "account_number"]])
        history = dn.history()
        for title, name, columns in TABLES[args.api]:
            frame = getattr(history, name)
            _table(title, frame[[c for c in columns if c in frame.columns]])
        dn.set_default_deck(None)
    return 0
