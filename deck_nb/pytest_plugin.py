"""pytest plugin (registered by entry point): a ``deck_simulator`` fixture for your own tests.

    def test_my_flow(deck_simulator):
        deck = deck_nb.Deck(api_key=deck_simulator.api_key, base_url=deck_simulator.base_url)

Options come from ``@pytest.mark.deck_simulator(clock="real", time_scale=0.01, rate_limit="off")``
(also ``api="both"|"connections"|"credentials"`` and ``session_limit=25|"off"``, as on
``deck_nb.simulator.start``); the default is a manual clock (time moves only on
``deck_simulator.advance(seconds)``, and a job's ``WaitTimeout`` there says so). Servers are
shared across tests with the same options and reset before each test; during a test, jobs that
name no client use one of its simulator (closed after the test).
"""

from __future__ import annotations

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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "deck_simulator(**options): options for the deck_simulator fixture")


def pytest_unconfigure(config: pytest.Config) -> None:
    from deck_nb import _clock_hints

    for handle in _SERVERS.values():
        _clock_hints.unmark(handle.base_url)
        handle.stop()
    _SERVERS.clear()
