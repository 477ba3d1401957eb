"""The form built from fields: the mapping table (one fixture file per field type), the page's
submit message (what the browser sends: every value at once), and forms answered against the
simulator."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import deck_nb
from deck_nb.client import DeckError, Field, Interaction
from deck_nb.notebook import connect, run_task
from deck_nb.notebook.widget_responder import WidgetResponder
from deck_nb.widgets import FormExpired, InteractionForm, rule_for

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "fields").glob("*.json"))
CASES = {p.stem: json.loads(p.read_text()) for p in FIXTURES}


def form_for(*fields: dict, message: str = "Please answer", **extra) -> InteractionForm:
    return InteractionForm(Interaction(type="anything", message=message, fields=list(fields), **extra))


def page_submits(form: InteractionForm, values) -> None:
    """What the browser sends on Submit: one custom message with every value (see form.py)."""
    form.widget._handle_custom_msg({"event": "submit", "values": values}, [])


@pytest.mark.parametrize("name", sorted(CASES))
def test_field_type_maps_to_its_control(name):
    case = CASES[name]
    form = form_for(case["field"])
    described = form.widget.controls[0]
    assert described["kind"] == case["kind"] == rule_for(Field.model_validate(case["field"])).kind
    assert described["label"] == (case["field"].get("label") or case["field"]["name"])
    assert described["masked"] is (case["kind"] == "masked")
    if case["kind"] == "dropdown":
        assert described["options"] == [
            {"label": o["label"], "value": o["value"]} for o in case["field"]["options"]
        ]  # labels shown, values sent back by the page; nothing typed
    assert set(described) <= {"name", "kind", "label", "masked", "numeric", "required", "placeholder", "options"}


@pytest.mark.parametrize(("name", "typed", "sent"), [(n, t, s) for n, c in CASES.items() for t, s in c["valid"]])
def test_valid_values_are_sent_with_the_right_json_type(name, typed, sent):
    field = CASES[name]["field"]
    seen = []
    form = InteractionForm(Interaction(type="x", fields=[field]), on_submit=seen.append)
    page_submits(form, {field["name"]: typed})
    expected = {} if sent is None else {field["name"]: sent}
    assert seen == [expected] and form.submitted == expected and form.closed
    assert type(seen[0].get(field["name"])) is type(sent) or sent is None


@pytest.mark.parametrize(("name", "typed"), [(n, t) for n, c in CASES.items() for t in c["invalid"]])
def test_invalid_values_are_refused_by_field_before_sending(name, typed):
    field = CASES[name]["field"]
    seen = []
    form = InteractionForm(Interaction(type="x", fields=[field]), on_submit=seen.append)
    page_submits(form, {field["name"]: typed})
    assert seen == [] and not form.closed and form.submitted is None
    assert form.errors[field["name"]]  # the complaint sits beside the field
    assert form.widget.verdicts == 1 and form.widget.closed is False  # the page may type again
    if typed:
        assert str(typed) not in form.errors[field["name"]]  # complaints name no value: it may be a secret


def test_every_rule_is_reachable_and_unknown_types_fall_back_to_text():
    from deck_nb.widgets import RULES

    reached = {rule_for(Field.model_validate(c["field"])).name for c in CASES.values()}
    assert reached == {r.name for r in RULES}
    assert form_for({"name": "x", "type": "never-seen-before"}).widget.controls[0]["kind"] == "text"


def test_number_fields_keep_empty_apart_from_zero_and_ints_as_ints():
    form = form_for(
        {"name": "n", "type": "number", "label": "N", "required": False},
        {"name": "zero", "type": "number", "label": "Zero"},
        {"name": "big", "type": "number", "label": "Big"},
    )
    assert form.fill_and_submit(n="", zero="0", big="12345678901234567") is True
    assert form.submitted == {"zero": 0, "big": 12345678901234567}
    assert type(form.submitted["zero"]) is int


def test_message_and_labels_reach_the_page_as_text_never_markup():
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> & <b>bold</b>"
    form = form_for({"name": "code", "type": "string", "label": hostile}, message=hostile)
    assert form.widget.message == hostile and form.widget.controls[0]["label"] == hostile  # as sent, unrendered
    esm = form.widget._esm
    assert "innerHTML" not in esm and "insertAdjacentHTML" not in esm and "textContent" in esm
    assert "\n" not in repr(form.widget) and "<" not in repr(form.widget).replace(hostile, "")


def test_a_form_shows_one_readable_line_where_widgets_cannot_render():
    form = InteractionForm(
        Interaction(type="mfa", fields=[{"name": "code", "label": "Verification code"}]), title="Acme Power"
    )
    plain = form.widget._repr_mimebundle_()[0]["text/plain"]
    assert plain == "Acme Power · Verification code · waiting for an answer"
    form.fill_and_submit(code="123456")
    plain = form.widget._repr_mimebundle_()[0]["text/plain"]
    assert "Submitted" in plain and "123456" not in plain


def test_required_fields_are_checked_on_submit_and_optional_may_be_empty():
    seen = []
    form = InteractionForm(
        Interaction(
            type="x",
            fields=[
                {"name": "a", "type": "string", "label": "A"},
                {"name": "b", "type": "string", "label": "B", "required": False},
            ],
        ),
        on_submit=seen.append,
    )
    assert form.fill_and_submit(b="only b") is False
    assert form.errors == {"a": "A is required"}
    assert form.fill_and_submit(a="x", b="") is True
    assert seen == [{"a": "x"}] and form.errors == {}


def test_the_minimal_interaction_shape_makes_a_form():
    """No expires_at, attempts_remaining, required or secret: every field required, masked by name
    or label, no countdown, no attempts line."""
    interaction = Interaction.model_validate(
        {"type": "login", "fields": [{"name": "user"}, {"name": "pw", "label": "Your password"}, {"name": "pin"}]}
    )
    form = InteractionForm(interaction)
    assert [c["kind"] for c in form.widget.controls] == ["text", "masked", "masked"]
    assert all(c["required"] for c in form.widget.controls)
    assert form.widget.countdown == "" and form.widget.attempts == "" and form.widget.message == ""
    assert form.fill_and_submit(user="ada") is False and set(form.errors) == {"pw", "pin"}
    assert form.fill_and_submit(user="ada", pw="s3cr3t", pin="0042") is True
    assert form.submitted == {"user": "ada", "pw": "s3cr3t", "pin": "0042"}


def test_submit_disables_and_clears_and_no_value_is_widget_state():
    form = form_for(
        {"name": "code", "type": "string", "label": "Code"},
        {"name": "pw", "type": "string", "label": "Password", "secret": True},
        {"name": "ok", "type": "boolean", "label": "OK"},
    )
    page_submits(form, {"code": "123456", "pw": "s3cr3t-value", "ok": True})
    assert form.closed and form.widget.closed  # the page disables and clears every control
    state = json.dumps(form.widget.get_state(), default=str)
    assert "s3cr3t-value" not in state and "123456" not in state
    page_submits(form, {"code": "999999", "pw": "x", "ok": False})  # a late second click changes nothing
    assert form.submitted == {"code": "123456", "pw": "s3cr3t-value", "ok": True}


def test_what_the_page_sends_is_checked_not_trusted():
    form = form_for({"name": "code", "type": "string", "label": "Code"})
    form.widget._handle_custom_msg({"event": "something-else", "values": {"code": "1"}}, [])
    form.widget._handle_custom_msg("not a mapping", [])
    assert form.submitted is None and form.widget.verdicts == 0
    page_submits(form, ["not", "a", "mapping"])
    assert form.errors == {"code": "Code is required"}
    page_submits(form, {"code": "1", "extra": "ignored"})
    assert form.submitted == {"code": "1"}


def test_server_error_is_shown_next_to_the_named_field_and_reopens():
    form = form_for({"name": "code", "type": "string", "label": "Code"}, {"name": "other", "type": "string"})
    form.fill_and_submit(code="1", other="2")
    form.show_error("code", "Field `code` must be a string.")
    assert form.errors == {"code": "Field `code` must be a string."}
    assert not form.closed and not form.widget.closed
    form.show_error("nonexistent", "Something else went wrong")
    assert form.errors == {"": "Something else went wrong"}  # shown above the button


def test_countdown_when_expires_at_is_given_and_expiry_closes():
    expires = datetime.now(UTC) + timedelta(seconds=90)
    form = form_for({"name": "code", "type": "string"}, expires_at=expires)
    assert form.widget.countdown.endswith(" s left")
    form.tick(now=expires - timedelta(seconds=30))
    assert form.widget.countdown == "30 s left"
    form.expire()
    assert form.closed and form.widget.closed and "expired" in form.note and form.widget.countdown == ""
    assert form_for({"name": "code", "type": "string"}).widget.countdown == ""


def test_expiry_while_awaiting_raises_form_expired_a_deck_error():
    async def scenario():
        form = form_for({"name": "code", "type": "string"})
        asyncio.get_running_loop().call_later(0.05, form.expire)
        return await asyncio.wait_for(form.answer(), 5)

    with pytest.raises(FormExpired) as expired:
        asyncio.run(scenario())
    assert isinstance(expired.value, DeckError)


def test_attempts_left_are_said_once():
    form = form_for({"name": "code", "type": "string"}, attempts_remaining=2)
    assert form.widget.attempts == "2 attempts left"
    retry = form_for(
        {"name": "code", "type": "string"},
        message="That answer was not accepted. Enter the code (2 attempts left)",
        attempts_remaining=2,
    )
    assert retry.widget.attempts == ""  # the source's message already says it


def test_awaiting_the_form_resolves_on_the_pages_message_from_another_thread():
    """ipykernel hands comm messages to another thread while the cell awaits: the future is
    resolved on the cell's loop."""

    async def scenario():
        form = form_for({"name": "code", "type": "string"})
        timer = threading.Timer(0.05, page_submits, (form, {"code": "987"}))
        timer.start()
        try:
            return await asyncio.wait_for(form.answer(), 5)
        finally:
            timer.join(5)

    assert asyncio.run(scenario()) == {"code": "987"}


