"""Words on a card that the job machine makes true, read as a person reads them (the card's text
line and its HTML), against the simulator over loopback."""

from __future__ import annotations

import asyncio

import pytest

import deck_nb as dn
from deck_nb.notebook import Responder

FAST = {"clock": "real", "time_scale": 0.01, "rate_limit": "off"}


def deck_for(sim):
    return dn.Deck(api_key=sim.api_key, base_url=sim.base_url)


class Never(Responder):
    """A person who never answers (the form stays open until its window closes)."""

    needs_await = True

    def answer(self, prompt):
        return asyncio.sleep(3600)


@pytest.mark.deck_simulator(api="connections", **FAST)
def test_the_card_says_waiting_for_password_while_the_password_is_asked(sim):
    said = []

    def person(interaction):
        said.append((interaction.type, job.card.text(), job.card.html()))
        return {"password": "pw"} if interaction.type == "credentials" else {"code": "123456"}

    with deck_for(sim) as deck:
        job = dn.connect("src_sim_power", username="ada", respond=person, deck=deck)
        job.wait(20)
    kind, text, html = said[0]
    assert kind == "credentials"
    assert "· waiting for password ·" in text and "starting" not in text
    assert ">waiting for password</span>" in html and "waiting for the password in the form below" in html
    assert "waiting for password" not in job.card.text() and job.status == "connected"
    assert "pw" not in " ".join(t + h for _, t, h in said).replace("password", "")


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_a_first_run_that_timed_out_does_not_say_the_credential_is_verified_by_it(sim):
    with deck_for(sim) as deck:
        conn = dn.connect("src_sim_power", username="ada", password="pw", deck=deck).wait(20)
        assert "stored — it is verified by its first run" in conn.card.text()
        run = dn.run_task("task_sim_bills", conn, {"months": 2}, respond=Never(), deck=deck)
        asyncio.run(run.wait_async(30))
    assert run.status == "failed" and run.errors[0].code == "interaction_timeout"
    for job in (run, conn):
        words = job.card.text() + job.card.html()
        assert "verified by its first run" not in words, words
        assert f"run {run.id} timed out waiting for an answer at its login" in words, words
    assert f"credential {conn.id} not verified" in run.card.text()
    assert conn.card.text().count("The credentials were rejected") == 0


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_run_task_given_a_login_nobody_awaited_waits_for_it(sim):
    async def cells():
        conn = dn.connect("src_sim_power", username="ada", password="pw", respond={"code": "123456"}, deck=deck)
        assert conn.id is None  # in an event loop nothing is created before the job runs
        run = dn.run_task("task_sim_bills", conn, {"months": 2}, deck=deck)  # Run All: no await between
        return conn, await run

    with deck_for(sim) as deck:
        conn, run = asyncio.run(cells())
    assert run.ok and conn.status == "verified" and run.run.credential_id == conn.id
    assert "waiting for" not in run.card.text()


@pytest.mark.deck_simulator(api="connections", **FAST)
def test_run_task_given_a_login_nobody_waited_for_waits_for_it_headless(sim):
    with deck_for(sim) as deck:
        answers = {"password": "pw", "code": "123456"}
        conn = dn.connect("src_sim_power", username="ada", respond=answers, deck=deck)
        assert conn.id is None  # it waits for its password
        run = dn.run_task("task_sim_bills", conn, {"months": 2}, deck=deck).wait(30)
    assert run.ok and conn.status == "connected" and run.run.connection_id == conn.id


@pytest.mark.deck_simulator(api="connections", **FAST)
def test_a_run_whose_login_failed_is_not_run_and_says_why(sim):
    with deck_for(sim) as deck:
        conn = dn.connect("src_sim_power", username="ada", respond={"password": "pass_bad"}, deck=deck)
        run = dn.run_task("task_sim_bills", conn, deck=deck)
        with pytest.raises(
            dn.DeckError, match=r"not run: its login \(connect src_sim_power conn_\w+\) ended `invalid`"
        ):
            run.wait(30)
    assert run.id is None and conn.status == "invalid"


class WrongCodes(Responder):
    """A person who keeps typing a wrong code."""

    needs_await = True

    def answer(self, prompt):
        async def typed():
            return {"code": "000000"}

        return typed()


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_a_lockout_after_wrong_codes_says_so_once_and_keeps_the_password(sim):
    with deck_for(sim) as deck:
        conn = dn.connect("src_sim_power", username="ada", password="pw", deck=deck).wait(20)
        run = dn.run_task("task_sim_bills", conn, respond=WrongCodes(), deck=deck)
        asyncio.run(run.wait_async(30))
    assert run.status == "failed" and conn.status == "invalid"
    for job in (run, conn):
        words = job.card.text()
        assert words.count("locked out: the source refused the login after 3 wrong answers") == 1, words
        assert "password" not in words and "fix it with" not in words  # no advice to change it
        assert "rejected by the source" not in words


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_a_wrong_password_is_said_once(sim):
    with deck_for(sim) as deck:
        bad = dn.connect("src_sim_power", username="ada", password="pass_bad", deck=deck).wait(20)
        run = dn.run_task("task_sim_bills", bad, respond={"code": "123456"}, deck=deck).wait(20)
    for words in (run.card.text(), bad.card.text()):
        assert words.count("rejected") == 1, words
    assert run.card.text().count("fix it with deck.credentials.update(id, password=getpass.getpass())") == 1
