"""Batches: many runs at once, watched from the event feed, with an inbox of pending forms."""

from __future__ import annotations

import asyncio

import httpx
import pytest

import deck_nb as dn
from deck_nb.notebook import InboxResponder, run_many
from deck_nb.notebook.batch import FRAME_COLUMNS
from deck_nb.widgets import Dashboard

# prompts stay open 12 s here (120 s scaled): a loaded machine still answers them in time
pytestmark = pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.1, rate_limit="200/10s")


@pytest.fixture
def deck(sim):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as client:
        yield client


@pytest.fixture
def mobile(deck):
    return dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(20)


def test_a_batch_runs_everything_with_failures_isolated_and_few_requests(deck, sim, mobile):
    items = [dn.RunTask("task_sim_usage", mobile, {"days": 2}) for _ in range(30)]
    items += [dn.Pull("src_sim_power", "bad", "pass_bad", task_id="task_sim_bills")]  # fails: never stops the batch
    items += [{"task_id": "task_sim_bills", "connection_id": mobile.id, "input": {"fail_with": "source_error"}}]
    before = sim.stats()["requests"]
    result = dn.run_many_sync(items, respond={"code": "123456"}, deck=deck, concurrency=32, poll_interval=0.2)
    assert len(result) == 32 and [o.index for o in result] == list(range(32))
    assert [o.status for o in result[:30]] == ["completed"] * 30 and all(o.ok for o in result[:30])
    assert result[30].status == "invalid" and not result[30].ok
    assert result[31].status == "failed" and result[31].run.errors[0].code == "source_error"
    assert all(len(o.output["usage"]) == 2 for o in result[:30])
    used = sim.stats()["requests"] - before
    minimum = 30 * 2 + 1 + 1  # a create and a submit per run; one create each for the failures
    assert used <= minimum + result.event_polls + 5
    assert result.event_polls < 60  # one request per tick, whatever the number of runs
    assert sim.stats()["rate_limited"] == 0
    frame = result.frame
    assert frame["ok"].sum() == 30 and list(frame.columns) == FRAME_COLUMNS
    codes = frame["error_code"]
    assert codes.isna().sum() == 30 and codes.tolist()[30:] == ["auth_invalid", "source_error"]
    assert set(frame["source_id"]) == {"src_sim_mobile", "src_sim_power"} and (frame["duration_s"] > 0).all()
    assert frame.loc[30, ["source_id", "task_id", "username"]].tolist() == ["src_sim_power", "task_sim_bills", "bad"]


def test_batch_items_are_checked_before_anything_starts(deck, sim):
    with pytest.raises(ValueError, match="not a connect, run or pull"):
        dn.run_many_sync([{"source_id": "src_sim_power"}], deck=deck)
    with pytest.raises(TypeError):
        dn.run_many_sync(["src_sim_power"], deck=deck)
    assert sim.stats()["connections_created"] == 0


def test_inbox_holds_pending_forms_oldest_first_and_empties(deck, mobile):
    dashboard = Dashboard(6)

    async def scenario():
        batch = asyncio.ensure_future(  # noqa: RUF006 - kept and awaited below
            run_many(
                [dn.RunTask("task_sim_usage", mobile, {"days": 1}) for _ in range(6)],
                dashboard=dashboard,
                deck=deck,
                poll_interval=0.1,
            )
        )
        seen_order = []
        while not batch.done():
            if len(dashboard.inbox.children) >= 3 or (dashboard.inbox.children and len(seen_order) >= 3):
                oldest = dashboard.inbox.children[0]
                form = next(f for f in dashboard.forms if f.widget is oldest)
                seen_order.append(form)
                form.fill_and_submit(code="123456")
            await asyncio.sleep(0.02)
        return await batch, seen_order

    result, answered = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert all(o.ok for o in result) and len(answered) == 6
    assert dashboard.inbox.children == () and dashboard.finished == 6
    assert (dashboard.ok, dashboard.failed) == (6, 0) and "6 / 6 · 6 ok · 0 failed" in dashboard.bar.value
    assert +dashboard.counts["runs"] == {"completed": 6} and "completed 6" in dashboard.summary.value
    assert all(f.closed for f in answered)


