"""The quickstart recorded once (executed by nbclient in a real kernel against the embedded simulator,
``DECK_NB_RECORD``), then run under ``pytest --nbval`` from the recording alone: no key, no simulator
(the replay client's placeholder address does not even resolve), the same printed results."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).parent.parent
HEADLESS = {"DECK_NB_RESPONDER": "simulator", "DECK_SIM_TIME_SCALE": "0.05", "DECK_API": "credentials"}


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECK_")}
    return {**env, **HEADLESS, "PYTHONPATH": str(ROOT), **extra}


def _unanswered() -> dict[str, str]:
    """As an analyst's CI runs it: no responder set, nobody to type (the replay answers its forms)."""
    env = _env()
    env.pop("DECK_NB_RESPONDER")
    return env


def _execute(path: Path, env: dict[str, str], monkeypatch) -> nbformat.NotebookNode:
    for key in [k for k in os.environ if k.startswith("DECK_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def _printed(nb) -> list[str]:
    """The text each print() cell wrote (widget and table outputs aside)."""
    return [
        "".join(o.get("text", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("name") == "stdout"
    ]


@pytest.mark.timeout(600)
def test_the_quickstart_runs_under_nbval_from_its_recording_with_no_simulator(tmp_path, monkeypatch):
    notebook = tmp_path / "quickstart.ipynb"
    shutil.copy(ROOT / "notebooks" / "quickstart.ipynb", notebook)
    recording = tmp_path / "quickstart.deckrec"

    recorded = _execute(notebook, _env(DECK_NB_RECORD=str(recording)), monkeypatch)
    assert recording.exists()
    live = _printed(recorded)
    assert any("embedded Deck simulator" in text for text in live)  # recorded against the simulator

    replayed = _execute(notebook, _env(DECK_NB_REPLAY=str(recording)), monkeypatch)
    offline = _printed(replayed)
    assert not any("embedded Deck simulator" in text for text in offline)  # none was started
    assert [t for t in offline if "login ok" in t or "bills," in t] == [
        t for t in live if "login ok" in t or "bills," in t
    ]

    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    nbval = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
         f"--deck-replay={recording}", str(notebook), "-q", "-c", str(tmp_path / "pytest.ini")],
        env=_env(), capture_output=True, text=True, timeout=500, cwd=tmp_path,
    )  # fmt: skip
    assert nbval.returncode == 0, nbval.stdout[-3000:] + nbval.stderr[-2000:]
    assert " passed" in nbval.stdout and "failed" not in nbval.stdout


@pytest.mark.timeout(300)
def test_the_committed_quickstart_recording_replays_under_nbval():
    """notebooks/recordings/quickstart.deckrec (re-record after editing the notebook:
    ``pytest --deck-record=notebooks/recordings notebooks/quickstart.ipynb``)."""
    recording = ROOT / "notebooks" / "recordings" / "quickstart.deckrec"
    assert recording.exists()
    nbval = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--deck-replay=notebooks/recordings",
         "notebooks/quickstart.ipynb", "-q"],
        env=_unanswered(), capture_output=True, text=True, timeout=280, cwd=ROOT,
    )  # fmt: skip
    assert nbval.returncode == 0, nbval.stdout[-3000:] + nbval.stderr[-2000:]
    assert "embedded Deck simulator" not in nbval.stdout
