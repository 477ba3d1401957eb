"""`deck-nb demo`: the quickstart in a terminal, as a newcomer runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _demo(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deck_nb.cli", "demo", "--time-scale", "0.05", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_headless_demo_prints_bills_and_history():
    result = _demo("--headless", "--months", "3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "connected" in out and "completed" in out
    assert "2026-10-28" in out and "2026-08-28" in out and "2026-07-28" not in out  # 3 months of bills
    for table in ("Bills", "Connections", "Runs", "Interactions"):
        assert f"\n{table}\n" in out
    assert "accepted" in out


def test_console_demo_asks_for_the_code_and_shows_a_retry():
    result = _demo(stdin="000000\n123456\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Enter the 6-digit code sent to your phone" in out and "2 attempt(s) left" in out
    assert "rejected" in out and "accepted" in out


def test_bad_options_are_refused():
    result = _demo("--headless", "--months", "99")
    assert result.returncode == 2 and "--months" in result.stderr


def test_lab_opens_the_quickstart_in_jupyterlab():
    import os
    import socket
    import time

    import httpx

    dry = subprocess.run([sys.executable, "-m", "deck_nb.cli", "lab", "--dry-run"], capture_output=True, text=True)
    assert (
        dry.returncode == 0
        and "jupyterlab" in dry.stdout
        and dry.stdout.strip().split()[3].endswith("notebooks/quickstart.ipynb")
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "deck_nb.cli", "lab", "--no-browser", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "JUPYTER_TOKEN": "t0ken"},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                response = httpx.get(
                    f"http://localhost:{port}/api/contents/quickstart.ipynb",
                    params={"token": "t0ken", "content": 0},
                    timeout=1,
                )
                if response.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("JupyterLab did not come up")
        assert response.json()["name"] == "quickstart.ipynb"
    finally:
        proc.terminate()
        proc.wait(20)
