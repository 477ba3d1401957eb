"""`deck-nb simulator` as a new user would try it: one ready line, then curl."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

READY = re.compile(r"^Deck simulator ready at (http://127\.0\.0\.1:(\d+)/v2) — API key (sk_sim_[0-9a-f]+)$")


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "deck_nb.cli", "simulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def served():
    proc = _start("--clock", "manual")
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def test_prints_exactly_one_ready_line_and_answers_curl(served):
    line = served.stdout.readline().rstrip("\n")
    match = READY.match(line)
    assert match, line
    url, _, key = match.groups()
    curl = shutil.which("curl")
    if curl:
        out = subprocess.run(
            [curl, "-s", "-H", f"Authorization: Bearer {key}", f"{url}/test"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    else:  # pragma: no cover - curl is on every CI image we use
        import httpx

        out = httpx.get(f"{url}/test", headers={"Authorization": f"Bearer {key}"}).text
    assert '"status":"ready"' in out and '"environment":"simulator"' in out
    served.terminate()
    rest, _ = served.communicate(timeout=10)
    assert rest == ""  # nothing else on stdout: logs go to stderr


def test_binding_beyond_loopback_is_said_loudly():
    proc = _start("--host", "0.0.0.0")
    try:
        proc.stdout.readline()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "WARNING" in err and "not loopback" in err


def test_bad_options_are_refused_clearly():
    result = subprocess.run(
        [sys.executable, "-m", "deck_nb.cli", "simulator", "--rate-limit", "lots"],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2 and "200/10s" in result.stderr


def test_api_and_session_limit_options_choose_what_is_served():
    proc = _start("--clock", "manual", "--api", "credentials", "--session-limit", "3")
    try:
        match = READY.match(proc.stdout.readline().rstrip("\n"))
        assert match, "no ready line"
        url, _, key = match.groups()
        import httpx

        headers = {"Authorization": f"Bearer {key}"}
        gone = httpx.get(f"{url}/connections", headers=headers, timeout=10)
        assert gone.status_code == 404 and gone.json()["errors"][0]["code"] == "not_found"
        assert httpx.get(f"{url}/credentials", params={"limit": 1}, headers=headers, timeout=10).status_code == 200
        root = url.removesuffix("/v2")
        config = httpx.get(f"{root}/_sim/config", headers=headers, timeout=10).json()
        assert (config["api"], config["session_limit"]) == ("credentials", 3)
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


@pytest.mark.parametrize("args,expected", [(["--api", "soap"], "--api"), (["--session-limit", "lots"], "session")])
def test_bad_api_or_session_limit_is_refused_clearly(args, expected):
    result = subprocess.run(
        [sys.executable, "-m", "deck_nb.cli", "simulator", *args],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert result.returncode == 2 and expected in result.stderr


def test_every_simulator_option_has_help_text():
    import os

    result = subprocess.run(
        [sys.executable, "-m", "deck_nb.cli", "simulator", "--help"],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "COLUMNS": "400"},  # no wrapping inside a help text
    )
    assert result.returncode == 0
    helps = {
        "--host": "loopback",
        "--port": "free port",
        "--time-scale": "multiplies every duration",
        "--clock": "manual",
        "--rate-limit": "200/10s",
        "--api": "credentials",
        "--session-limit": "session_limit_exceeded",
    }
    lines = result.stdout.splitlines()
    for option, words in helps.items():
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(option + " "))
        text = " ".join(lines[at : at + 2])  # argparse puts a long option's help on the next line
        assert words in text, text
