"""The form built from fields: the mapping table (one fixture file per field type), the widgets' own
API (``.value``, ``Button.click()``), and forms answered against the simulator."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import ipywidgets as w
import pytest

import deck_nb
from deck_nb.client import Field, Interaction
from deck_nb.notebook import connect, run_task
from deck_nb.notebook.widget_responder import WidgetResponder
from deck_nb.widgets import InteractionForm, rule_for

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "fields").glob("*.json"))
CASES = {p.stem: json.loads(p.read_text()) for p in FIXTURES}


def form_for(*fields: dict, message: str = "Please answer", **extra) -> InteractionForm:
    return InteractionForm(Interaction(type="anything", message=message, fields=list(fields), **extra))


@pytest.mark.parametrize("name", sorted(CASES))
def test_field_type_maps_to_its_widget(name):
    case = CASES[name]
    form = form_for(case["field"])
    assert type(form.inputs[0].widget).__name__ == case["widget"]
    assert rule_for(Field.model_validate(case["field"])).widget == case["widget"]
    label = case["field"].get("label") or case["field"]["name"]
    assert form.inputs[0].widget.description.startswith(label)


@pytest.mark.parametrize(("name", "typed", "sent"), [(n, t, s) for n, c in CASES.items() for t, s in c["valid"]])
def test_valid_values_are_sent_with_the_right_json_type(name, typed, sent):
    field = CASES[name]["field"]
    seen = []
    form = InteractionForm(Interaction(type="x", fields=[field]), on_submit=seen.append)
    assert form.fill_and_submit(**{field["name"]: typed}) is True
    expected = {} if sent is None else {field["name"]: sent}
    assert seen == [expected]
    assert type(seen[0].get(field["name"])) is type(sent) or sent is None


@pytest.mark.parametrize(("name", "typed"), [(n, t) for n, c in CASES.items() for t in c["invalid"]])
def test_invalid_values_are_refused_by_field_before_sending(name, typed):
    field = CASES[name]["field"]
    seen = []
    form = InteractionForm(Interaction(type="x", fields=[field]), on_submit=seen.append)
    assert form.fill_and_submit(**{field["name"]: typed}) is False
    assert seen == [] and not form.closed
    assert form.inputs[0].error.value  # the complaint sits beside the field
    assert form.button.disabled is False


def test_every_rule_is_reachable_and_unknown_types_fall_back_to_text():
    from deck_nb.widgets import RULES

    reached = {rule_for(Field.model_validate(c["field"])).name for c in CASES.values()}
    assert reached == {r.name for r in RULES}
    assert type(form_for({"name": "x", "type": "never-seen-before"}).inputs[0].widget) is w.Text


def test_message_and_labels_are_escaped_never_rendered():
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> & <b>bold</b>"
    form = form_for({"name": "code", "type": "string", "label": hostile}, message=hostile)
    assert "<script>" not in form.message.value and "&lt;script&gt;" in form.message.value
    assert "<img" not in form.message.value and "&lt;b&gt;" in form.message.value
    assert form.inputs[0].widget.description_allow_html is False


def test_required_fields_are_checked_before_submit_and_optional_may_be_empty():
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
    assert "A is required" in form.inputs[0].error.value and form.inputs[1].error.value == ""
    assert form.fill_and_submit(a="x", b="") is True
    assert seen == [{"a": "x"}]


def test_submit_disables_and_clears_every_value():
    form = form_for(
        {"name": "code", "type": "string", "label": "Code"},
        {"name": "pw", "type": "string", "label": "Password", "secret": True},
        {"name": "ok", "type": "boolean", "label": "OK"},
    )
    form.fill_and_submit(code="123456", pw="s3cr3t-value", ok=True)
    assert form.closed and form.button.disabled
    assert all(i.widget.disabled for i in form.inputs)
    assert [i.widget.value for i in form.inputs] == ["", "", False]
    state = json.dumps([i.widget.get_state() for i in form.inputs])
    assert "s3cr3t-value" not in state and "123456" not in state


def test_server_error_is_shown_next_to_the_named_field_and_reopens():
    form = form_for({"name": "code", "type": "string", "label": "Code"}, {"name": "other", "type": "string"})
    form.fill_and_submit(code="1", other="2")
    form.show_error("code", "Field `code` must be a string.")
    assert "must be a string" in form.inputs[0].error.value and form.inputs[1].error.value == ""
    assert not form.closed and not form.button.disabled
    form.show_error("nonexistent", "Something else went wrong")
    assert "Something else" in form.status.value


def test_countdown_when_expires_at_is_given_and_expiry_closes():
    expires = datetime.now(UTC) + timedelta(seconds=90)
    form = form_for({"name": "code", "type": "string"}, expires_at=expires)
    assert form.countdown.value and " s left" in form.countdown.value
    form.tick(now=expires - timedelta(seconds=30))
    assert "30 s left" in form.countdown.value
    form.fill(code="123")
    form.expire()
    assert form.closed and form.inputs[0].widget.value == "" and "expired" in form.status.value
    assert form_for({"name": "code", "type": "string"}).countdown.value == ""


def test_attempts_left_are_shown():
    form = form_for({"name": "code", "type": "string"}, attempts_remaining=2)
    assert "2 attempt(s) left" in form.status.value


def test_awaiting_the_form_resolves_on_click():
    async def scenario():
        form = form_for({"name": "code", "type": "string"})
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, lambda: form.fill_and_submit(code="987"))
        return await asyncio.wait_for(form.answer(), 5)

    assert asyncio.run(scenario()) == {"code": "987"}


def test_unknown_fill_names_are_a_clear_error():
    with pytest.raises(KeyError, match="no field 'cde'"):
        form_for({"name": "code", "type": "string"}).fill(cde="1")


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


@pytest.mark.deck_simulator(clock="real", time_scale=0.02, rate_limit="off")
def test_forms_answered_through_widgets_against_the_simulator(sim):
    deck = deck_nb.Deck(api_key=sim.api_key, base_url=sim.base_url)
    responder = WidgetResponder()
    third_account = lambda form: {"account_id": form.inputs[0].field.options[2].value}  # noqa: E731
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


@pytest.mark.deck_simulator(clock="real", time_scale=0.02, rate_limit="off")
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
    assert [type(i.widget).__name__ for i in form.inputs] == [
        "Text",
        "Password",
        "Checkbox",
        "Dropdown",
        "Password",
        "Text",
    ]
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
    assert "birth_date" in form.inputs[5].error.value and form.inputs[0].error.value == ""
    deck.close()
