"""The quickstart, run as on a fresh clone (a copy of the repository's notebooks folder, nothing
downloaded yet, no key: the embedded simulator; a real kernel driven by nbclient, the simulator
answering the prompts), ends with the PDFs in ``deck_files/`` — real PDFs a reader opens, each with
its total — and the bills as a table on screen with those totals. ``deck_files/`` is ignored by git."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pypdf
import pytest

ROOT = Path(__file__).parent.parent
TOTAL = re.compile(r"Total due: (\d+\.\d\d) ([A-Z]{3})")


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", folder, ignore=shutil.ignore_patterns("deck_files", "__pycache__"))
    return folder


def _texts(cell) -> str:
    return "\n".join(
        o.get("text", "") or "".join(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", [])
    )


def _cell(nb, snippet: str):
    found = [c for c in nb.cells if c.cell_type == "code" and snippet in c.source]
    assert len(found) == 1, f"one cell with {snippet!r}"
    return found[0]


@pytest.mark.timeout(400)
def test_the_quickstart_leaves_the_pdfs_on_disk_and_the_bills_on_screen(fresh_clone, monkeypatch):
    from nbclient import NotebookClient

    for name in [k for k in os.environ if k.startswith("DECK_")]:
        monkeypatch.delenv(name)  # no key: the embedded simulator, as on a fresh clone
    monkeypatch.setenv("DECK_NB_RESPONDER", "simulator")
    monkeypatch.setenv("DECK_SIM_TIME_SCALE", "0.05")
    assert not (fresh_clone / "deck_files").exists()
    nb = nbformat.read(fresh_clone / "quickstart.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(fresh_clone)}})
    client.execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []

    pdfs = sorted((fresh_clone / "deck_files").glob("*.pdf"))
    assert len(pdfs) == 6, pdfs  # the first run's six months of bills
    totals = {}
    for pdf in pdfs:
        text = pypdf.PdfReader(io.BytesIO(pdf.read_bytes()), strict=True).pages[0].extract_text()
        amount, currency = TOTAL.search(text).groups()
        totals[pdf.name] = (amount, currency)

    table = _texts(_cell(nb, "dn.extractions(first)"))
    assert "total_due" in table and "billing_date" in table and "result" in table
    by_index: dict[str, str] = {}  # a wide frame prints in blocks: each row's parts, joined
    for line in table.splitlines():
        if found := re.match(r"^(\d+)\s+(.*)$", line):
            by_index[found[1]] = f"{by_index.get(found[1], '')} {found[2]}"
    rows = {row.split()[0]: row for row in by_index.values()}
    assert set(rows) == set(totals), table  # one row per file on disk
    for name, (amount, _currency) in totals.items():
        assert amount in rows[name], (name, amount, rows[name])  # the number read is the PDF's
    summary = _texts(_cell(nb, "on_disk = "))
    assert ", ".join(sorted(totals)) in summary and "each one whole: True" in summary
    grand = sum(float(amount) for amount, _ in totals.values())
    assert f"total due over the 6 bills: {grand:.2f} USD" in summary
    card = _texts(_cell(nb, "dn.run_task(task_id"))
    assert "6 files stored:" in card and all(f"total_due {a} {c}" in card for a, c in totals.values())


def test_downloaded_files_are_ignored_by_git(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for path in ("notebooks/deck_files/bill_2026-10.pdf", "deck_files/x.pdf", "docs/deck_files/a.csv"):
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, capture_output=True, timeout=30)
        assert done.returncode == 0, f"{path} is not ignored by git"
