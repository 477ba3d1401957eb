"""nbval runs these notebooks headless: the same cells get their answers from the simulator
responder (no person), and the embedded simulator runs 20× faster. They run on Deck's current API
(``DECK_API=credentials``, what a real key meets); ``tests/test_notebooks_seed_api.py`` runs them
again on the seed's API by setting ``DECK_NB_NOTEBOOKS_API=connections``."""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@functools.cache
def shipped() -> frozenset[str]:
    """The notebooks the project ships: the ones ``build.py`` writes. Any other notebook here (one a
    person made in Lab, e.g. ``Untitled.ipynb``) is theirs: pytest does not collect it."""
    spec = importlib.util.spec_from_file_location("deck_nb_notebooks_build", HERE / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.NOTEBOOKS)


DOWNLOADS = "deck_files"  # where the notebooks' dn.download saves files: a source named them, never run them


def _downloaded(path: Path) -> bool:
    return path.is_relative_to(HERE) and DOWNLOADS in path.relative_to(HERE).parts


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    if _downloaded(collection_path):  # e.g. a bill a portal named test_x.py or x.ipynb
        return True
    if collection_path.suffix == ".ipynb" and collection_path.parent == HERE:
        return collection_path.name not in shipped() or None
    return None


HEADLESS = {"DECK_NB_RESPONDER": "simulator", "DECK_SIM_TIME_SCALE": "0.05"}


_SAVED: dict[str, str | None] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.path.suffix == ".ipynb":  # the kernel starts with the first cell and inherits this
        _SAVED.update({name: os.environ.get(name) for name in (*HEADLESS, "DECK_API")})
        os.environ.update(HEADLESS)
        os.environ["DECK_API"] = os.environ.get("DECK_NB_NOTEBOOKS_API") or "credentials"


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Give the environment back: the next test in this process (a worker runs files in any order)
    must not inherit the notebooks' API or responder."""
    for name, value in _SAVED.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _SAVED.clear()