def test_unknown_names_are_a_clear_error():
    with pytest.raises(KeyError, match="no field 'cde'"):
        form_for({"name": "code", "type": "string"}).fill_and_submit(cde="1")


def test_a_huge_form_builds_fast():
    """5,000 fields: the page draws them from one JSON description, so Python builds no widget per
    field (it took 9.3 s with one ipywidget per field)."""
    kinds = ("string", "number", "boolean")
    fields = [{"name": f"f{i}", "type": kinds[i % 3], "label": f"Field {i}"} for i in range(5000)]
    interaction = Interaction(type="huge", fields=fields)
    started = time.perf_counter()
    form = InteractionForm(interaction)
    elapsed = time.perf_counter() - started
    assert len(form.widget.controls) == 5000
    assert elapsed < 1.0, f"{elapsed:.2f} s to build a 5,000-field form"
    values = {f"f{i}": ("x", "1", True)[i % 3] for i in range(5000)}
    assert form.fill_and_submit(**values) is True and len(form.submitted) == 5000


class _Person:
    """Plays the person at the form: fills each new form the widget responder shows, with answers
    given as dicts or as callables of the form."""

    def __init__(self, responder: WidgetResponder, answers: list) -> None:
        self.responder = responder
        self.answers = answers
        self.forms: list[InteractionForm] = []

    async def run(self) -> None:
        while True:
            form = self.responder.form
            if form is not None and form not in self.forms and self.answers:
                self.forms.append(form)
                await asyncio.sleep(0.01)
                answer = self.answers.pop(0)
                form.fill_and_submit(**(answer(form) if callable(answer) else answer))
            await asyncio.sleep(0.01)


