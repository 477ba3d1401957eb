"""The ``deck-nb`` command: ``simulator`` serves the embedded Deck; ``lab`` opens the quickstart in
JupyterLab; ``demo`` runs the quickstart in a terminal."""

from __future__ import annotations

import argparse
import re
import sys

from ._serve import PortInUse


def _simulator(args: argparse.Namespace) -> int:
    from .simulator import serve_forever

    rate_limit = None if args.rate_limit == "off" else args.rate_limit
    if args.api_key is not None and not re.fullmatch(r"sk_sim_[A-Za-z0-9_-]+", args.api_key):
        raise ValueError(f"--api-key must look like sk_sim_demo (sk_sim_ then letters or digits), not {args.api_key!r}")
    serve_forever(
        host=args.host,
        port=args.port,
        time_scale=args.time_scale,
        clock=args.clock,
        rate_limit=rate_limit,
        api=args.api,
        session_limit=args.session_limit,
        url_ttl=args.url_ttl,
        encryption=args.encryption,
        fail_extraction=args.fail_extraction,
        large_file=args.large_file,
        large_size=args.large_size,
        api_key=args.api_key,
    )
    return 0


def _recording_check(args: argparse.Namespace) -> int:
    from .recording import RecordingError
    from .recording_drift import report

    try:
        text, moved = report(args.file)
    except RecordingError as exc:
        print(f"deck-nb recording check: {exc}", file=sys.stderr)
        return 2
    print(text)
    return 1 if moved else 0


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and option, each with its help text (``deck-nb <command> --help``)."""
    parser = argparse.ArgumentParser(prog="deck-nb", description="Drive Deck's browser agents from Python.")
    commands = parser.add_subparsers(dest="command", required=True)

    sim = commands.add_parser("simulator", help="serve the embedded Deck simulator until interrupted")
    sim.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    sim.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    sim.add_argument("--time-scale", type=float, default=1.0, help="multiplies every duration (0.1 = 10x faster)")
    sim.add_argument(
        "--clock",
        choices=["real", "manual"],
        default="real",
        help="'real' (default) or 'manual': time moves only on POST /_sim/clock/advance",
    )
    sim.add_argument("--rate-limit", default="200/10s", help="requests per window: '200/10s' (default) or 'off'")
    sim.add_argument(
        "--api",
        choices=["both", "connections", "credentials"],
        default="both",
        help="which Deck API to serve on /v2: 'both' (default), 'connections' (the seed's) or 'credentials' "
        "(Deck's current one: credentials and sessions)",
    )
    sim.add_argument(
        "--session-limit",
        default="25",
        help="most sessions open at once before runs get 429 session_limit_exceeded: a number (default 25) or 'off'",
    )
    sim.add_argument("--url-ttl", type=float, default=300.0, help="seconds a signed download URL lives (default 300)")
    sim.add_argument("--encryption", action="store_true", help="return task runs' input and output as enc_ strings")
    sim.add_argument("--fail-extraction", type=int, metavar="N", help="file N of the first storing run: no extraction")
    sim.add_argument("--large-file", type=int, metavar="N", help="file N of the first storing run is large (streamed)")
    sim.add_argument("--large-size", type=int, metavar="BYTES", help="size of a large file (default 52428800)")
    sim.add_argument(
        "--api-key",
        metavar="KEY",
        help="a fixed API key starting with sk_sim_, e.g. sk_sim_demo (default: a random one, printed)",
    )
    sim.set_defaults(func=_simulator)

    recording = commands.add_parser("recording", help="work with recordings of Deck sessions (docs/ci.md)")
    recording_commands = recording.add_subparsers(dest="recording_command", required=True, help="what to do")
    check = recording_commands.add_parser(
        "check", help="read a recording against today's client models and report what changed (exit 1 if anything)"
    )
    check.add_argument("file", help="the .deckrec file")
    check.set_defaults(func=_recording_check)

    from .demo import add_parser as add_demo_parser
    from .lab import add_parser as add_lab_parser

    add_demo_parser(commands)
    add_lab_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:
        parser.error(str(exc))
        return 2
    except PortInUse as exc:
        print(f"deck-nb {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
