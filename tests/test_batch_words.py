"""The batch as a person reads it on Deck's current API: the dashboard counts credentials (not
connections), and each inbox form names whose account asks (username or external id, no secret)."""

from __future__ import annotations

import asyncio

import pytest

import deck_nb as dn
from deck_nb.notebook import run_many
from deck_nb.widgets import Dashboard

pytestmark = pytest.mark.deck_simulator(api="credentials", clock="real", time_scale=0.02, rate_limit="off")
PASSWORD = "Tr0ub4dor-inbox"


@pytest.fixture
def deck(sim):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as client:
        yield client


async def _answer_the_inbox(items, deck, dashboard):
    """Run the batch and answer each inbox form as a person would, keeping the titles they read."""
    batch = asyncio.create_task(run_many(items, deck=deck, dashboard=dashboard, poll_interval=0.05))
    titles: list[str] = []
    while not batch.done():
        for form in list(dashboard.forms):
            if not form.closed:
                titles.append(form.widget.title)
                form.fill_and_submit(**{f.name: "123456" for f in form.fields})
        await asyncio.sleep(0.02)
    return await batch, titles


def test_inbox_forms_name_the_account_and_the_dashboard_counts_credentials(deck):
    items = [
        dn.Pull("src_sim_power", "ada", PASSWORD, task_id="task_sim_bills"),
        dn.Pull("src_sim_power", "grace", PASSWORD, task_id="task_sim_bills", external_id="crm-42"),
    ]
    dashboard = Dashboard(len(items), "nightly pull")
    result, titles = asyncio.run(asyncio.wait_for(_answer_the_inbox(items, deck, dashboard), 60))
    assert all(o.ok for o in result), [o.error for o in result]
    assert len(titles) == 2, titles
    assert any("for ada needs input" in t for t in titles), titles
    assert any("for grace · crm-42 needs input" in t for t in titles), titles
    assert all("trun_" in t and PASSWORD not in t and "123456" not in t for t in titles), titles
    summary = dashboard.summary.value
    assert "<b>credentials</b>" in summary and "verified 2" in summary, summary
    assert "connections" not in summary, summary
    assert "connections" not in dashboard.text()
