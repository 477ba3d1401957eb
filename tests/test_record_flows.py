"""Every flow recorded against the simulator over loopback, then replayed from the recording alone
with sockets blocked: the same statuses, ids, outputs and frames (timestamps aside)."""

from __future__ import annotations

import threading

import pytest
from record_helpers import assert_real_clock, assert_same_frames, record_flow, replay_flow

import deck_nb as dn


@pytest.fixture(autouse=True)
def _real_clock_after():
    yield
    assert_real_clock()


FAST = {"clock": "real", "time_scale": 0.01, "rate_limit": "off"}
CODE = "123456"


class Answers:
    """Answers prompts from a list, in turn (a batch asks from many tasks: thread-safe)."""

    def __init__(self, *codes):
        self.codes, self.asked, self.lock = list(codes), [], threading.Lock()

    def __call__(self, interaction):
        with self.lock:
            self.asked.append(interaction.type)
            code = self.codes.pop(0) if len(self.codes) > 1 else self.codes[0]
        return {f.name: code for f in interaction.fields}


def connect_seed(deck):
    conn = dn.connect("src_sim_power", username="ada", password="pw_seed_9", respond=Answers(CODE), deck=deck)
    conn.wait(20)
    return [conn.status, conn.id, [i.type for i in conn.interactions]]


def login_mfa(deck):
    conn = dn.connect("src_sim_power", username="ada", password="pw_current_9", respond=Answers(CODE), deck=deck)
    run = dn.run_task("task_sim_bills", conn, {"months": 2}, deck=deck).wait(20)
    return [conn.id, run.id, run.status, run.output, [i.type for i in run.interactions]]


def wrong_then_right(deck):
    conn = dn.connect(
        "src_sim_power", username="ada", password="pw_wrong_9", respond=Answers("000000", CODE), deck=deck
    )
    run = dn.run_task("task_sim_bills", conn, {"months": 1}, deck=deck).wait(30)
    return [run.id, run.status, [(i.type, i.outcome) for i in run.interactions]]


def batch_of_20(deck):
    items = [
        dn.Pull(
            "src_sim_power", f"user{i % 5}", f"pw_batch_{i % 5}9", task_id="task_sim_bills", input={"months": 1 + i % 3}
        )
        for i in range(20)
    ]
    result = dn.run_many_sync(items, respond=Answers(CODE), deck=deck, poll_interval=0.05, timeout=90)
    return sorted((o.status, o.run.id, str(o.run.output)) for o in result)


def review(deck, approve=True):
    conn = dn.connect("src_sim_power", username="ada", password="pw_review_9", respond=Answers(CODE), deck=deck)
    run = dn.run_task("task_sim_pay_bill", conn, {"amount": 42}, deck=deck)
    while run.status != "review_required" and not run.done:
        _poll(run)
    if approve is not None:
        approve(run.id)
    run.wait(30)
    return [run.id, run.status, run.output]


def _poll(run):
    try:
        run.wait(timeout=0.3)
    except dn.client.WaitTimeout:
        pass


def cancel(deck):
    conn = dn.connect("src_sim_power", username="ada", password="pw_cancel_9", respond=Answers(CODE), deck=deck)
    run = dn.run_task("task_sim_pay_bill", conn, {"amount": 5}, deck=deck)
    while run.status != "review_required" and not run.done:
        _poll(run)
    run.cancel()
    run.wait(30)
    return [run.id, run.status]


def rate_limited(deck):
    answers = [deck.test()["status"] for _ in range(8)]
    return [answers, deck.stats.rate_limited > 0 or deck.stats.retries > 0]


rate_limited.client_options = {"rate_limit": None}

FLOWS = {
    "connect": (connect_seed, {"api": "connections"}, ["pw_seed_9", CODE]),
    "login_mfa": (login_mfa, {"api": "credentials"}, ["pw_current_9", CODE]),
    "wrong_then_right": (wrong_then_right, {"api": "credentials"}, ["pw_wrong_9", CODE]),
    "batch_20": (batch_of_20, {"api": "credentials", "session_limit": "off"}, [f"pw_batch_{i}9" for i in range(5)]),
    "cancel": (cancel, {"api": "credentials"}, ["pw_cancel_9", CODE]),
}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.deck_simulator(**{**FAST, **FLOWS[n][1]})) for n in FLOWS]
)
def test_a_recorded_flow_replays_with_no_network_to_the_same_frames(sim, tmp_path, name):
    flow, _, secrets = FLOWS[name]
    path = tmp_path / f"{name}.deckrec"
    recorded, recorded_frames, _ = record_flow(flow, sim, path, secrets)
    replayed, replayed_frames, _ = replay_flow(flow, path)
    assert replayed == recorded
    assert_same_frames(recorded_frames, replayed_frames)


@pytest.mark.deck_simulator(api="credentials", **FAST)
def test_review_approved_in_the_console_replays_without_anyone_approving(sim, tmp_path):
    path = tmp_path / "review.deckrec"
    recorded, recorded_frames, _ = record_flow(
        lambda deck: review(deck, lambda run_id: sim.review(run_id, "approve")), sim, path, ["pw_review_9", CODE]
    )
    assert recorded[1] == "completed"
    replayed, replayed_frames, _ = replay_flow(lambda deck: review(deck, lambda run_id: None), path)
    assert replayed == recorded
    assert_same_frames(recorded_frames, replayed_frames)


@pytest.mark.deck_simulator(clock="real", time_scale=0.01, rate_limit="3/1s")
def test_a_429_with_retry_after_is_replayed_without_the_wait(sim, tmp_path):
    path = tmp_path / "429.deckrec"
    recorded, _, seconds = record_flow(rate_limited, sim, path, [])
    assert recorded == [["ready"] * 8, True]
    text = path.read_text()
    assert '"status": 429' in text and "retry-after" in text
    replayed, _, replay_seconds = replay_flow(rate_limited, path)
    assert replayed == recorded
    assert replay_seconds < seconds / 5  # the Retry-After pauses took no wall time
