"""Headless code loads no widgets: a script that connects with a dict responder never imports
ipywidgets or IPython (checked in a fresh interpreter, where nothing else could have loaded them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.01, rate_limit="off")

SCRIPT = """
import json, sys
import deck_nb as dn
deck = dn.Deck(api_key=sys.argv[1], base_url=sys.argv[2])
job = dn.connect("src_sim_power", "ada", "pw", respond={"code": "123456"}, deck=deck).wait(timeout=30)
print(json.dumps({"status": job.status, "text": repr(job),
                  "loaded": sorted(m for m in ("ipywidgets", "IPython", "anywidget") if m in sys.modules)}))
"""


def test_a_headless_connect_imports_neither_ipywidgets_nor_ipython(sim):
    env = {**os.environ, "DECK_NB_RESPONDER": ""}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, sim.api_key, sim.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["status"] == "connected" and "connected" in report["text"]
    assert report["loaded"] == []


def test_a_client_and_a_first_untyped_answer_load_no_models_until_a_resource_is_used(sim):
    """What a kernel start pays before its first answer: pydantic (most of the client's import) and
    the models load with the first resource used, not with ``import deck_nb`` or ``Deck()``."""
    code = (
        "import sys\n"
        "import deck_nb as dn\n"
        "from deck_nb.client import Deck, DeckError\n"
        "deck = dn.Deck(api_key=sys.argv[1], base_url=sys.argv[2])\n"
        "assert deck.test()['status'] == 'ready'\n"
        "print('pydantic' in sys.modules)\n"
        "sources = list(deck.sources.list())\n"
        "print('pydantic' in sys.modules, type(sources[0]).__name__, deck.sources is deck.sources)\n"
        "from deck_nb.client import TaskRun\n"
        "print(TaskRun.__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, sim.api_key, sim.base_url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "Source", "True", "TaskRun"]


def test_the_field_rules_and_the_card_text_import_without_ipywidgets():
    code = (
        "import sys\n"
        "from deck_nb.widgets._fields import rule_for\n"
        "from deck_nb.widgets._card_state import CardState, tone\n"
        "from deck_nb.notebook.responders import ConsoleResponder\n"
        "print('ipywidgets' in sys.modules, 'IPython' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_the_notebook_layer_exports_what_users_type_each_with_a_docstring():
    import inspect

    import deck_nb.notebook as nb
    import deck_nb.widgets as widgets

    internals = {"resolve_responder", "Prompt", "NoAnswer", "RULES", "tone", "InteractionRecord", "CardState"}
    assert internals.isdisjoint(nb.__all__) and internals.isdisjoint(widgets.__all__)
    undocumented = []
    for name in nb.__all__:
        obj = getattr(nb, name)
        doc = inspect.getdoc(obj) or ""
        if not doc or doc.startswith(f"{name}("):  # a dataclass's generated signature is not a docstring
            undocumented.append(name)
        for attr in ("wait", "wait_async", "raise_for_status", "cancel", "refresh", "submit", "apply", "status"):
            member = getattr(obj, attr, None) if inspect.isclass(obj) and issubclass(obj, nb.Job) else None
            if member is not None and not inspect.getdoc(member):
                undocumented.append(f"{name}.{attr}")
    assert undocumented == []
