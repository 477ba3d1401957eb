"""`deck-nb demo`: the quickstart in a terminal, as a newcomer runs it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import psutil


def _demo(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deck_nb.cli", "demo", "--time-scale", "0.05", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_headless_demo_runs_on_the_current_api_by_default():
    result = _demo("--headless", "--months", "3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "(credentials API)" in out
    assert "123456 (it is answered for you)" in out and "try a wrong one" not in out  # nobody types here
    assert "unverified" in out and "verified by its first run" in out  # dn.connect only stored the login
    assert "completed" in out and re.search(r"^connect src_sim_power cred_\w+ · verified", out, re.M)  # by the run
    assert_terminal_text(out)
    assert "2026-10-28" in out and "2026-08-28" in out and "2026-07-28" not in out  # 3 months of bills
    for table in ("Bills", "Credentials", "Sessions", "Runs", "Interactions"):
        assert f"\n{table}\n" in out
    assert "\nConnections\n" not in out
    sessions = out.split("\nSessions\n", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"sess_\w+ +idle +1\b", sessions), sessions  # the session lives on, for the next run
    interactions = out.split("\nInteractions\n", 1)[1]
    assert re.search(r"task_run +mfa .* accepted", interactions), interactions  # the login's MFA: on the run


def assert_terminal_text(out: str) -> None:
    """What a terminal shows is plain text: no Python repr, no markdown backticks."""
    assert not re.search(r"<\w+(Job|Form|Deck)\b", out), out  # e.g. <ConnectJob connect … >
    assert "`" not in out, [line for line in out.splitlines() if "`" in line]
    assert re.search(r"^run task_sim_bills trun_\w+ · completed · ", out, re.M), out  # the card's line


def test_headless_demo_on_the_seeds_api_prints_the_connections_table():
    result = _demo("--headless", "--months", "3", "--api", "connections")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert_terminal_text(out)
    assert re.search(r"^connect src_sim_power conn_\w+ · connected · ", out, re.M), out
    assert "Fetching 3 months of bills" in out
    assert "(connections API)" in out and "connected" in out and "completed" in out
    assert "2026-10-28" in out and "2026-08-28" in out and "2026-07-28" not in out
    for table in ("Bills", "Connections", "Runs", "Interactions"):
        assert f"\n{table}\n" in out
    assert "\nCredentials\n" not in out
    assert re.search(r"connection +mfa .* accepted", out.split("\nInteractions\n", 1)[1])


def test_console_demo_asks_for_the_code_under_the_first_run_and_shows_a_retry():
    result = _demo(stdin="000000\n123456\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    asked = out.split("Fetching", 1)[1]  # the MFA is asked under the run, not when storing the login
    assert "Enter the 6-digit code sent to your phone" in asked and "Verification code" in asked
    assert "Enter the 6-digit code" not in out.split("Fetching", 1)[0]
    assert out.count("2 attempts left") == 1 and "attempt(s)" not in out  # said once, by the source
    interactions = out.split("\nInteractions\n", 1)[1]
    assert "rejected" in interactions and "accepted" in interactions
    assert_terminal_text(out)
    assert "\nrun task_sim_bills trun_" in out.split("Verification code: ")[-1]  # not glued to the prompt
    durations = re.findall(r"\b\d+\.\d+\b", out.split("\nRuns\n", 1)[1])
    assert durations and all(len(d.split(".")[1]) <= 2 for d in durations), durations  # rounded


def test_console_demo_on_the_seeds_api_asks_at_connect():
    result = _demo("--api", "connections", stdin="000000\n123456\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    before_run = out.split("Fetching", 1)[0]
    assert "Enter the 6-digit code sent to your phone" in before_run and "3 attempts left" in before_run
    assert out.count("2 attempts left") == 1 and "attempt(s)" not in out
    assert "rejected" in out and "accepted" in out


def test_ctrl_c_in_the_demo_ends_with_one_line():
    proc = subprocess.Popen(
        [sys.executable, "-m", "deck_nb.cli", "demo", "--time-scale", "0.05"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = ""
        deadline = time.monotonic() + 60
        while "Verification code" not in seen:  # waiting for the person to type the code
            assert time.monotonic() < deadline and proc.poll() is None, seen
            seen += proc.stdout.read(1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 130
    assert err.strip() == "Stopped.", err  # one line, no traceback


def test_only_the_main_thread_takes_ctrl_c_while_the_demo_waits_for_a_code():
    """The race behind "exit 1 instead of 130": the kernel hands SIGINT to any thread that does not
    block it. If the simulator's server thread took it, the main thread's prompt would read the end
    of input ("No more input", exit 1). So every other thread blocks SIGINT; the kernel says so."""
    if not os.path.isdir("/proc/self/task"):
        import pytest

        pytest.skip("reads thread signal masks from /proc (Linux)")
    proc = subprocess.Popen(
        [sys.executable, "-m", "deck_nb.cli", "demo", "--time-scale", "0.05"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = ""
        deadline = time.monotonic() + 60
        while "Verification code" not in seen:
            assert time.monotonic() < deadline and proc.poll() is None, seen
            seen += proc.stdout.read(1)
        masks = {}
        for tid in os.listdir(f"/proc/{proc.pid}/task"):
            with open(f"/proc/{proc.pid}/task/{tid}/status") as status:
                fields = dict(line.split(":\t", 1) for line in status if ":\t" in line)
            masks[int(tid)] = int(fields["SigBlk"], 16) & (1 << (signal.SIGINT - 1))
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert len(masks) > 1, masks  # the simulator serves from its own thread
    assert masks.pop(proc.pid) == 0  # the main thread, at the prompt, takes Ctrl-C
    assert all(masks.values()), masks  # no other thread can


def test_bad_options_are_refused():
    result = _demo("--headless", "--months", "99")
    assert result.returncode == 2 and "--months" in result.stderr
    result = _demo("--headless", "--api", "soap")
    assert result.returncode == 2 and "--api" in result.stderr


def test_lab_prints_a_url_that_opens_the_quickstart_and_leaves_no_process(tmp_path):
    dry = subprocess.run([sys.executable, "-m", "deck_nb.cli", "lab", "--dry-run"], capture_output=True, text=True)
    assert dry.returncode == 0 and "jupyterlab" in dry.stdout
    assert "--LabApp.default_url=/lab/tree/quickstart.ipynb" in dry.stdout
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dirs = {name: tmp_path / name for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR")}
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_TOKEN"}  # a new user's token: made up, printed
    env.update({k: str(v) for k, v in dirs.items()})
    proc = subprocess.Popen(
        [sys.executable, "-m", "deck_nb.cli", "lab", "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, so the test can end all of it
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    wanted = re.compile(rf"http://(?:localhost|127\.0\.0\.1):{port}/lab/tree/quickstart\.ipynb" + r"\?token=[0-9a-f]+")
    try:
        deadline = time.monotonic() + 60
        while not any(wanted.search(line) for line in list(lines)):
            assert proc.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "no quickstart URL printed:\n" + "".join(lines)
            time.sleep(0.2)
        url = next(m.group(0) for line in list(lines) if (m := wanted.search(line)))
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "JupyterLab" in page.text  # the URL itself opens the lab
        contents = httpx.get(
            f"http://127.0.0.1:{port}/api/contents/quickstart.ipynb",
            params={"token": url.rsplit("=", 1)[1], "content": 0},
        )
        assert contents.status_code == 200  # and the quickstart is at that path
        family = [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))]
    finally:
        stop_group(proc)
    assert leftovers(family) == []


def stop_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    """End a process started with start_new_session=True and everything in its group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def leftovers(pids: list[int]) -> list[str]:
    """The processes among ``pids`` still running (zombies already count as gone)."""
    alive = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return alive


def test_every_subcommand_and_option_has_help_text():
    import argparse

    from deck_nb.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    listed = {c.dest: c.help for c in commands._choices_actions}
    assert set(listed) == set(commands.choices) and all(listed.values()), listed
    for name, sub in commands.choices.items():
        for action in sub._actions:
            assert action.help and action.help != argparse.SUPPRESS, f"deck-nb {name} {action.option_strings}"
        shown = subprocess.run([sys.executable, "-m", "deck_nb.cli", name, "--help"], capture_output=True, text=True)
        assert shown.returncode == 0 and "usage: deck-nb " + name in shown.stdout
