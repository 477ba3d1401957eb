"""Issue 22, CI friction: a user's own test under ``pytest -W error`` passes (no unclosed socket at
exit or after a test), the ``deck_simulator`` fixture's manual clock says so when a wait runs out,
and a run that inherits its connection's responder says so on its card."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import deck_nb as dn
from deck_nb.client import WaitTimeout

ROOT = Path(__file__).resolve().parents[1]
HINT = 'the simulator\'s clock is manual: call `deck_simulator.advance()` or use `clock="real"`'

USER_TEST = """
import gc

import pytest

import deck_nb as dn


@pytest.mark.deck_simulator(clock="real", time_scale=0.01)
def test_my_bills(deck_simulator):
    conn = dn.connect("src_sim_power", "ada", "pw", respond={"code": "123456"}).wait(20)
    run = dn.run_task("task_sim_bills", conn, {"months": 2}).wait(20)
    assert run.ok and len(run.output["bills"]) == 2


def test_nothing_left_unclosed():
    gc.collect()  # an unclosed client of an earlier test would warn here (-W error: a failure)
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DECK_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_pytest_W_error_passes_on_a_users_own_test(tmp_path):
    (tmp_path / "test_mine.py").write_text(USER_TEST)
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-m", "pytest", "-W", "error", "-q", "-p", "no:cacheprovider", "test_mine.py"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2 passed" in done.stdout
    for warning in ("ResourceWarning", "PytestUnraisableExceptionWarning", "Exception ignored"):
        assert warning not in done.stdout + done.stderr, warning


def test_the_default_client_is_closed_at_interpreter_exit(tmp_path):
    script = textwrap.dedent(
        """
        import deck_nb as dn
        conn = dn.connect("src_sim_mobile", "ada", "pw", respond={"code": "123456"}).wait(20)
        run = dn.run_task("task_sim_usage", conn, {"days": 1}).wait(20)
        assert run.ok, run
        print("ran", run.status)
        """
    )
    env = {**_env(), "DECK_SIM_TIME_SCALE": "0.01"}
    done = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "ran completed" in done.stdout, done.stderr[-3000:]
    assert "ResourceWarning" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr[-3000:]


@pytest.mark.deck_simulator(api="credentials")  # the fixture's default: a manual clock
def test_a_wait_on_the_manual_clock_says_how_to_move_it(deck_simulator):
    assert dn.default_deck().base_url.rstrip("/") == deck_simulator.base_url.rstrip("/")
    conn = dn.connect("src_sim_mobile", "ada", "pw", respond={"code": "123456"}).wait(5)
    run = dn.run_task("task_sim_usage", conn, {"days": 1})
    with pytest.raises(WaitTimeout) as stopped:
        run.wait(0.5)
    assert str(stopped.value) == (
        f"task run {run.id} did not finish within 0.5 s (last seen `queued`); {HINT}, then wait again"
    )
    for _ in range(20):  # as the hint says: advance, then wait again (the job answers its MFA meanwhile)
        deck_simulator.advance(5)
        try:
            run.wait(0.5)
            break
        except WaitTimeout as again:
            assert HINT in str(again)
    assert run.ok and run.status == "completed" and [r.type for r in run.interactions] == ["mfa"]


@pytest.mark.deck_simulator(api="credentials", clock="real", time_scale=0.01)
def test_on_a_real_clock_a_job_finishes_and_a_timeout_gives_no_clock_hint(deck_simulator):
    conn = dn.connect("src_sim_mobile", "ada", "pw", respond={"code": "123456"}).wait(5)
    assert dn.run_task("task_sim_usage", conn, {"days": 1}).wait(20).ok
    slow = dn.run_task("task_sim_usage", conn, {"days": 1})
    with pytest.raises(WaitTimeout) as stopped:
        slow.wait(0)
    assert "clock" not in str(stopped.value) and "wait again (`await job` or job.wait())" in str(stopped.value)
    slow.wait(20)


@pytest.mark.deck_simulator(api="credentials", clock="real", time_scale=0.01)
def test_a_run_that_inherits_its_connections_responder_says_so_on_its_card(deck_simulator):
    power = dn.connect("src_sim_power", "ada", "pw", respond={"code": "123456"}).wait(5)
    inherited = dn.run_task("task_sim_bills", power, {"months": 1}).wait(20)
    said = "answered by connect src_sim_power's responder"  # while it runs: "its questions go to …"
    assert inherited.ok and inherited.interactions[0].type == "mfa"  # the login's MFA, answered as connect's
    assert said in inherited.card.text() and "its questions go to" not in inherited.card.text()
    reused = dn.run_task("task_sim_usage", power, {"days": 1}).wait(20)  # its session: nothing asked
    assert reused.ok and not reused.interactions and "responder" not in reused.card.text()
    own = dn.run_task("task_sim_bills", power, {"months": 1}, respond={"code": "123456"}, session=False).wait(20)
    assert own.ok and "responder" not in own.card.text()
