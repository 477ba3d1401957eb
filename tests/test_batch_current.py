"""Batches on Deck's current API, through the public face against the simulator over loopback: items
that share a login run in turn in one session (one login, one MFA per credential), concurrency stays
within the session limit, and ``session_limit_exceeded`` is back-pressure, never a failed item."""

from __future__ import annotations

import itertools
import threading

import pytest

import deck_nb as dn

FAST = {"clock": "real", "time_scale": 0.01, "rate_limit": "off"}


class Counting:
    """Answers MFA prompts and counts them (thread-safe: a batch asks from many tasks)."""

    def __init__(self):
        self.asked = 0
        self._lock = threading.Lock()

    def __call__(self, interaction):
        with self._lock:
            self.asked += 1
        return {"code": "123456"}


@pytest.fixture
def deck(sim):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as client:
        yield client


def sessions_of(result):
    """credential id → the sessions its runs used."""
    seen: dict[str, set[str]] = {}
    for o in result:
        seen.setdefault(o.run.run.credential_id, set()).add(o.run.run.session_id)
    return seen


@pytest.mark.deck_simulator(api="credentials", session_limit=3, **FAST)
def test_pulls_share_one_session_per_login_within_a_small_session_limit(sim, deck):
    users = ["ada", "bob", "cy", "dee", "eve"]  # five logins, three sessions at most
    items = [
        dn.Pull("src_sim_power", user, "pw", task_id=task, input=inputs)
        for user in users
        for task, inputs in [("task_sim_bills", {"months": 1}), ("task_sim_usage", {"days": 2})] * 4
    ] + [dn.Pull("src_sim_power", "ada", "pw", task_id="task_sim_bills")] * 2
    assert len(items) == 42
    responder = Counting()
    result = dn.run_many_sync(items, respond=responder, deck=deck, session_limit=3, poll_interval=0.05, timeout=60)
    assert [o.status for o in result if not o.ok] == []
    assert not any("session_limit" in (o.error or "") or o.error_code == "session_limit_exceeded" for o in result)
    assert sim.stats()["logins"] == len(users) and responder.asked == len(users)  # one login, one MFA each
    assert all(len(sessions) == 1 for sessions in sessions_of(result).values())
    assert len(sessions_of(result)) == len(users)  # one stored credential per login, shared by its pulls
    credentials = {o.connection.id for o in result}
    assert len(credentials) == len(users) and all(o.connection.status == "verified" for o in result)
    assert len(list(deck.credentials.list())) == len(users)


@pytest.mark.deck_simulator(api="credentials", session_limit=2, **FAST)
@pytest.mark.parametrize("max_retries", [3, 0])
def test_session_limit_exceeded_is_back_pressure_not_a_failed_item(sim, max_retries):
    """The batch believes Deck's default (25) but the server allows 2: the third login's first run
    meets session_limit_exceeded and waits for a slot (an idle session ends) instead of failing —
    retried by the client (which must not hold the other runs' answers meanwhile: the MFA window is
    short) or, once the client gives up, by the batch."""
    deck = dn.Deck(api_key=sim.api_key, base_url=sim.base_url, max_retries=max_retries)
    creds = [deck.credentials.create("src_sim_power", username=u, password="pw") for u in ("ada", "bob", "cy")]
    items = [dn.RunTask("task_sim_bills", cred, {"months": 1}) for cred in creds for _ in range(10)]
    responder = Counting()
    result = dn.run_many_sync(items, respond=responder, deck=deck, poll_interval=0.05, timeout=60)
    deck.close()
    assert all(o.ok for o in result), [(o.status, o.error) for o in result if not o.ok]
    met = result.session_limit_waits if max_retries == 0 else result.retries
    assert met >= 1  # it did meet the limit, and waited
    assert sim.stats()["logins"] == 3 and responder.asked == 3
    assert all(len(sessions) == 1 for sessions in sessions_of(result).values())


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_a_batch_reuses_the_session_a_notebook_run_opened(sim, deck):
    responder = Counting()
    conn = dn.connect("src_sim_power", username="ada", password="pw", respond=responder, deck=deck).wait(20)
    first = dn.run_task("task_sim_bills", conn, deck=deck).wait(20)
    result = dn.run_many_sync(
        [dn.RunTask("task_sim_usage", conn, {"days": 1}) for _ in range(5)], deck=deck, poll_interval=0.05, timeout=60
    )
    assert all(o.ok for o in result) and responder.asked == 1 and sim.stats()["logins"] == 1
    assert {o.run.run.session_id for o in result} == {first.run.session_id}


