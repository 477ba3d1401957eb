"""The committed notebooks were built on Deck's current API (what a real key meets): in the
quickstart the login's MFA was asked under the first run, once, and the next runs reused its session;
the gallery's own section shows review, cancelling and a fixed credential. (nbval checks that the
cells still run and print the same on both APIs; this checks where things appeared.)"""

from __future__ import annotations

from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"


def _cells(name: str) -> list[tuple[str, str]]:
    """(source, the text of its outputs) for each code cell."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        texts = []
        for o in cell.get("outputs", []):
            texts.append(o.get("text", "") or "".join(o.get("data", {}).get("text/plain", "")))
        out.append((cell.source, "\n".join(texts)))
    return out


def _output(cells: list[tuple[str, str]], snippet: str) -> str:
    found = [text for source, text in cells if snippet in source]
    assert len(found) == 1, f"one cell with {snippet!r}"
    return found[0]


def test_quickstart_asks_the_mfa_under_the_first_run_only():
    cells = _cells("quickstart.ipynb")
    assert "credentials" in _output(cells, "deck.detect_api()")
    connect = _output(cells, "dn.connect(source_id")
    assert "cred_" in connect and "asked" not in connect
    assert "asked: mfa" in _output(cells, "dn.run_task(task_id")
    later = _output(cells, 'dn.run_task("task_sim_statements"')
    assert later.count("reused session") == 2 and "asked" not in later
    assert "asked: [('mfa', 'accepted')]" in _output(cells, 'print("login ok:"')


def test_gallery_shows_the_current_apis_own_cases():
    cells = _cells("interactions_gallery.ipynb")
    assert "completed [] | same session: True" in _output(cells, "print(second.status")
    assert "review_required" in _output(cells, 'until_status(pay, "review_required")')
    assert "completed 42.5" in _output(cells, "print(pay.status")
    refund = _output(cells, "refund.cancel()")
    assert "cancelling" in refund and "canceled unknown" in _output(cells, "print(refund.status, refund.run.result)")
    assert "failed ['auth_invalid'] | credential invalid" in _output(cells, "print(refused.status")
    assert "unverified" in _output(cells, "credentials.update(typo.id")
    assert "completed [('mfa', 'accepted')] | credential verified" in _output(cells, "print(retry.status")
