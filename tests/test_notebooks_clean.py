"""Committed notebooks hold no secret: not in any output, not in saved widget state."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
# every password, code and answer the notebooks use or the simulator responder sends
SECRETS = ["pass_good", "pass_bad", "123456", "000000", "rex", "simulated"]


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "interactions_gallery.ipynb", "analysis.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_secret_in_outputs_or_widget_state(path):
    nb = nbformat.read(path, as_version=4)
    outputs = json.dumps([cell.get("outputs", []) for cell in nb.cells])
    widgets = json.dumps(nb.metadata.get("widgets", {}))
    for secret in SECRETS:
        assert secret not in outputs, f"{secret!r} in the outputs of {path.name}"
        assert secret not in widgets, f"{secret!r} in the saved widget state of {path.name}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_were_saved_executed_and_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "save the notebook executed (python notebooks/build.py)"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
