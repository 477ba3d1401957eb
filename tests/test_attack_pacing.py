"""Attacks on the pacer that serves waiters in turn and spreads a window over its tenths, and on the
current API's batches (a session's next run queued behind the current one). Each test documents a
problem found; a hang runs in a child process killed at its bound, so no test can hang pytest."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time

import pytest

import deck_nb as dn

CHILD_BOUND_S = 45


def _child(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter, killed after ``CHILD_BOUND_S`` (a blocked event loop
    cannot be stopped from inside the process)."""
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=CHILD_BOUND_S
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung: the child process was still running after {CHILD_BOUND_S} s and was killed")


def test_a_batch_with_the_simulator_responder_under_the_default_limit_does_not_deadlock():
    """``respond="simulator"`` checks each job's deck with a blocking ``deck.test()`` on the event
    loop's thread. Served in turn, that call waited behind tickets of coroutines on the very loop it
    blocks: the batch (25 runs, Deck's default 200 per 10 s) froze for good, past every timeout."""
    proc = _child(
        """
        import asyncio
        import deck_nb as dn
        from deck_nb.notebook import run_many

        with dn.simulator.start(clock="real", time_scale=0.1, rate_limit="off", api="connections") as sim:
            with dn.Deck(api_key=sim.api_key, base_url=sim.base_url, rate_limit=(200, 10.0)) as deck:
                login = dn.connect("src_sim_mobile", "ada", "pw", respond={}, deck=deck).wait(30)
                items = [dn.RunTask("task_sim_usage", login, {"days": 1}) for _ in range(25)]
                result = asyncio.run(run_many(items, respond="simulator", deck=deck, poll_interval=0.2, timeout=40))
                print("ENDED", sum(o.ok for o in result))
        """
    )
    assert "ENDED 25" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]


class SlowAnswers:
    """A loopback server answering ``GET /v2/test`` after ``delay`` seconds (a slow service)."""

    def __init__(self, delay: float) -> None:
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        from deck_nb._serve import ServerThread

        async def test(request):
            await asyncio.sleep(delay)
            return JSONResponse({"status": "ready", "environment": "simulator"})

        self.server = ServerThread(Starlette(routes=[Route("/v2/test", test)]), host="127.0.0.1", port=0).start()
        self.base_url = f"{self.server.root_url}/v2"

    def stop(self) -> None:
        self.server.stop()


def test_slow_answers_do_not_cap_the_pace_far_below_the_limit():
    """20 per 2 s allows 10 calls at once (spread over ~0.6 s). Each answer takes 1 s; counting the
    requests in flight against a tenth's share (3) let only 3 go at a time: 4 rounds, ~4 s."""
    server = SlowAnswers(1.0)
    try:

        async def ten() -> float:
            async with dn.AsyncDeck(api_key="sk_test_x", base_url=server.base_url, rate_limit=(20, 2.0)) as deck:
                started = time.monotonic()
                await asyncio.wait_for(asyncio.gather(*(deck.test() for _ in range(10))), 30)
                return time.monotonic() - started

        elapsed = asyncio.run(ten())
    finally:
        server.stop()
    assert elapsed < 2.8, f"10 calls within the limit took {elapsed:.1f} s: slow answers held the pace"


CURRENT_FAST = {"api": "credentials", "clock": "real", "rate_limit": "off"}


@pytest.mark.deck_simulator(time_scale=0.05, **CURRENT_FAST)
def test_a_run_canceled_before_its_login_does_not_claim_the_credential_verified(sim):
    """The credential was verified, then given a new password; a run logs in anew and is canceled at
    the login's MFA. The new password was never tried (Deck: ``unverified``), yet the card took the
    session book's old ``verified`` as current: a run that "did not fail" had not logged in."""
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
        cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
        first = dn.run_task("task_sim_usage", cred, {"days": 1}, respond={"code": "123456"}, deck=deck).wait(30)
        assert "verified" in first.card.note
        deck.credentials.update(cred.id, password="pw-new")
        deck.sessions.end(first.run.session_id)
        holder = {}

        def cancel_at_the_login(interaction):
            holder["job"].cancel()
            return {"code": "123456"}

        run = dn.run_task("task_sim_usage", cred, {"days": 1}, respond=cancel_at_the_login, deck=deck)
        holder["job"] = run
        run.wait(30)
        assert run.status == "canceled"
        assert deck.credentials.retrieve(cred.id).status == "unverified"
        assert f"credential {cred.id} verified" not in run.card.note, run.card.note


@pytest.mark.deck_simulator(time_scale=0.01, **CURRENT_FAST)
def test_a_refused_login_is_not_tried_again_by_every_queued_run_of_its_credential(sim):
    """Five runs on a credential whose password the source refuses: the first run's login fails
    (``auth_invalid``, credential ``invalid``); the later runs of the group are not run (each would
    open a new session and send the refused password again — the pattern that locks real accounts)."""
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
        cred = deck.credentials.create("src_sim_power", username="ada", password="pass_bad")
        items = [dn.RunTask("task_sim_usage", cred, {"days": 1}) for _ in range(5)]
        result = dn.run_many_sync(items, respond={"code": "123456"}, deck=deck, poll_interval=0.05, timeout=30)
    assert all(o.error_code == "auth_invalid" for o in result), [o.error_code for o in result]
    assert all("not run: the login of credential" in o.error for o in result[1:])  # says why, and the fix
    assert all("deck.credentials.update" in o.error for o in result[1:])
    logins = sim.stats()["logins"]
    assert logins == 1, f"{logins} logins with a password the source had already refused"


@pytest.mark.deck_simulator(time_scale=0.01, session_limit=2, **CURRENT_FAST)
def test_a_session_ended_for_a_waiting_group_frees_the_limit_for_it_without_a_retry(sim):
    """Four credentials, two sessions: a finished group ends its session for a waiting one, which
    logs in at once — while the ended session is still ``completing`` (it counts against the limit
    until ``completed``). Deck answers ``session_limit_exceeded`` with a Retry-After counted from idle
    sessions only (6 s here, 10 minutes unscaled), so every hand-over waits seconds instead of none."""
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
        creds = [
            deck.credentials.create("src_sim_mobile", username=u, password="pw") for u in ("ada", "bob", "cy", "dee")
        ]
        items = [dn.RunTask("task_sim_usage", c, {"days": 1}) for c in creds for _ in range(2)]
        started = time.monotonic()
        result = dn.run_many_sync(
            items, respond={"code": "123456"}, deck=deck, session_limit=2, poll_interval=0.05, timeout=60
        )
        elapsed = time.monotonic() - started
    assert all(o.ok for o in result), [o.error_code for o in result]
    assert result.retries + result.session_limit_waits == 0, (
        f"{result.retries} retries and {result.session_limit_waits} waits for a slot the batch had just freed "
        f"({elapsed:.1f} s)"
    )
