"""The names ``import deck_nb`` offers: ``dn.history`` is both the history package and the call that
gives the session's history (no import rebinds one over the other), and ``dir(deck_nb)`` lists only
what a user types."""

from __future__ import annotations

import subprocess
import sys

import deck_nb as dn
from deck_nb.history import History


def _run(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_both_spellings_of_history_work_in_any_order():
    # in a fresh process, so which import comes first is really first
    orders = [
        "import deck_nb as dn\nimport deck_nb.history as h\n",
        "import deck_nb.history as h\nimport deck_nb as dn\n",
        "from deck_nb import history as h\nimport deck_nb as dn\nimport deck_nb.history.frames\n",
    ]
    check = (
        "print(h is dn.history, type(h()).__name__, type(dn.history()).__name__,"
        " h.History.__name__, dn.history.History is h.History)"
    )
    for order in orders:
        assert _run(order + check) == ["True", "History", "History", "History", "True"], order


def test_dn_history_reads_a_history_file(tmp_path):
    path = tmp_path / "h.sqlite"
    dn.history.Journal(str(path)).close()
    assert isinstance(dn.history(path), History)
    assert dn.history(path).runs.empty


def test_dir_lists_only_public_names():
    names = dir(dn)
    assert {"Any", "annotations", "importlib"}.isdisjoint(names)
    assert [n for n in names if n.startswith("_")] == ["__version__"]
    assert {"connect", "run_task", "run_many", "history", "Deck", "History", "notebook"} <= set(names)
    for name in names:
        assert getattr(dn, name) is not None, name  # every listed name is really there