def test_dashboard_keeps_no_widget_per_finished_run(deck, mobile):
    dashboard = Dashboard(40)
    inbox = InboxResponder(dashboard)

    async def scenario():
        async def person():
            while True:
                for form in list(dashboard.forms):
                    if not form.closed:
                        form.fill_and_submit(code="123456")
                await asyncio.sleep(0.02)

        helper = asyncio.ensure_future(person())
        try:
            return await run_many(
                [dn.RunTask("task_sim_usage", mobile, {"days": 1}) for _ in range(40)],
                respond=inbox,
                dashboard=dashboard,
                deck=deck,
                concurrency=40,
                poll_interval=0.1,
            )
        finally:
            helper.cancel()

    result = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert all(o.ok for o in result)
    assert dashboard.inbox.children == () and dashboard.forms == [] and inbox.forms == {}
    assert len(dashboard.recent) <= 15 and dashboard.finished == 40


def test_falls_back_to_polling_where_there_is_no_event_feed(sim, mobile):
    """A proxy that hides /v2/events (as a service without the feed would) over real HTTP."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from deck_nb._serve import ServerThread

    async def forward(request):
        if request.url.path.startswith("/v2/events"):
            return JSONResponse({"errors": [{"type": "request", "code": "route_not_found"}]}, 404)
        async with httpx.AsyncClient() as client:
            upstream = await client.request(
                request.method,
                f"{sim.root_url}{request.url.path}",
                params=request.query_params,
                content=await request.body(),
                headers={k: v for k, v in request.headers.items() if k != "host"},
            )
        return Response(upstream.content, upstream.status_code, media_type="application/json")

    app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
    proxy = ServerThread(app, host="127.0.0.1", port=0).start()
    try:
        with dn.Deck(api_key=sim.api_key, base_url=f"{proxy.root_url}/v2") as hidden:
            result = dn.run_many_sync(
                [dn.RunTask("task_sim_usage", mobile.id, {"days": 1}) for _ in range(3)],
                respond={"code": "123456"},
                deck=hidden,
            )
        assert all(o.ok for o in result)
    finally:
        proxy.stop()


def test_webhook_deliveries_can_feed_the_batch_instead_of_polling(deck, sim, mobile):
    from deck_nb.client.webhooks import WebhookReceiver

    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    receiver = WebhookReceiver(secret).serve()
    try:
        deck.event_destinations.create(name="batch", url=receiver.url, secret=secret, events=["task_run.*"])
        result = dn.run_many_sync(
            [dn.RunTask("task_sim_usage", mobile, {"days": 1}) for _ in range(5)],
            respond={"code": "123456"},
            deck=deck,
            webhooks=receiver,
        )
    finally:
        receiver.stop()
    assert all(o.ok for o in result)
    # a create and a submit per run (the client's one API-detection probe was made by dn.connect)
    assert result.event_polls == 0 and result.requests == 5 * 2


def test_duplicate_and_out_of_order_events_never_corrupt_a_job_or_the_history(deck, mobile, sim):
    import random

    from deck_nb.history import History, Journal

    run = dn.run_task("task_sim_usage", mobile, respond={"code": "123456"}, deck=deck).wait(20)
    events = [e for e in deck.events.list(types=["task_run.*"]) if e.data["id"] == run.id]
    assert [e.type for e in events][-1] == "task_run.completed"
    shuffled = events * 2
    random.Random(4).shuffle(shuffled)
    journal = Journal()
    for event in shuffled:  # as a webhook receiver would hand them over
        run.apply(event)
        journal.on_object(event)
    assert run.status == "completed" and run.output is not None
    frame = History([journal]).runs
    assert frame["status"].tolist() == ["completed"]
    with pytest.raises(ValueError):
        run.apply(events[0].model_copy(update={"data": {**events[0].data, "id": "trun_other"}}))
