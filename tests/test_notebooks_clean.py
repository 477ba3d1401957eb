"""Committed notebooks hold no secret: not in any output, not in saved widget state. Only the shipped
notebooks (the ones ``notebooks/build.py`` writes) are checked and collected: one a person makes in
Lab next to them is theirs."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).parent.parent


def _shipped() -> list[str]:
    spec = importlib.util.spec_from_file_location("deck_nb_notebooks_build", ROOT / "notebooks" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return sorted(module.NOTEBOOKS)


NOTEBOOKS = [ROOT / "notebooks" / name for name in _shipped()]
# every password, code and answer the notebooks use or the simulator responder sends
SECRETS = ["pass_good", "pass_bad", "123456", "000000", "rex", "simulated"]
SIGNED_URL = ["/_files/", "signature="]  # a stored file's link: a key to a customer's bill


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "interactions_gallery.ipynb", "analysis.ipynb"}


IMAGE_BYTES = re.compile(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/=]+")


def _readable(output: dict) -> dict:
    """An output without its images' base64 pixels (a plot, a card's screenshot), where short words
    like "rex" turn up by chance; every text, HTML included, is kept."""
    data = {k: v for k, v in output.get("data", {}).items() if not k.startswith("image/")}
    data = {k: IMAGE_BYTES.sub("data:image", "".join(v)) if isinstance(v, list | str) else v for k, v in data.items()}
    return {**output, "data": data} if "data" in output else output


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_secret_in_outputs_or_widget_state(path):
    nb = nbformat.read(path, as_version=4)
    outputs = json.dumps([[_readable(o) for o in cell.get("outputs", [])] for cell in nb.cells])
    widgets = json.dumps(nb.metadata.get("widgets", {}))
    for secret in SECRETS + SIGNED_URL:
        assert secret not in outputs, f"{secret!r} in the outputs of {path.name}"
        assert secret not in widgets, f"{secret!r} in the saved widget state of {path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_were_saved_executed_and_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "save the notebook executed (python notebooks/build.py)"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_markers_are_cell_tags_not_text_a_reader_sees(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [c.source[:40] for c in code if "NBVAL" in c.source.upper()]
    tags = [set(c.metadata.get("tags", [])) & {"nbval-check-output", "nbval-ignore-output"} for c in code]
    assert all(len(t) == 1 for t in tags), "every code cell says whether its output is checked"
    assert any("nbval-check-output" in t for t in tags)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stale_widget_state(path):
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata  # views of a kernel long gone would only show errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_widget_outputs_read_as_one_line(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                plain = "".join(data.get("text/plain", ""))
                assert plain and "\n" not in plain.strip(), plain
                assert "children=" not in plain and "value=" not in plain, plain  # not a widget's raw repr


def test_a_notebook_made_in_lab_next_to_the_shipped_ones_is_not_collected(tmp_path):
    """A person's Untitled.ipynb in notebooks/ is not run by nbval nor checked here, nor is anything
    ``dn.download`` saved in notebooks/deck_files/ (a copy of the repository's test layout, collected
    by pytest in a subprocess)."""
    shutil.copytree(
        ROOT / "notebooks", tmp_path / "notebooks", ignore=shutil.ignore_patterns("__pycache__", "deck_files")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    failing = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    nbformat.write(failing, tmp_path / "notebooks" / "Untitled.ipynb")
    # what dn.download saved beside the notebooks: names a portal chose, never collected nor run
    downloads = tmp_path / "notebooks" / "deck_files"
    downloads.mkdir()
    nbformat.write(failing, downloads / "statement.ipynb")
    (downloads / "test_bill.py").write_text("def test_x():\n    raise SystemExit('collected a download')\n")
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "notebooks"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    collected = {line.split("::")[0] for line in listed.stdout.splitlines() if "::" in line}
    assert collected == {f"notebooks/{name}" for name in _shipped()}, listed.stdout
    assert "Untitled" not in listed.stdout and "deck_files" not in listed.stdout
    assert "Untitled.ipynb" not in {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_kernelspec_is_what_jupyterlab_writes_on_open(path):
    """JupyterLab rewrites the kernelspec to the kernel's own on open: any other display name makes
    the notebook open modified (tests/test_browser_place.py sees that dot in the browser)."""
    from ipykernel.kernelspec import get_kernel_dict

    spec = nbformat.read(path, as_version=4).metadata["kernelspec"]
    assert spec["display_name"] == get_kernel_dict()["display_name"] and spec["name"] == "python3"
