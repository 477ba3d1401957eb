"""The shipped notebooks run headless, as CI and schedulers run them: papermill and
``jupyter nbconvert --execute``, each in a real kernel of its own. With nobody to answer (no
responder set) a cell that needs a person fails within seconds with NoAnswer's text, never waits for
the cell timeout; with a responder and papermill ``-p`` parameters they pass and use them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
CELL_LIMIT_S = 10  # a waiting cell must fail within this (papermill/nbconvert kill it past this)
RUN_LIMIT_S = 240  # one whole headless run, kernel start included, on a loaded machine
NOBODY = "but nobody can answer here: this kernel runs headless"
WAYS = ("respond=", "DECK_NB_RESPONDER", "DECK_NB_REPLAY")

pytestmark = pytest.mark.timeout(2 * RUN_LIMIT_S)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECK_")}  # the embedded simulator
    return {**env, "DECK_SIM_TIME_SCALE": "0.02", "DECK_API": "credentials", **extra}


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_LIMIT_S)
    done.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
    return done


def papermill(name: str, tmp_path: Path, env: dict[str, str], *params: str) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / f"out-{name}"
    command = [sys.executable, "-m", "papermill", str(NOTEBOOKS / name), str(out), "-k", "python3"]
    command += ["--cwd", str(tmp_path), "--execution-timeout", str(CELL_LIMIT_S * 6), *params]
    return _run(command, tmp_path, env), out


def nbconvert(
    name: str, tmp_path: Path, env: dict[str, str], *options: str, timeout: int = CELL_LIMIT_S * 6
) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / f"out-{name}"
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(NOTEBOOKS / name)]
    command += ["--output", str(out), f"--ExecutePreprocessor.timeout={timeout}", *options]
    return _run(command, tmp_path, env), out


def _texts(cell) -> str:
    parts = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            parts.append(f"{o['ename']}: {o['evalue']}")
        parts.append(o.get("text", "") or "".join(o.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def _cell_seconds(cell) -> float:
    """How long the kernel took over a cell, from the timings papermill / nbclient record."""
    timing = cell.metadata.get("execution", {})
    if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
        from datetime import datetime

        start, end = (
            datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
            for k in ("iopub.execute_input", "shell.execute_reply")
        )
        return (end - start).total_seconds()
    return float(cell.metadata["papermill"]["duration"])


def _failed_cell(out: Path):
    nb = nbformat.read(out, as_version=4)
    failed = [
        c
        for c in nb.cells
        if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", []))
    ]
    assert len(failed) == 1, [c.source[:60] for c in failed]
    return failed[0]


WAITING = {  # the first cell that needs a person, and what it asks
    "quickstart.ipynb": ("dn.connect(source_id", "(credentials: password)"),
    "interactions_gallery.ipynb": ('dn.connect("src_sim_power", username=username', "(mfa: code)"),
}


@pytest.mark.parametrize("name", sorted(WAITING))
def test_papermill_with_nobody_to_answer_fails_at_the_first_form_within_seconds(name, tmp_path):
    done, out = papermill(name, tmp_path, _env())
    assert done.returncode != 0
    cell = _failed_cell(out)
    source, asked = WAITING[name]
    assert source in cell.source
    text = _texts(cell)
    assert "NoAnswer" in text and NOBODY in text and asked in text, text
    assert all(way in text for way in WAYS), text
    assert _cell_seconds(cell) < CELL_LIMIT_S, _cell_seconds(cell)
    assert "PapermillExecutionError" in done.stderr and "NoAnswer" in done.stderr


@pytest.mark.parametrize("name", sorted(WAITING))
def test_nbconvert_execute_with_nobody_to_answer_fails_within_seconds(name, tmp_path):
    # a cell that waited past CELL_LIMIT_S would end in nbconvert's timeout error, not NoAnswer
    done, out = nbconvert(name, tmp_path, _env(), timeout=CELL_LIMIT_S)
    assert done.returncode != 0 and not out.exists()
    assert "NoAnswer" in done.stderr and NOBODY in done.stderr, done.stderr[-3000:]
    assert "CellTimeoutError" not in done.stderr and "timed out" not in done.stderr
    assert WAITING[name][1] in done.stderr


def test_nbconvert_allow_errors_saves_each_waiting_cells_no_answer_under_it(tmp_path):
    done, out = nbconvert("quickstart.ipynb", tmp_path, _env(), "--allow-errors", timeout=CELL_LIMIT_S)
    assert done.returncode == 0, done.stderr[-3000:]  # no cell reached the 10 s timeout
    cells = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
    waiting = [c for c in cells if "dn.connect(" in c.source or "dn.run_task(" in c.source]
    assert waiting and all(_cell_seconds(c) < CELL_LIMIT_S for c in waiting)
    first = _texts(waiting[0])  # the login asks first; later cells lack its result
    assert "NoAnswer" in first and NOBODY in first and "(credentials: password)" in first, first


def test_quickstart_with_parameters_and_a_responder_uses_them(tmp_path):
    env = _env(DECK_NB_RESPONDER="simulator", DECK_SIM_TIME_SCALE="1")  # the parameter sets the clock
    params = ["-p", "task_id", "task_sim_usage", "-p", "username", "bob", "-p", "api", "connections"]
    params += ["-p", "time_scale", "0.02", "-p", "since", "2000-01-01"]
    done, out = papermill("quickstart.ipynb", tmp_path, env, *params)
    assert done.returncode == 0, done.stderr[-3000:]
    nb = nbformat.read(out, as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    texts = {c.source: _texts(c) for c in nb.cells if c.cell_type == "code"}
    output = "\n".join(texts.values())
    assert "14 rows of task_sim_usage from src_sim_power" in output
    assert "bills" not in next(t for s, t in texts.items() if s.startswith('print(f"{len(frame)} rows'))
    assert "'connections'" in next(t for s, t in texts.items() if "deck.detect_api()" in s)  # the API parameter
    assert "runs: ['completed', 'completed', 'completed']" in output


def test_gallery_and_analysis_with_parameters_pass(tmp_path):
    env = _env(DECK_NB_RESPONDER="simulator")
    done, out = papermill("interactions_gallery.ipynb", tmp_path, env, "-p", "first_task_id", "task_sim_usage")
    assert done.returncode == 0, done.stderr[-3000:]
    texts = [_texts(c) for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
    assert any("True task_sim_usage completed" in t for t in texts), texts
    done, out = papermill("analysis.ipynb", tmp_path, _env(), "-p", "accounts", "3", "-p", "task_id", "task_sim_usage")
    assert done.returncode == 0, done.stderr[-3000:]  # its prompts answered by its `respond` parameter
    texts = [_texts(c) for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
    assert any("90 rows of task_sim_usage from src_sim_power" in t for t in texts), texts


def test_nbconvert_with_a_responder_runs_the_quickstart_to_the_end(tmp_path):
    done, out = nbconvert("quickstart.ipynb", tmp_path, _env(DECK_NB_RESPONDER="simulator"))
    assert done.returncode == 0, done.stderr[-3000:]
    texts = [_texts(c) for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
    assert any("6 bills, 675.91 USD in total" in t for t in texts), texts


def test_nbval_on_a_copy_of_the_quickstart_fails_at_the_form_not_at_the_cell_timeout(tmp_path):
    """As an analyst tests a notebook of their own: a copy outside this repository (no conftest sets
    a responder), nbval's cell timeout set high enough that only a silent wait could reach it."""
    copy = tmp_path / "mine.ipynb"
    copy.write_text((NOTEBOOKS / "quickstart.ipynb").read_text())
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(copy),
        "--nbval-lax",
        "--nbval-current-env",
        "-p",
        "no:cacheprovider",
    ]
    command += ["--nbval-cell-timeout=120", "-q", "-o", "addopts=", f"--rootdir={tmp_path}", "-x"]
    done = _run(command, tmp_path, _env())
    report = done.stdout + done.stderr
    assert done.returncode != 0 and "NoAnswer" in report and NOBODY in report, report[-3000:]
    assert "Timeout" not in report and done.elapsed < 60, (done.elapsed, report[-2000:])  # type: ignore[attr-defined]


def test_a_batch_with_nobody_to_answer_ends_its_prompts_with_no_answer_at_once(tmp_path):
    """The analysis notebook with ``respond=None``: headless, its inbox cannot be shown, so each
    pull that needs a person fails with NoAnswer instead of waiting in an inbox nobody sees."""
    _done, out = papermill("analysis.ipynb", tmp_path, _env(), "-p", "respond", "None", "-p", "accounts", "2")
    cells = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
    batch = next(c for c in cells if "dn.run_many(" in c.source)
    assert _cell_seconds(batch) < CELL_LIMIT_S, _texts(batch)
    frame = _texts(next(c for c in cells if "results.frame.groupby" in c.source))
    assert "NoAnswer        6" in frame, frame  # the 6 pulls that asked; a wrong password and a source error
