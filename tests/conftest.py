"""Shared fixtures: the simulator comes from deck_nb's own pytest plugin (``deck_simulator``)."""

from __future__ import annotations

import pytest
from helpers import Api


@pytest.fixture
def sim(deck_simulator):
    return deck_simulator


@pytest.fixture
def api(sim):
    client = Api(sim)
    yield client
    client.http.close()
