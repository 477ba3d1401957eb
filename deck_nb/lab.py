"""``deck-nb lab``: JupyterLab with the quickstart open, on the embedded simulator (the README's main job)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import deck_nb


def quickstart() -> Path:
    """The quickstart notebook: in ./notebooks, or beside the package in a source checkout."""
    for base in (Path.cwd(), Path(deck_nb.__file__).resolve().parents[1]):
        path = base / "notebooks" / "quickstart.ipynb"
        if path.exists():
            return path
    raise FileNotFoundError("notebooks/quickstart.ipynb not found: run this from the deck_nb checkout")


def command(args: argparse.Namespace) -> list[str]:
    """Serve the notebooks folder and make the quickstart the default page, so the URL JupyterLab
    prints (and the browser it opens) lands on the quickstart itself, not on the Launcher."""
    notebook = quickstart()
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={notebook.parent}",
        f"--LabApp.default_url=/lab/tree/{notebook.name}",
    ]
    if args.port:
        argv.append(f"--port={args.port}")
    if args.no_browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # JupyterLab refuses root without it (containers, CI machines)
    return argv


def run(args: argparse.Namespace) -> int:
    try:
        argv = command(args)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.dry_run:
        print(" ".join(argv))
        return 0
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        print("JupyterLab is not installed: pip install -e '.[notebook]'", file=sys.stderr)
        return 2
    env = {k: v for k, v in os.environ.items() if k != "DECK_NB_RESPONDER"}  # a person answers the forms
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        # Become JupyterLab (same process): Ctrl-C and a signal to this process reach the server
        # itself, which then stops its kernels; no server is left behind a dead parent.
        os.execve(sys.executable, argv, env)
    return subprocess.call(argv, env=env)


def add_parser(commands) -> None:
    lab = commands.add_parser(
        "lab",
        help="open the quickstart in JupyterLab, on the embedded simulator",
        description="Start JupyterLab on the notebooks folder with the quickstart open. "
        "With no DECK_API_KEY set, the notebooks use the embedded Deck simulator.",
    )
    lab.add_argument("--port", type=int, default=0, help="port for JupyterLab (default: its own choice)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser; print the quickstart's URL")
    lab.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    lab.set_defaults(func=run)
