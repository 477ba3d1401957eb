"""pytest plugin (registered by entry point): a ``deck_simulator`` fixture for your own tests.

    def test_my_flow(deck_simulator):
        deck = deck_nb.Deck(api_key=deck_simulator.api_key, base_url=deck_simulator.base_url)

Options come from ``@pytest.mark.deck_simulator(clock="real", time_scale=0.01, rate_limit="off")``
(also ``api="both"|"connections"|"credentials"`` and ``session_limit=25|"off"``, as on
``deck_nb.simulator.start``); the default is a manual clock (time moves only on
``deck_simulator.advance(seconds)``, and a job's ``WaitTimeout`` there says so). Servers are
shared across tests with the same options and reset before each test; during a test, jobs that
name no client use one of its simulator (closed after the test).

Recording and replay (docs/ci.md): ``pytest --deck-record=DIR`` records, ``pytest --deck-replay=DIR``
replays, with no key and no network. Each notebook under nbval gets ``DIR/<notebook>.deckrec``
(through ``DECK_NB_RECORD`` / ``DECK_NB_REPLAY``, which its kernel inherits); a test that uses the
``deck_recording`` fixture gets ``DIR/<module>/<test>.deckrec``. A path ending in ``.deckrec`` is
one recording for the whole run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

_DEFAULTS: dict[str, Any] = {"clock": "manual", "time_scale": 1.0, "rate_limit": "off"}
_SERVERS: dict[tuple, Any] = {}


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options = dict(_DEFAULTS)
    marker = request.node.get_closest_marker("deck_simulator")
    if marker is not None:
        options.update(marker.kwargs)
    return options


@pytest.fixture
def deck_simulator(request: pytest.FixtureRequest):
    """A running, freshly reset embedded Deck simulator (a ``SimulatorHandle``). During the test,
    jobs that name no client (``dn.run_task(...)``) use a client of this simulator, closed after."""
    from deck_nb import _clock_hints
    from deck_nb.client import Deck
    from deck_nb.notebook.session import swap_default_deck
    from deck_nb.simulator import start

    options = _options(request)
    key = tuple(sorted(options.items()))
    handle = _SERVERS.get(key)
    if handle is None or not handle.running:
        handle = _SERVERS[key] = start(**options)
    else:
        handle.reset()
    if options.get("clock") == "manual":  # a wait that runs out says why: nothing moves unless advanced
        _clock_hints.mark_manual(handle.base_url)
    deck = Deck(api_key=handle.api_key, base_url=handle.base_url)
    previous = swap_default_deck(deck)
    try:
        yield handle
    finally:
        swap_default_deck(previous)
        deck.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("deck_nb")
    group.addoption("--deck-record", metavar="DIR", help="record every Deck session into DIR (or one .deckrec)")
    group.addoption("--deck-replay", metavar="DIR", help="replay Deck sessions from DIR (or one .deckrec): no network")


def _recording_mode(config: pytest.Config) -> tuple[str, Path] | None:
    for mode in ("record", "replay"):
        value = config.getoption(f"--deck-{mode}", default=None)
        if value:
            return mode, Path(value)
    return None


def _recording_path(base: Path, *parts: str) -> Path:
    base = base.resolve()  # a notebook's kernel runs in the notebook's folder
    return base if base.suffix == ".deckrec" else base.joinpath(*parts).with_suffix(".deckrec")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A notebook's kernel starts with its first cell and inherits the environment set here."""
    chosen = _recording_mode(item.config)
    if chosen is None or item.path.suffix != ".ipynb":
        return
    mode, base = chosen
    path = _recording_path(base, item.path.stem)
    os.environ.pop("DECK_NB_RECORD" if mode == "replay" else "DECK_NB_REPLAY", None)
    os.environ[f"DECK_NB_{mode.upper()}"] = str(path)
    if mode == "record":
        os.environ["DECK_NB_RECORD_OVERWRITE"] = "1"


@pytest.fixture
def deck_recording(request: pytest.FixtureRequest):
    """This test's Deck traffic recorded (``--deck-record``) or replayed (``--deck-replay``, the
    default when the recording exists); yields the ``dn.record`` / ``dn.replay`` in use."""
    from deck_nb.recording import record, replay

    chosen = _recording_mode(request.config)
    module = request.node.path.stem
    if chosen is None:
        chosen = ("replay", request.node.path.parent / "recordings")
    mode, base = chosen
    path = _recording_path(base, module, request.node.name)
    if mode == "replay" and not path.exists():
        pytest.fail(f"no recording at {path}: run pytest --deck-record={base} once, with a key")
    session = record(path, overwrite=True) if mode == "record" else replay(path)
    with session:
        yield session


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "deck_simulator(**options): options for the deck_simulator fixture")


def pytest_unconfigure(config: pytest.Config) -> None:
    from deck_nb import _clock_hints

    for handle in _SERVERS.values():
        _clock_hints.unmark(handle.base_url)
        handle.stop()
    _SERVERS.clear()