def test_session_limit_must_be_a_positive_whole_number(sim, deck):
    with pytest.raises(ValueError, match="session_limit"):
        dn.run_many_sync([], deck=deck, session_limit=0)


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_a_login_that_cannot_be_stored_fails_each_of_its_pulls_and_nothing_else(sim, deck):
    items = [dn.Pull("src_sim_nope", "ada", "pw", task_id="task_sim_bills")] * 2
    items += [dn.Pull("src_sim_power", "ada", "pass_bad", task_id="task_sim_bills")] * 2
    items += [dn.Pull("src_sim_power", "bob", "pw", task_id="task_sim_bills")]
    result = dn.run_many_sync(items, respond={"code": "123456"}, deck=deck, poll_interval=0.05, timeout=60)
    assert [o.ok for o in result] == [False, False, False, False, True]
    assert result[0].error and result[0].error == result[1].error and result[0].run is None is result[1].run
    assert result[2].error_code == result[3].error_code == "auth_invalid"
    assert result[2].connection.status == "invalid" and result[3].run is None  # a refused login is not tried again
    assert sim.stats()["logins"] == 2


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_runs_in_a_live_session_do_not_read_their_credential_again(sim, deck):
    """Only a run that logs in can move its credential (verified, invalid): the runs after it in the
    same session show the credential as read then, without one more request per run — on a rate
    limit of 200 / 10 s that request alone would cost a third of the batch's speed."""
    cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
    runs = 8
    result = dn.run_many_sync(
        [dn.RunTask("task_sim_usage", cred, {"days": 1}) for _ in range(runs)],
        respond=Counting(),
        deck=deck,
        poll_interval=0.05,
        timeout=60,
    )
    assert all(o.ok for o in result) and sim.stats()["logins"] == 1
    own = result.requests - result.event_polls  # the runs' own: creates, the login's answer, reads
    assert own <= runs + 1 + 2, own  # + the API detection and one credential read at most
    assert all(f"credential {cred.id} verified" in o.run.card.note for o in result)


class Calls:
    """An observer counting the client's calls by method and path shape (ids left out)."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def on_object(self, obj, call):
        shape = "/".join(
            "{id}" if "_" in part and part.split("_")[0] in ("cred", "sess", "run") else part
            for part in call.path.split("/")
        )
        with self._lock:
            self.counts[f"{call.method} {shape}"] = self.counts.get(f"{call.method} {shape}", 0) + 1

    def on_error(self, error, call):
        pass

    def on_submission(self, *args):
        pass


@pytest.mark.deck_simulator(api="credentials", session_limit=3, **FAST)
def test_a_batch_hears_its_logins_on_the_event_feed_and_ends_only_the_sessions_others_wait_for(sim):
    """Five credentials, three sessions at once: two groups wait, so exactly two finished groups end
    their session (not every group that finishes while those two are being let in), and no run reads
    its credential: the feed's ``credential.verified`` already says what the login did."""
    calls = Calls()
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url, observers=[calls]) as deck:
        logins = [
            dn.connect("src_sim_power", user, "pw", deck=deck).wait(30) for user in ("ada", "bob", "cy", "dee", "eve")
        ]
        calls.counts.clear()
        items = [dn.RunTask("task_sim_usage", login, {"days": 1}) for login in logins for _ in range(3)]
        result = dn.run_many_sync(items, respond=Counting(), deck=deck, session_limit=3, poll_interval=0.05, timeout=60)
    assert all(o.ok for o in result), [o.error_code for o in result]
    assert calls.counts.get("POST /sessions/{id}/end") == 2, calls.counts
    assert not calls.counts.get("GET /credentials/{id}"), calls.counts
    assert all(login.status == "verified" for login in logins)  # each connect job heard its login
    assert all(f"credential {o.run.run.credential_id} verified" in o.run.card.note for o in result)


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_a_sessions_first_run_logs_in_alone_then_the_next_run_queues_behind_the_current_one(sim, deck):
    """One credential, six runs: the second is created only once the first (the login) has ended; after
    that at most two of its runs are unfinished at any moment — the one working and the next, queued
    in the same session, so the session never waits for the client to create it."""
    cred = deck.credentials.create("src_sim_mobile", username="ada", password="pw")
    result = dn.run_many_sync(
        [dn.RunTask("task_sim_usage", cred, {"days": 1}) for _ in range(6)],
        respond={"code": "123456"},
        deck=deck,
        poll_interval=0.05,
        timeout=60,
    )
    assert all(o.ok for o in result) and sim.stats()["logins"] == 1
    runs = sorted((o.run.run for o in result), key=lambda r: r.created_at)
    assert len({r.session_id for r in runs}) == 1
    assert runs[1].created_at >= runs[0].completed_at  # the login's run first, alone
    for run in runs:
        unfinished = [r for r in runs if r.created_at <= run.created_at < r.completed_at]
        assert len(unfinished) <= 2, [r.id for r in unfinished]
    overlapping = [b for a, b in itertools.pairwise(runs[1:]) if b.created_at < a.completed_at]
    assert overlapping  # the next one was queued before the current one ended
