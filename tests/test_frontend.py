"""How a job waits for a person, judged from what reaches a real kernel: a headless client (no
stdin, no page) fails at once; a page that never speaks fails in seconds; a kernel that takes a
page's message only after the cell ends is found out (the probe), so deck_nb stops awaiting in the
cell there; a kernel that takes it while the cell awaits keeps awaiting."""

from __future__ import annotations

import time

import pytest
from kernel_driver import KernelBrowser

pytestmark = pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.05, rate_limit="off")

FORM_CELL = """
import deck_nb.notebook._frontend as fe
from deck_nb.client import Interaction
from deck_nb.widgets import InteractionForm
form = InteractionForm(Interaction(type="mfa", fields=[{"name": "code", "type": "string", "label": "Code"}]))
watch = fe.PageWatch(form.widget)
display(form.widget)
print("BEFORE", fe.waiting_mode())
print("DURING", await watch.drawn(2), fe.KERNEL.probe)
"""


def _kernel(sim, **kw) -> KernelBrowser:
    env = {"DECK_API_KEY": sim.api_key, "DECK_BASE_URL": sim.base_url, "DECK_NB_RESPONDER": ""}
    return KernelBrowser(env, **kw)


def _run(kernel: KernelBrowser, code: str, marker: str) -> str:
    errors = len(kernel.errors)
    kernel.kc.execute(code)
    kernel.pump(lambda k: marker in k.printed() or len(k.errors) > errors, timeout=60)
    return kernel.printed()


@pytest.mark.parametrize("serial", [True, False], ids=["comms-after-the-cell", "comms-while-awaiting"])
def test_the_probe_tells_whether_a_page_message_reaches_an_awaiting_cell(sim, serial):
    kernel = _kernel(sim, serial=serial)
    try:
        printed = _run(kernel, FORM_CELL, "DURING")
        assert "BEFORE await" in printed  # ipykernel 7.4, nothing heard yet: await (and probe)
        printed = _run(
            kernel, "print('AFTER', fe.waiting_mode(), fe.KERNEL.during_cell, fe.KERNEL.after_cell)", "AFTER"
        )
        if serial:  # the page's ready waited for the cell to end: never await in a cell here
            assert "DURING False None" in printed and "AFTER return 0 1" in printed, printed
        else:
            assert "DURING True await" in printed and "AFTER await 1 0" in printed, printed
        assert not kernel.errors, kernel.errors
    finally:
        kernel.close()


def test_a_headless_client_fails_the_job_at_once_with_no_answer(sim):
    kernel = _kernel(sim)
    try:
        started = time.monotonic()
        kernel.kc.execute("import deck_nb as dn\nawait dn.connect('src_sim_power', 'ada', 'pw')", allow_stdin=False)
        kernel.pump(lambda k: k.errors, timeout=30)
        elapsed = time.monotonic() - started
        error = kernel.errors[0]
        assert "NoAnswer" in error and "(mfa: code)" in error and "this kernel runs headless" in error, error
        assert "respond=" in error and "DECK_NB_RESPONDER" in error and "DECK_NB_REPLAY" in error
        assert kernel.find(dom_class="deck-nb-form") is None  # no form was drawn for nobody
        assert elapsed < 10, elapsed
    finally:
        kernel.close()


@pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.5, rate_limit="off")  # the code's window
def test_a_client_whose_page_never_speaks_fails_in_seconds_not_at_a_timeout(sim):  # outlasts both waits
    kernel = _kernel(sim, renders=False)  # allows stdin (a console, a script) but draws nothing
    try:
        started = time.monotonic()
        # no page spoke while the cell awaited: it may speak only once the cell ends, so the cell returns
        printed = _run(
            kernel,
            "import deck_nb as dn\njob = await dn.connect('src_sim_power', 'ada', 'pw')\nprint('RETURNED', job.done)",
            "RETURNED",
        )
        assert "RETURNED False" in printed and not kernel.errors, (printed, kernel.errors)
        card = kernel.find(dom_class="deck-nb-card-widget")
        kernel.pump(lambda k: "stopped (NoAnswer)" in k.models[card]["value"], timeout=15)  # nothing spoke after
        elapsed = time.monotonic() - started  # it either: the job stopped in seconds, not at a timeout
        assert 6 <= elapsed < 15, elapsed
        assert "only once a cell ends" not in kernel.models[card]["value"]  # said only while it may be true
        printed = _run(kernel, "print('FORM', job.responder.form.note)", "FORM")
        assert "FORM No front end drew this form" in printed, printed
    finally:
        kernel.close()


def test_a_page_that_speaks_keeps_the_job_awaiting_and_the_form_answers(sim):
    kernel = _kernel(sim)
    try:
        kernel.kc.execute(
            "import deck_nb as dn\njob = await dn.connect('src_sim_power', 'ada', 'pw')\nprint('STATUS', job.status)"
        )
        kernel.pump(lambda k: k.find(dom_class="deck-nb-form") is not None, timeout=30)
        time.sleep(3.5)  # past the probe's 3 s: the page said ready, so the job keeps waiting for the person
        form = kernel.find(dom_class="deck-nb-form")
        kernel.send(form, {"event": "submit", "values": {"code": "123456"}})
        kernel.pump(lambda k: "STATUS" in k.printed() or k.errors, timeout=30)
        assert "STATUS connected" in kernel.printed(), kernel.errors
    finally:
        kernel.close()


def test_outside_a_kernel_jobs_wait_as_scripts_do_and_the_override_wins(monkeypatch):
    from deck_nb.notebook import _frontend

    monkeypatch.delenv(_frontend.OVERRIDE, raising=False)
    assert _frontend.waiting_mode() == "await" and _frontend.waiting_note() == ""
    monkeypatch.setenv(_frontend.OVERRIDE, "return")
    assert _frontend.waiting_mode() == "return"
    assert "answer the form, then run the next cell" in _frontend.waiting_note()
    monkeypatch.setenv(_frontend.OVERRIDE, "sometimes")  # not a mode: ignored, the guess stands
    assert _frontend.waiting_mode() == "await"
