"""Completed runs on the simulator's manual clock, through the deck_nb client (storage tests)."""

from __future__ import annotations

import deck_nb as dn
from deck_nb.client import TaskRun

ANSWERS = {"mfa": {"code": "123456"}, "security_question": {"answer": "rex"}}


def client(sim, **options) -> dn.Deck:
    return dn.Deck(api_key=sim.api_key, base_url=sim.base_url, api="connections", rate_limit=None, **options)


def _answer(resources, obj) -> None:
    kind = obj.interaction.type
    if kind in ANSWERS:
        resources.submit_interaction(obj.id, ANSWERS[kind])
    else:  # an account choice: the first option of each field
        resources.submit_interaction(obj.id, {f.name: f.options[0].value for f in obj.interaction.fields})


def completed_run(
    deck: dn.Deck, sim, task: str = "task_sim_bills", months: int = 3, username: str = "ada", connection=None
):
    """Connect to the task's source (answering what it asks), run the task, move the clock to its end."""
    conn = connection or connected(deck, sim, task, username)
    return run_on(deck, sim, conn.id, task, months)


def connected(deck: dn.Deck, sim, task: str = "task_sim_bills", username: str = "ada"):
    source = "src_sim_bank" if task == "task_sim_statements" else "src_sim_power"
    conn = deck.connections.create(source, username=username, password="pass_good")
    for _ in range(30):
        sim.advance(2)
        conn = deck.connections.retrieve(conn.id)
        if conn.status == "interaction_required":
            _answer(deck.connections, conn)
        elif conn.status == "connected":
            break
    assert conn.status == "connected", conn
    return conn


def run_on(deck: dn.Deck, sim, connection_id: str, task: str = "task_sim_bills", months: int = 3, **extra):
    inputs = {"months": months, **extra} if "bills" in task else (extra or None)
    run = deck.task_runs.create(task, connection_id=connection_id, input=inputs)
    for _ in range(60):
        sim.advance(2)
        run = deck.task_runs.retrieve(run.id)
        if run.status == "interaction_required":
            _answer(deck.task_runs, run)
        elif run.status in TaskRun.TERMINAL:
            return run
    raise AssertionError(f"the run did not end: {run.status}")