def _run_with_person(responder, answers, body):
    async def scenario():
        person = _Person(responder, answers)
        driver = asyncio.ensure_future(person.run())
        try:
            return await asyncio.wait_for(body(person), 30)
        finally:
            driver.cancel()

    return asyncio.run(scenario())


@pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.02, rate_limit="off")
def test_forms_answered_through_widgets_against_the_simulator(sim):
    deck = deck_nb.Deck(api_key=sim.api_key, base_url=sim.base_url)
    responder = WidgetResponder()
    third_account = lambda form: {"account_id": form.fields[0].options[2].value}  # noqa: E731
    answers = [{"code": "000000"}, {"code": "123456"}, {"answer": "Rex"}, third_account]

    async def body(person):
        job = await connect("src_sim_bank", username="ada", password="pw", respond=responder, deck=deck)
        assert job.status == "connected"
        assert [f.interaction.type for f in person.forms] == ["mfa", "mfa", "security_question"]
        assert "2 attempts left" in person.forms[1].interaction.message
        assert [r.outcome for r in job.interactions] == ["rejected", "accepted", "accepted"]
        run = await run_task("task_sim_statements", job, deck=deck)
        return person, run

    person, run = _run_with_person(responder, answers, body)
    choice = person.forms[-1].interaction.fields[0].options[2].value
    assert run.status == "completed" and run.output["account_id"] == choice
    assert all(f.closed for f in person.forms)
    deck.close()


@pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.02, rate_limit="off")
def test_novel_interaction_type_gets_a_form_from_its_fields(sim):
    deck = deck_nb.Deck(api_key=sim.api_key, base_url=sim.base_url)
    responder = WidgetResponder()
    answer = {
        "device_name": "laptop",
        "pin": "123456",
        "remember_device": True,
        "delivery": "email",
        "passphrase": "correct horse",
    }

    async def body(person):
        return await connect("src_sim_novel", username="ada", password="pw", respond=responder, deck=deck)

    job = _run_with_person(responder, [answer], body)
    form = responder.form
    assert [c["kind"] for c in form.widget.controls] == ["text", "masked", "checkbox", "dropdown", "masked", "text"]
    assert job.status == "connected"
    deck.close()


def test_server_input_invalid_is_shown_beside_the_field_on_the_same_form(sim):
    """A refusal the client could not foresee comes back as a prompt error; the person sees it on
    the form they used, next to the field the server named."""
    from deck_nb.client import InteractionInputInvalid
    from deck_nb.notebook import Prompt

    deck = deck_nb.Deck(api_key=sim.api_key, base_url=sim.base_url)
    conn = deck.connections.create("src_sim_novel", username="a", password="p")
    sim.advance(2)
    conn = deck.connections.retrieve(conn)
    with pytest.raises(InteractionInputInvalid) as refused:  # a real refusal, from the simulator
        deck.connections.submit_interaction(
            conn,
            {
                "device_name": "x",
                "pin": 123456,
                "remember_device": True,
                "delivery": "sms",
                "passphrase": "p",
                "birth_date": 5,
            },
        )
    responder = WidgetResponder()
    first = responder.answer(Prompt("connection", conn.id, conn.interaction))
    form = responder.form
    first.close()
    again = responder.answer(Prompt("connection", conn.id, conn.interaction, error=refused.value))
    again.close()
    assert responder.form is form and not form.closed
    assert list(form.errors) == ["birth_date"] and "birth_date" in form.errors["birth_date"]
    deck.close()
