"""The README as a person reads it: one screen, true pictures, commands that work as printed."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SCREEN_LINES = 60  # a README that fits one screen (its two pictures are one line each)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.S)


def test_the_readme_fits_one_screen():
    lines = _text(README).splitlines()
    assert len(lines) <= SCREEN_LINES, f"README.md is {len(lines)} lines: move the rest into docs/"


def test_the_readme_links_every_guide_and_shows_both_pictures():
    readme = _text(README)
    for guide in sorted(DOCS.glob("*.md")):
        assert f"docs/{guide.name}" in readme, f"the README does not link docs/{guide.name}"
    for picture in ("docs/img/form.png", "docs/img/card.png"):
        assert f"]({picture})" in readme, picture
        path = ROOT / picture
        assert path.exists(), f"{picture} is missing: run tests/test_browser.py (it makes it)"
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) <= 150_000, (picture, len(data))


def test_ci_runs_exactly_the_readmes_test_command():
    readme_commands = [line for block in _bash_blocks(_text(README)) for line in block.splitlines()]
    test_command = next(line for line in readme_commands if 'pip install -e ".[test]" && pytest' in line)
    assert test_command in _text(ROOT / ".ci" / "run").splitlines()


def test_the_readme_says_how_long_the_tests_take():
    assert re.search(r"about \d+ minutes on 2 cores", _text(README))


def _documented_curl_examples() -> list[tuple[str, str, str]]:
    """Each (file, simulator line, curl line) printed together in a bash block."""
    found = []
    for doc in [README, *sorted(DOCS.glob("*.md"))]:
        for block in _bash_blocks(_text(doc)):
            lines = [line.strip() for line in block.splitlines()]
            serve = [line for line in lines if line.startswith("deck-nb simulator --")]
            curl = [line for line in lines if line.startswith("curl ")]
            if serve and curl:
                found.append((doc.name, serve[0], curl[0]))
    return found


def _serve(argv: list[str]) -> tuple[subprocess.Popen, str]:
    """Start ``deck-nb simulator`` (the console script is ``python -m deck_nb.cli``); its first line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "deck_nb.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    return proc, line


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=5)
    return err


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(120)
def test_the_printed_simulator_and_curl_lines_work_as_printed():
    examples = _documented_curl_examples()
    assert any(name == "README.md" for name, _, _ in examples), "the README prints no simulator + curl example"
    for name, serve_line, curl_line in examples:
        serve = shlex.split(serve_line, comments=True)
        curl = shlex.split(curl_line, comments=True)
        assert serve[:2] == ["deck-nb", "simulator"]
        proc, ready = _serve(serve[1:])
        try:
            if not ready:  # the documented port is taken on this machine: the error says so clearly
                err = _stop(proc)
                assert "is in use" in err and "--port" in err, err
                port = serve[serve.index("--port") + 1]
                free = str(_free_port())
                serve = [free if a == port else a for a in serve]
                curl = [a.replace(f":{port}/", f":{free}/") for a in curl]
                proc, ready = _serve(serve[1:])
            assert ready.startswith("Deck simulator ready at http://127.0.0.1:"), (name, ready)
            if shutil.which("curl"):
                out = subprocess.run(curl, capture_output=True, text=True, timeout=20)
                assert out.returncode == 0, (name, out.stderr)
                body = out.stdout
            else:  # the same request without curl
                url = next(a for a in curl if a.startswith("http"))
                header = curl[curl.index("-H") + 1].split(": ", 1)
                body = httpx.get(url, headers={header[0]: header[1]}, timeout=20).text
            assert '"status":"ready"' in body and '"environment":"simulator"' in body, (name, body)
        finally:
            _stop(proc)
        assert proc.poll() is not None  # nothing left behind


def test_a_taken_port_is_said_in_one_line():
    first, ready = _serve(["simulator", "--port", "0", "--clock", "manual"])
    try:
        port = re.search(r":(\d+)/v2", ready).group(1)
        second = subprocess.run(
            [sys.executable, "-m", "deck_nb.cli", "simulator", "--port", port],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        _stop(first)
    assert second.returncode == 1 and second.stdout == ""
    assert f"deck-nb simulator: port {port} on 127.0.0.1 is in use" in second.stderr
    assert "Traceback" not in second.stderr


def test_a_fixed_api_key_must_look_like_a_simulator_key():
    result = subprocess.run(
        [sys.executable, "-m", "deck_nb.cli", "simulator", "--api-key", "sk_live_123"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "--api-key must look like sk_sim_demo" in result.stderr
