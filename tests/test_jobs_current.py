"""The notebook layer on Deck's current API (credentials and sessions), through the public face
against the simulator over loopback: the same cells as on the seed's API, one MFA per session,
review, cancelling, an invalid credential fixed by a PATCH, the minimal interaction shape."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import deck_nb as dn
from deck_nb.client import WaitTimeout

FAST = {"clock": "real", "time_scale": 0.01, "rate_limit": "off"}
pytestmark = pytest.mark.deck_simulator(api="credentials", **FAST)


@pytest.fixture
def deck(sim):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as client:
        yield client


class Counting:
    """A dict responder that counts the prompts it is shown, by interaction type."""

    def __init__(self, answers):
        self.asked: list[str] = []
        self.answers = answers

    def __call__(self, interaction):
        self.asked.append(interaction.type)
        return {f.name: self.answers[f.name] for f in interaction.fields}


def types(job):
    return [r.type for r in job.interactions]


@pytest.mark.parametrize(
    "api",
    [
        pytest.param("connections", marks=pytest.mark.deck_simulator(api="connections", **FAST)),
        pytest.param("credentials", marks=pytest.mark.deck_simulator(api="credentials", **FAST)),
    ],
)
def test_the_same_cells_drive_a_login_and_three_runs_on_both_apis(sim, deck, api):
    responder = Counting({"code": "123456"})
    conn = dn.connect("src_sim_power", username="ada", password="pw", respond=responder, deck=deck).wait(20)
    assert deck.api == api and conn.ok
    if api == "credentials":
        assert conn.status == "unverified" and conn.id.startswith("cred_")
        assert "stored — it is verified by its first run" in conn.card.text()
        assert responder.asked == []  # storing asks nothing: the first run logs in
    else:
        assert conn.status == "connected" and responder.asked == ["mfa"]
    cells = [("task_sim_bills", {"months": 2}), ("task_sim_usage", {"days": 3}), ("task_sim_bills", None)]
    runs = [dn.run_task(task, conn, inputs, deck=deck).wait(20) for task, inputs in cells]
    assert [r.status for r in runs] == ["completed"] * 3
    assert len(runs[0].output["bills"]) == 2 and len(runs[1].output["usage"]) == 3
    assert responder.asked == ["mfa"]  # one MFA for the login and three runs, on both APIs
    assert sim.stats()["logins"] == (1 if api == "credentials" else 0)
    if api == "credentials":
        assert types(runs[0]) == ["mfa"] and types(runs[1]) == types(runs[2]) == []
        assert len({r.run.session_id for r in runs}) == 1
        assert conn.status == "verified"  # the first run's login verified it
        assert f"credential {conn.id} verified" in runs[0].card.text()
        assert "reused session" in runs[1].card.note


def test_the_same_cells_awaited_in_an_event_loop(sim, deck):
    responder = Counting({"code": "123456"})

    async def cells():
        conn = await dn.connect("src_sim_power", username="ada", password="pw", respond=responder, deck=deck)
        runs = [await dn.run_task(t, conn, deck=deck) for t in ("task_sim_bills", "task_sim_usage", "task_sim_bills")]
        return conn, runs

    conn, runs = asyncio.run(asyncio.wait_for(cells(), 30))
    assert [r.status for r in runs] == ["completed"] * 3
    assert responder.asked == ["mfa"] and conn.status == "verified" and sim.stats()["logins"] == 1


def test_password_is_asked_in_a_masked_field_when_not_given(sim, deck):
    seen = []

    def respond(interaction):
        seen.append([(f.name, f.secret) for f in interaction.fields])
        return {"password": "pw"} if interaction.type == "credentials" else {"code": "123456"}

    conn = dn.connect("src_sim_power", username="ada", respond=respond, deck=deck).wait(20)
    assert conn.status == "unverified" and seen == [[("password", True)]]
    assert dn.run_task("task_sim_bills", conn, deck=deck).wait(20).ok and conn.status == "verified"
    assert "pw" not in repr(conn) and "pw" not in conn.card.text()


def test_session_false_logs_in_again_and_a_named_session_is_used(sim, deck):
    responder = Counting({"code": "123456"})
    conn = dn.connect("src_sim_power", username="ada", password="pw", respond=responder, deck=deck).wait(20)
    first = dn.run_task("task_sim_bills", conn, deck=deck).wait(20)
    fresh = dn.run_task("task_sim_bills", conn, deck=deck, session=False).wait(20)
    assert fresh.ok and responder.asked == ["mfa", "mfa"] and fresh.run.session_id != first.run.session_id
    named = dn.run_task("task_sim_usage", conn, deck=deck, session=first.run.session_id).wait(20)
    assert named.ok and named.run.session_id == first.run.session_id and responder.asked == ["mfa", "mfa"]
    for wrong in ("", 3, None):
        with pytest.raises(ValueError, match="session="):
            dn.run_task("task_sim_bills", conn, deck=deck, session=wrong)


def test_an_ended_session_is_replaced_by_a_new_one_with_a_note(sim, deck):
    responder = Counting({"code": "123456"})
    conn = dn.connect("src_sim_power", username="ada", password="pw", respond=responder, deck=deck).wait(20)
    first = dn.run_task("task_sim_bills", conn, deck=deck).wait(20)
    deck.sessions.end(first.run.session_id)
    again = dn.run_task("task_sim_bills", conn, deck=deck).wait(20)
    assert again.ok and again.run.session_id != first.run.session_id
    assert f"session {first.run.session_id} had ended; a new session logs in" in again.card.text()
    assert responder.asked == ["mfa", "mfa"]  # the new session logs in
    third = dn.run_task("task_sim_bills", conn, deck=deck).wait(20)
    assert third.run.session_id == again.run.session_id and responder.asked == ["mfa", "mfa"]


def test_a_session_that_ended_by_idling_is_replaced(sim, deck):
    conn = dn.connect("src_sim_power", username="ada", password="pw", respond={"code": "123456"}, deck=deck).wait(20)
    first = dn.run_task("task_sim_bills", conn, deck=deck).wait(20)
    deadline = time.monotonic() + 15  # 10 idle minutes × 0.01 = 6 s
    while deck.sessions.retrieve(first.run.session_id).active and time.monotonic() < deadline:
        time.sleep(0.25)
    again = dn.run_task("task_sim_bills", conn, deck=deck).wait(20)
    assert again.ok and "had ended; a new session logs in" in again.card.note


def test_review_required_is_shown_and_waited_on_until_approved(sim, deck):
    conn = dn.connect("src_sim_power", username="ada", password="pw", respond={"code": "123456"}, deck=deck).wait(20)
    run = dn.run_task("task_sim_pay_bill", conn, {"amount": 42}, deck=deck)
    with pytest.raises(WaitTimeout):
        run.wait(timeout=1.5)
    assert run.status == "review_required"
    waiter = threading.Thread(target=run.wait, kwargs={"timeout": 20})
    before = sim.stats()["requests"]
    waiter.start()
    time.sleep(1.5)
    assert waiter.is_alive() and run.status == "review_required"  # it keeps waiting, never approves
    assert "waiting for approval in Deck's console" in run.card.text()
    assert sim.stats()["requests"] - before <= 8  # it polls with a delay, it does not spin
    sim.review(run.id, "approve")
    waiter.join(20)
    assert run.status == "completed" and run.output["amount"] == 42
    assert "waiting for approval" not in run.card.text()


def test_cancel_in_review_shows_cancelling_then_canceled(sim, deck):
    conn = dn.connect("src_sim_power", username="ada", password="pw", respond={"code": "123456"}, deck=deck).wait(20)
    run = dn.run_task("task_sim_pay_bill", conn, {"amount": 5}, deck=deck)
    with pytest.raises(WaitTimeout):
        run.wait(timeout=1.5)
    assert run.status == "review_required"
    run.cancel()
    assert run.status == "cancelling" and "cancelling" in run.card.text() and not run.done
    run.wait(timeout=20)
    assert run.status == "canceled" and run.done


def test_wrong_password_makes_the_credential_invalid_and_a_patch_fixes_it(sim, deck):
    conn = dn.connect("src_sim_power", username="ada", password="pass_bad", respond={"code": "123456"}, deck=deck)
    conn.wait(20)
    bad = dn.run_task("task_sim_bills", conn, deck=deck).wait(20)
    assert bad.status == "failed" and bad.errors[0].code == "auth_invalid"
    assert conn.status == "invalid" and not conn.ok
    assert f"credential {conn.id} invalid:" in bad.card.text() and "invalid" in conn.card.text()
    deck.credentials.update(conn.id, password="pw")
    good = dn.run_task("task_sim_bills", conn, deck=deck).wait(20)
    assert good.ok and types(good) == ["mfa"]  # the failed session is not reused: a new login
    assert conn.status == "verified"


def test_forms_from_the_minimal_interaction_shape(sim, deck):
    bank = dn.connect("src_sim_bank", username="ada", password="pw", respond="simulator", deck=deck).wait(20)
    run = dn.run_task("task_sim_statements", bank, deck=deck).wait(20)
    assert run.ok and types(run) == ["mfa", "security_question", "account_selection"]
    assert all(r.attempts_remaining is None for r in run.interactions)
    assert all(r.outcome == "accepted" for r in run.interactions)
    novel = dn.connect("src_sim_novel", username="ada", password="pw", respond="simulator", deck=deck).wait(20)
    assert dn.run_task("task_sim_bills", novel, deck=deck).wait(20).ok


def test_a_credential_id_or_model_works_as_the_login(sim, deck):
    cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
    answers = {"code": "123456"}
    first = dn.run_task("task_sim_bills", cred, respond=answers, deck=deck).wait(20)
    second = dn.run_task("task_sim_usage", cred.id, respond=answers, deck=deck).wait(20)
    assert first.ok and second.ok and types(second) == [] and second.run.session_id == first.run.session_id


def test_the_card_offers_cancel_while_the_run_waits_for_approval(sim, deck):
    from deck_nb.notebook.view import JobView

    conn = dn.connect("src_sim_power", username="ada", password="pw", respond={"code": "123456"}, deck=deck).wait(20)
    run = dn.run_task("task_sim_pay_bill", conn, {"amount": 5}, deck=deck)
    view = JobView(run.card, on_cancel=run.cancel)
    view.refresh()
    assert view.cancel.layout.display == "none"  # not offered before the run waits for approval
    with pytest.raises(WaitTimeout):
        run.wait(timeout=1.5)
    view.refresh()
    assert run.status == "review_required" and view.cancel.layout.display == ""
    view.cancel.click()
    assert run.status == "cancelling" and run.wait(timeout=20).status == "canceled"
    view.refresh(done=run.done)
    assert view.cancel.layout.display == "none"


@pytest.mark.deck_simulator(api="credentials", clock="real", time_scale=0.1, rate_limit="off")  # 12 s to answer
def test_in_a_kernel_the_login_form_appears_under_the_first_run_only(sim):
    """The same cells in a real kernel, a person answering through the widget comms: storing asks
    nothing, the first run's login shows the MFA form, the two later runs show none."""
    from kernel_driver import KernelBrowser

    kernel = KernelBrowser({"DECK_API_KEY": sim.api_key, "DECK_BASE_URL": sim.base_url, "DECK_NB_RESPONDER": ""})
    try:
        kernel.execute(
            "import deck_nb as dn\n"
            "conn = await dn.connect('src_sim_power', username='ada', password='pw')\n"
            "print('STORED', conn.status)"
        )
        kernel.pump(lambda k: "STORED" in k.printed())
        assert "STORED unverified" in kernel.printed() and kernel.find(dom_class="deck-nb-form") is None
        kernel.execute("run = await dn.run_task('task_sim_bills', conn)\nprint('FIRST', run.status, conn.status)")
        kernel.pump(lambda k: k.find(dom_class="deck-nb-form") is not None)
        form = kernel.find(dom_class="deck-nb-form")
        controls = kernel.models[form]["controls"]
        kernel.send(form, {"event": "submit", "values": {controls[0]["name"]: "123456"}})  # what Submit sends
        kernel.pump(lambda k: "FIRST" in k.printed())
        assert "FIRST completed verified" in kernel.printed(), kernel.errors
        forms = {c for c, s in kernel.models.items() if "deck-nb-form" in s.get("_dom_classes", [])}
        kernel.execute(
            "later = [await dn.run_task(t, conn) for t in ('task_sim_usage', 'task_sim_bills')]\n"
            "print('LATER', [r.status for r in later])"
        )
        kernel.pump(lambda k: "LATER" in k.printed())
        assert "LATER ['completed', 'completed']" in kernel.printed(), kernel.errors
        assert {c for c, s in kernel.models.items() if "deck-nb-form" in s.get("_dom_classes", [])} == forms
        assert sim.stats()["logins"] == 1
    finally:
        kernel.close()
