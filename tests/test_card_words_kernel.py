"""One card per job in a real kernel, read as a person reads it: a run waiting for approval shown as
a cell's result is its one live card with a real Cancel button (no static copy under it); a cancel
from a later cell moves that card there and follows the run to ``canceled``; and where the front end
cannot deliver a form's messages while a cell waits, the cell returns with the card and the form and
the next cell reads the job (the front-end decision is faked here: helper F's probe makes it)."""

from __future__ import annotations

import json

import pytest
from kernel_driver import KernelBrowser

pytestmark = pytest.mark.deck_simulator(api="credentials", clock="real", time_scale=0.05, rate_limit="off")
SEED = pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.05, rate_limit="off")

START = (
    "import asyncio, deck_nb as dn\n"
    "conn = await dn.connect('src_sim_power', username='ada', password='pw', respond={'code': '123456'})\n"
    "first = await dn.run_task('task_sim_bills', conn)\n"  # logs in, so the next run reuses the session
    "pay = dn.run_task('task_sim_pay_bill', conn, {'amount': 5})\n"
    "while pay.status != 'review_required':\n"
    "    await asyncio.sleep(0.05)\n"
)


@pytest.fixture
def kernel(sim):
    browser = KernelBrowser({"DECK_API_KEY": sim.api_key, "DECK_BASE_URL": sim.base_url, "DECK_NB_RESPONDER": ""})
    yield browser
    browser.close()


def settle(kernel: KernelBrowser, seconds: float = 1.0) -> None:
    try:
        kernel.pump(lambda k: False, timeout=seconds)
    except TimeoutError:
        pass


def card_of(kernel: KernelBrowser, title: str) -> tuple[str, str, str]:
    """(the job's box, its card's HTML widget, its Cancel button) by the card's title."""
    for box, state in kernel.models.items():
        if "deck-nb-job" not in state.get("_dom_classes", []):
            continue
        card, button, _ = (c.removeprefix("IPY_MODEL_") for c in state["children"])
        if f"<b>{title}</b>" in kernel.models[card].get("value", ""):
            return box, card, button
    raise AssertionError(f"no card titled {title!r}")


def places_of(kernel: KernelBrowser, box: str) -> set[str]:
    """The display ids under which the job's card was ever shown."""
    return {o["transient"]["display_id"] for o in displays_of(kernel, box)}


def displays_of(kernel: KernelBrowser, box: str) -> list[dict]:
    return [
        o
        for o in kernel.outputs
        if o.get("data", {}).get("application/vnd.jupyter.widget-view+json", {}).get("model_id") == box
    ]


def static_cards(kernel: KernelBrowser) -> list[dict]:
    """Cards shown as HTML alone (a copy): a live card's output carries the widget view, its HTML and
    text being only the twin a saved notebook shows; a finished job's final card replaces it in place."""
    return [
        o
        for o in kernel.outputs
        if "deck-nb-card" in json.dumps(o.get("data", {}).get("text/html", ""))
        and "application/vnd.jupyter.widget-view+json" not in o.get("data", {})
        and not o.get("transient", {}).get("display_id")
    ]


def test_a_run_in_review_shown_as_the_result_is_one_card_whose_cancel_button_cancels_it(kernel):
    kernel.execute(START + "pay\n")
    kernel.pump(lambda k: any("review_required" in s.get("value", "") for s in k.models.values()), timeout=60)
    settle(kernel)
    box, card, button = card_of(kernel, "run task_sim_pay_bill")
    assert len(places_of(kernel, box)) == 1 and static_cards(kernel) == []  # one card, no copy under it
    saved = [o["data"]["text/plain"] for o in displays_of(kernel, box)]
    assert "review_required" in saved[-1]  # a saved notebook's text line reads what the card read
    page = kernel.models[card]["value"]
    assert "review_required" in page and "waiting for approval in Deck&#x27;s console" in page
    layout = kernel.models[kernel.models[button]["layout"].removeprefix("IPY_MODEL_")]
    assert kernel.models[button]["description"] == "Cancel run" and layout.get("display") in ("", None)
    kernel.click(button)  # what a person's click sends
    kernel.pump(lambda k: ">canceled</span>" in k.models[card].get("value", ""), timeout=60)
    kernel.execute("print('END', pay.status, pay.run.result)")
    kernel.pump(lambda k: "END" in k.printed())
    assert "END canceled unknown" in kernel.printed(), kernel.errors
    assert static_cards(kernel) == [] and len(places_of(kernel, box)) == 1


