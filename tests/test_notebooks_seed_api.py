"""Every notebook also passes nbval on the seed's API (connections): pytest collects the notebooks
on Deck's current API (``notebooks/conftest.py``), and this runs the same collection again in a
subprocess with ``DECK_NB_NOTEBOOKS_API=connections``, so each kernel's client speaks the seed's API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
LIMIT_S = 900  # three notebooks on a loaded machine; the run is killed past this


@pytest.mark.timeout(LIMIT_S + 60)
def test_all_notebooks_pass_nbval_on_the_seed_api(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DECK_API_KEY", "DECK_BASE_URL", "DECK_API")}
    env["DECK_NB_NOTEBOOKS_API"] = "connections"
    command = [sys.executable, "-m", "pytest", "notebooks", "-q", "-p", "no:cacheprovider", "-rfE"]
    command += [f"--basetemp={tmp_path / 'base'}", "-o", "timeout=300"]  # addopts (nbval options) from pyproject
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=LIMIT_S)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"nbval on the seed's API took over {LIMIT_S}s:\n{e.stdout or ''}{e.stderr or ''}")
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert " passed" in report and " failed" not in report, report
