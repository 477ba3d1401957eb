"""Pacing under the organization's rate limit, as callers feel it: requests spread over the window
(no burst that starves everyone until it ages out), served in turn (no caller starves while others
keep winning), and a batch's one event-feed request never stuck behind the runs' own requests."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

import deck_nb as dn
from deck_nb.notebook import run_many

BOUND_S = 60


async def _timed_tests(sim, count: int, rate_limit: tuple[int, float]) -> list[tuple[int, float]]:
    """``count`` calls started in order at once; (start rank, seconds to its answer) in answer order."""
    answered: list[tuple[int, float]] = []
    async with dn.AsyncDeck(api_key=sim.api_key, base_url=sim.base_url, rate_limit=rate_limit) as deck:
        started = time.monotonic()

        async def one(rank: int) -> None:
            await deck.test()
            answered.append((rank, time.monotonic() - started))

        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(count))), BOUND_S)
    return answered


@pytest.mark.deck_simulator(rate_limit="off")
def test_a_window_is_spread_over_its_tenths_not_spent_in_one_burst(sim):
    answered = asyncio.run(_timed_tests(sim, 40, (20, 2.0)))  # 20 per 2 s: ~2 per 0.2 s
    times = sorted(t for _, t in answered)
    busiest = max(sum(1 for t in times if start <= t < start + 0.2) for start in times)
    assert busiest <= 5, f"{busiest} requests answered within 0.2 s: the window went out in a burst"
    assert times[-1] < 8  # and the pace is still the limit's: 40 requests at 10 per s, about 4 s


@pytest.mark.deck_simulator(rate_limit="off")
def test_waiting_callers_are_served_in_turn(sim):
    answered = asyncio.run(_timed_tests(sim, 40, (10, 1.0)))
    order = [rank for rank, _ in answered]
    out_of_turn = [(place, rank) for place, rank in enumerate(order) if abs(place - rank) > 3]
    assert not out_of_turn, f"answered far out of the order asked (place, rank): {out_of_turn[:5]}"


@pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.1, rate_limit="40/4s")
def test_a_saturated_batch_keeps_following_the_event_feed(sim, caplog):
    """60 runs × 2 requests under 40 per 4 s: the limit, not the runs, sets the pace for ~12 s. The
    feed's request goes first; were it queued behind a burst it would stall for 4 s, the batch would
    fall back to polling every run, and spend far more than 2 requests per run."""
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url, rate_limit=(40, 4.0), api="connections") as deck:
        conn = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(30)
        items = [dn.RunTask("task_sim_usage", conn, {"days": 1}) for _ in range(60)]
        time.sleep(4.2)  # the window empty: the batch starts with a full burst allowed
        with caplog.at_level(logging.WARNING, logger="deck_nb.batch"):
            result = asyncio.run(
                asyncio.wait_for(
                    run_many(items, respond={"code": "123456"}, deck=deck, concurrency=60, poll_interval=0.5),
                    BOUND_S,
                )
            )
    assert [o.status for o in result] == ["completed"] * 60
    assert not [r.getMessage() for r in caplog.records if "event feed failed" in r.getMessage()]
    assert result.requests / 60 < 2.3, f"{result.requests} requests for 60 runs"
