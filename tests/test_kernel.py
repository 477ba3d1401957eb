"""A real kernel runs ``await deck_nb.connect(...)``; the test plays the browser (the comm message
a form's page sends on Submit, carrying every value) and sees the connection and the run finish."""

from __future__ import annotations

import json
import time

import pytest
from kernel_driver import KernelBrowser

pytestmark = pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.05, rate_limit="off")


@pytest.fixture
def kernel(sim):
    browser = KernelBrowser({"DECK_API_KEY": sim.api_key, "DECK_BASE_URL": sim.base_url, "DECK_NB_RESPONDER": ""})
    yield browser
    browser.close()


def _answer_form(kernel: KernelBrowser, seen: set[str], answer) -> dict:
    """Wait for a new form, then send what its page sends on Submit: every value in one message."""
    kernel.pump(lambda k: k.find(dom_class="deck-nb-form", after=seen) is not None)
    form = kernel.find(dom_class="deck-nb-form", after=seen)
    state = kernel.models[form]
    kernel.send(form, {"event": "submit", "values": answer(state["controls"])})
    seen.update(kernel.models)
    return state


def test_await_connect_in_a_cell_is_answered_through_the_widget_comms(kernel):
    kernel.execute(
        "import deck_nb as dn\n"
        "job = await dn.connect('src_sim_power', 'ada', 'pw')\n"
        "print('STATUS', job.status, [r.outcome for r in job.interactions])"
    )
    seen: set[str] = set()
    first = _answer_form(kernel, seen, lambda controls: {controls[0]["name"]: "000000"})
    second = _answer_form(kernel, seen, lambda controls: {controls[0]["name"]: "123456"})
    kernel.pump(lambda k: "STATUS" in k.printed())
    assert "STATUS connected ['rejected', 'accepted']" in kernel.printed(), kernel.errors
    assert first["controls"][0]["label"] == second["controls"][0]["label"] == "Verification code"
    # no widget state ever held the code: the page sent it in a message, not as state
    assert "123456" not in json.dumps(kernel.models) and "000000" not in json.dumps(kernel.models)


def test_account_selection_mid_run_through_a_dropdown(kernel):
    kernel.execute(
        "import deck_nb as dn\n"
        "conn = dn.connect('src_sim_bank', 'ada', 'pw', respond={'code': '123456', 'answer': 'rex'}).wait()\n"
        "run = await dn.run_task('task_sim_statements', conn, respond='widget')\n"
        "print('STATUS', run.status, run.output['account_id'])"
    )
    seen: set[str] = set()
    chosen = {}

    def pick_second(controls):
        chosen.update(controls[0]["options"][1])
        return {controls[0]["name"]: controls[0]["options"][1]["value"]}

    _answer_form(kernel, seen, pick_second)
    kernel.pump(lambda k: "STATUS" in k.printed())
    assert f"STATUS completed {chosen['value']}" in kernel.printed(), kernel.errors
    assert chosen["value"].startswith("acct_sav_") and chosen["label"].startswith("Savings")


def test_sync_wait_in_a_kernel_with_the_form_refuses_and_points_to_await(kernel):
    kernel.execute("import deck_nb as dn\ndn.connect('src_sim_power', 'ada', 'pw').wait()")
    kernel.pump(lambda k: k.errors)
    assert "NeedsAwait" in kernel.errors[0] and "await job" in kernel.errors[0]


def _card(kernel: KernelBrowser) -> str:
    card = kernel.find(dom_class="deck-nb-card-widget")
    return kernel.models[card].get("value", "") if card else ""


def _texts(kernel: KernelBrowser) -> list[str]:
    return [o["data"].get("text/plain", "") for o in kernel.outputs]


def test_a_job_nobody_awaits_runs_on_in_the_background_and_await_follows_it(kernel):
    kernel.execute("import deck_nb as dn\nconn = dn.connect('src_sim_power', 'ada', 'pw')")  # no await
    kernel.pump(lambda k: "interaction_required" in _card(k))  # it ran on: created, asked for a code
    first = _card(kernel)
    kernel.pump(lambda k: _card(k) != first and "interaction_required" in _card(k), timeout=5)  # live clock
    kernel.execute(
        "try:\n    conn.wait()\nexcept dn.DeckError as e:\n    print('REFUSED', type(e).__name__, e)\n"
        "print('FORM', conn.responder.form is not None)\nconn.submit(code='123456')"
    )
    kernel.pump(lambda k: "connected" in _card(k))
    kernel.execute("c = await conn\nprint('STATUS', c.status, c is conn, [r.outcome for r in c.interactions])")
    kernel.pump(lambda k: "STATUS" in k.printed())
    assert "FORM True" in kernel.printed() and "STATUS connected True ['accepted']" in kernel.printed()
    assert "REFUSED NeedsAwait" in kernel.printed() and "await job" in kernel.printed()
    assert not kernel.errors
    # the displayed card reads as one line without widgets, and the saved line is the final one
    texts = _texts(kernel)
    assert texts and all("VBox(" not in t and "deck-nb-card" not in t for t in texts), texts
    assert texts[0].startswith("connect src_sim_power") and "connected" in texts[-1], texts


def test_interrupt_stops_a_job_with_one_line_and_await_resumes_it(kernel):
    # stop_on_error=False: otherwise ipykernel aborts the next request after an interrupted cell
    kernel.kc.execute(
        "import deck_nb as dn\nconn = await dn.connect('src_sim_power', 'ada', 'pw')", stop_on_error=False
    )  # as the quickstart writes it: interrupted, `conn` is never bound
    kernel.pump(lambda k: "interaction_required" in _card(k))
    kernel.km.interrupt_kernel()
    kernel.pump(lambda k: k.errors, timeout=15)
    error = kernel.errors[0]
    assert "CancelledError" not in error and "JobInterrupted" in error and "`await dn.resume()` resumes it" in error
    assert len(error.splitlines()) <= 3, error
    kernel.pump(lambda k: "stopped (interrupted) — `await dn.resume()` resumes it" in _card(k), timeout=5)
    kernel.execute(
        "job = dn.resume()\nbefore = job.id\njob.submit(code='123456')\nj = await dn.resume()\n"
        "print('STATUS', j.status, j.id == before, 'conn' in dir())"
    )
    kernel.pump(lambda k: "STATUS" in k.printed())
    assert "STATUS connected True False" in kernel.printed() and len(kernel.errors) == 1, kernel.errors


def test_interrupting_a_sync_wait_also_ends_in_one_line_and_wait_resumes(kernel):
    kernel.kc.execute(
        "import time\nimport deck_nb as dn\n"
        "job = dn.connect('src_sim_power', 'ada', 'pw', respond=lambda i: time.sleep(30) or {'code': '1'})\n"
        "print('WAITING', flush=True)\njob.wait()",
        stop_on_error=False,
    )
    kernel.pump(lambda k: "WAITING" in k.printed())
    time.sleep(1.0)
    kernel.km.interrupt_kernel()
    kernel.pump(lambda k: k.errors, timeout=15)
    error = kernel.errors[0]
    assert "JobInterrupted" in error and "`dn.resume().wait()` resumes it" in error and len(error.splitlines()) <= 3, (
        error
    )
    kernel.execute("job.responder = dn.DictResponder({'code': '123456'})\nprint('STATUS', job.wait(20).status)")
    kernel.pump(lambda k: "STATUS" in k.printed())
    assert "STATUS connected" in kernel.printed() and len(kernel.errors) == 1, kernel.errors
