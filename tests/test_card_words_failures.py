"""Every word on a card true: what the card's text and HTML say after a lockout or a wrong password,
on both APIs, read as a person reads them."""

from __future__ import annotations

import pytest

import deck_nb as dn

FAST = {"clock": "real", "time_scale": 0.01, "rate_limit": "off"}
SOURCE_SENTENCE = "The credentials were rejected by the source."


def wrong_codes(interaction):
    return {f.name: "000000" for f in interaction.fields}


def read(job) -> tuple[str, str]:
    """The card as shown: its one text line and its HTML."""
    return job.card.text(), job.card.html()


def assert_lockout(job):
    text, html = read(job)
    for said in (text, html):
        assert "locked out" in said and "after 3 wrong answers" in said, said
        assert "wait before trying again, or contact the source" in said, said
        assert "password" not in said.lower(), said  # a new password would not unlock it
        assert SOURCE_SENTENCE not in said  # the source's vague sentence is not repeated
    assert text.count("auth_invalid") == 1, text


def assert_wrong_password(job, fix: str):
    text, html = read(job)
    for said in (text, html):
        assert said.count("rejected the username or password") == 1, said
        assert "locked" not in said and SOURCE_SENTENCE not in said, said
        assert fix in said, said


@pytest.fixture
def deck(sim):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as client:
        dn.set_default_deck(client)
        yield client
        dn.set_default_deck(None)


@pytest.mark.deck_simulator(api="connections", **FAST)
def test_seed_api_lockout_and_wrong_password_each_say_one_true_sentence(deck):
    locked = dn.connect("src_sim_power", username="ada", password="pass_good", respond=wrong_codes).wait()
    assert locked.status == "invalid"
    assert_lockout(locked)
    refused = dn.connect("src_sim_power", username="ada", password="pass_bad", respond=wrong_codes).wait()
    assert refused.status == "invalid"
    assert_wrong_password(refused, "connect again with the right password")


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_current_api_lockout_and_wrong_password_each_say_one_true_sentence(deck):
    stored = dn.connect("src_sim_power", username="ada", password="pass_good").wait()
    run = dn.run_task("task_sim_bills", stored, respond=wrong_codes).wait()
    assert run.status == "failed"
    assert_lockout(run)
    assert run.card.text().count(" invalid: ") == 1  # the credential's word, once
    bad = dn.connect("src_sim_power", username="bob", password="pass_bad").wait()
    run = dn.run_task("task_sim_bills", bad, respond=wrong_codes).wait()
    assert run.status == "failed"
    assert_wrong_password(run, "deck.credentials.update(id, password=getpass.getpass())")
