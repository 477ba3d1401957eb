"""Every guide's code runs: the ```python blocks of each docs/*.md (and the README's first
notebook), in order, as the cells of one notebook in a real kernel, against the embedded simulator
with headless answers (DECK_NB_RESPONDER=simulator), as a reader pasting them into a notebook would.
Top-level ``await`` works there as in JupyterLab. A block that truly cannot run here is fenced
```python no-run: <why>``; those are few, and each says why."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^([ \t]*)```(python[^\n]*)\n(.*?)^[ \t]*```", re.S | re.M)  # in a list item too
NO_RUN = re.compile(r"^python no-run: (.{12,})$")
MOST_NO_RUN = 4  # across all the docs: a guide is read to be run
CELL_TIMEOUT_S = 120

pytestmark = pytest.mark.timeout(600)


def blocks(path: Path) -> list[tuple[str, int, str]]:
    """(info string, line number, code) of each ```python block."""
    text = path.read_text(encoding="utf-8")
    return [
        (m.group(2).strip(), text.count("\n", 0, m.start()) + 1, textwrap.dedent(m.group(3)))
        for m in FENCE.finditer(text)
    ]


def runnable(path: Path) -> list[tuple[int, str]]:
    return [(line, code) for info, line, code in blocks(path) if info == "python"]


def test_blocks_that_cannot_run_are_few_and_say_why():
    fenced = [(p.name, line, info) for p in GUIDES for info, line, _ in blocks(p) if info != "python"]
    for name, line, info in fenced:
        assert NO_RUN.match(info), f"{name}:{line}: ```{info}: use ```python, or ```python no-run: <why>"
    assert len(fenced) <= MOST_NO_RUN, fenced


def test_the_guides_show_code_that_runs():
    for name in ("notebooks.md", "batches.md", "apis.md", "history.md", "client.md", "simulator.md"):
        assert runnable(ROOT / "docs" / name), f"docs/{name} shows no code that runs"
    assert runnable(ROOT / "README.md"), "the README's first notebook is not a ```python block"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DECK_")}  # no key: the embedded simulator
    env["DECK_NB_RESPONDER"] = "simulator"  # headless answers: the simulator's magic values
    env["DECK_SIM_TIME_SCALE"] = "0.02"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return env


@pytest.mark.parametrize("guide", [p for p in GUIDES if runnable(p)], ids=lambda p: p.name)
def test_the_guides_code_runs_in_a_kernel(guide, tmp_path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    cells = runnable(guide)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for _, code in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute(env=_env())
    except CellExecutionError as exc:
        failed = next((line for (line, _), cell in zip(cells, nb.cells, strict=True) if _errored(cell)), "?")
        pytest.fail(f"{guide.name}, the block at line {failed}:\n{exc}")


def _errored(cell) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs", []))