def test_a_cancel_from_a_later_cell_moves_the_one_card_there_and_follows_it_to_canceled(kernel):
    kernel.execute(START + "try:\n    await pay.wait_async(timeout=0.3)\nexcept dn.DeckError:\n    print('STOPPED')\n")
    kernel.pump(lambda k: "STOPPED" in k.printed(), timeout=60)
    box, card, _ = card_of(kernel, "run task_sim_pay_bill")
    assert "stopped (timed out)" in kernel.models[card]["value"]
    kernel.execute("pay.cancel()")
    kernel.pump(lambda k: ">canceled</span>" in k.models[card].get("value", ""), timeout=60)
    settle(kernel)
    shown = displays_of(kernel, box)
    assert static_cards(kernel) == [], "a static second card"
    first_id = shown[0]["transient"]["display_id"]
    cleared = [
        o
        for o in kernel.outputs
        if o.get("transient", {}).get("display_id") == first_id and o.get("data") == {"text/plain": ""}
    ]
    assert cleared, "the card's first place was not emptied when it moved"
    assert len(places_of(kernel, box)) == 2  # shown in the first cell, then moved to the cancel's
    assert "canceled" in kernel.models[card]["value"]


@SEED
def test_where_a_cell_cannot_receive_the_form_it_returns_and_the_next_cell_reads_the_job(kernel):
    kernel.execute(
        "import deck_nb as dn\n"
        "import deck_nb.notebook._async_shell as shell\n"
        "shell.waiting_mode = lambda: 'return'  # what a front end that cannot deliver messages decides\n"
        "conn = await dn.connect('src_sim_power', 'ada', 'pw')\n"
        "print('RETURNED', conn.status, conn.done)\n"
        "try:\n"
        "    conn.result\n"
        "except dn.notebook.JobPending as e:\n"
        "    print('PENDING', e)\n"
    )
    kernel.pump(lambda k: "PENDING" in k.printed(), timeout=60)  # the cell ended before any answer
    assert "RETURNED interaction_required False" in kernel.printed(), kernel.errors
    assert "waits for a person's answer in its form" in kernel.printed()
    form = kernel.find(dom_class="deck-nb-form")
    assert form is not None  # the form stays live under the returned cell
    _, card, _ = card_of(kernel, "connect src_sim_power")
    assert "answer over only once a cell ends: answer the form, then run the next cell" in kernel.models[card]["value"]
    controls = kernel.models[form]["controls"]
    kernel.send(form, {"event": "submit", "values": {controls[0]["name"]: "123456"}})  # its handler submits
    kernel.execute("await conn\nprint('AFTER', conn.status, conn.result.status)")
    kernel.pump(lambda k: "AFTER" in k.printed(), timeout=60)
    assert "AFTER connected connected" in kernel.printed(), kernel.errors
    assert "answer the form" not in kernel.models[card]["value"]  # said only while it was true


@SEED
def test_run_all_run_task_on_a_login_nobody_awaited_waits_for_it(kernel):
    # what Run All or papermill does: the cells follow one another with no await between them
    kernel.execute(
        "import deck_nb as dn\n"
        "conn = dn.connect('src_sim_power', username='ada', password='pw', respond={'code': '123456'})\n"
        "run = dn.run_task('task_sim_bills', conn, {'months': 2})\n"
        "print('MADE', conn.id is None)\n"
        "await run\n"
        "print('RUN', run.status, conn.status, run.run.connection_id == conn.id)"
    )
    kernel.pump(lambda k: "RUN " in k.printed() or k.errors, timeout=60)
    assert "MADE True" in kernel.printed() and "RUN completed connected True" in kernel.printed(), kernel.errors
