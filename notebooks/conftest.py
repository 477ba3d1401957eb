"""nbval runs these notebooks headless: the same cells get their answers from the simulator
responder (no person), and the embedded simulator runs 20× faster. They run on Deck's current API
(``DECK_API=credentials``, what a real key meets); ``tests/test_notebooks_seed_api.py`` runs them
again on the seed's API by setting ``DECK_NB_NOTEBOOKS_API=connections``."""

from __future__ import annotations

import os

import pytest

HEADLESS = {"DECK_NB_RESPONDER": "simulator", "DECK_SIM_TIME_SCALE": "0.05"}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.path.suffix == ".ipynb":  # the kernel starts with the first cell and inherits this
        os.environ.update(HEADLESS)
        os.environ["DECK_API"] = os.environ.get("DECK_NB_NOTEBOOKS_API") or "credentials"
