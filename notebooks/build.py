"""Writes the demo notebooks from the cells below, then runs them headless (the simulator answers
the prompts) so they are committed with outputs. ``python notebooks/build.py`` after editing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).parent
# nbval markers are cell tags (a reader never sees them): "check" cells must print the same output
# each run; "ignore" cells only must run without error (timings, ids, widgets).
CHECK = "nbval-check-output"
IGNORE = "nbval-ignore-output"


def md(text: str):
    return nbformat.v4.new_markdown_cell(text.strip())


def code(tag: str, text: str):
    cell = nbformat.v4.new_code_cell(text.strip())
    cell.metadata["tags"] = [tag]
    return cell


QUICKSTART = [
    md("""
# deck_nb quickstart

Deck's browser agents log into web portals for you. When a portal asks for something only you
know — a password, an MFA code, a security answer, an account choice — Deck pauses and deck_nb shows
a form **right under the cell**. Answer it and the agent carries on.

This notebook talks to the **embedded Deck simulator** (Deck has no sandbox), so nothing real is
touched. Its MFA code is `123456`; any password but `pass_bad` works.

Run the cells in order (or *Run All*: it pauses at each form and resumes when you submit).
"""),
    code(
        IGNORE,
        """
import deck_nb as dn

deck = dn.default_deck()  # no DECK_API_KEY set: the embedded simulator
deck
""",
    ),
    md("""
## 1. Connect to a source

`dn.connect` opens a connection. We give no password in the cell — it would end up in the
notebook — so deck_nb asks for it in a masked field. Then the source asks for an MFA code: a form
built from the interaction's `fields` appears. Type `123456` and press **Submit**.
"""),
    code(
        IGNORE,
        """
conn = await dn.connect("src_sim_power", username="ada")
""",
    ),
    code(
        CHECK,
        """
print(conn.status)
print([(r.type, r.outcome) for r in conn.interactions])
""",
    ),
    md("""
## 2. Run a task

A task run fetches data through the connection. Acme Power asks nothing more during runs.
"""),
    code(
        IGNORE,
        """
run = await dn.run_task("task_sim_bills", conn, input={"months": 6})
""",
    ),
    md("""
## 3. The bills, as a DataFrame

`dn.outputs_frame` flattens a run's output into a tidy table with the run id beside each row.
The simulator's data depend only on the source, user, task and input, so these numbers are the
same every time.
"""),
    code(
        CHECK,
        """
bills = dn.outputs_frame(run)
bills[["statement_date", "amount_due", "currency", "usage_kwh"]]
""",
    ),
    code(
        CHECK,
        """
print(f"{len(bills)} bills, {bills['amount_due'].sum():.2f} USD in total")
""",
    ),
    md("""
## 4. The story of how we got it

Every status change, prompt, answer (field names and outcome, never values) and error is in the
session's history, as DataFrames.
"""),
    code(
        IGNORE,
        """
dn.history().runs
""",
    ),
    code(
        CHECK,
        """
dn.history().interactions[["resource_kind", "type", "field_names", "outcome"]]
""",
    ),
]


GALLERY = [
    md("""
# Interactions gallery

Every case of Deck's Interactions page, on the embedded simulator. Cells without `respond=` show a
form for you to answer; cells with `respond=` answer from code, to show a specific path (a wrong
code, a lockout…). Headless runs (CI) answer the forms from a responder switch instead.

The simulator's answers, for the forms below: MFA code `123456`; security answer `rex`; any account;
Novel Auth Co's PIN `123456` (its other fields take anything). Any password but `pass_bad` works.
"""),
    code(
        IGNORE,
        """
import time

import deck_nb as dn
from deck_nb import client

deck = dn.default_deck()
""",
    ),
    md("""
## MFA at login
A one-time code; the form is built from the interaction's single `code` field. Type `123456`.
"""),
    code(
        IGNORE,
        """
power = await dn.connect("src_sim_power", username="grace", password="pass_good")
""",
    ),
    code(
        CHECK,
        """
print(power.status, [(r.type, r.field_names, r.outcome) for r in power.interactions])
""",
    ),
    md("""
## Several interactions in sequence: MFA, then a security question
Riverside Bank asks for a code (`123456`), then *What was the name of your first pet?* (`rex`).
Each prompt is a separate interaction; deck_nb handles them one after another.
"""),
    code(
        IGNORE,
        """
bank = await dn.connect("src_sim_bank", username="grace", password="pass_good")
""",
    ),
    code(
        CHECK,
        """
print(bank.status, [(r.type, r.outcome) for r in bank.interactions])
""",
    ),
    md("""
## Account selection in the middle of a run
The bank asks which account to use while the task runs. The field carries `options`, so the form
shows a dropdown: pick any account.
"""),
    code(
        IGNORE,
        """
statements = await dn.run_task("task_sim_statements", bank)
""",
    ),
    code(
        CHECK,
        """
print(statements.status, statements.interactions[0].type, len(statements.output["transactions"]), "transactions")
""",
    ),
    md("""
## A wrong code, and the retry
The source rejects the first code; Deck asks again with an updated prompt and one attempt fewer.
Here the answers come from code: `respond={"code": [first try, second try]}`.
"""),
    code(
        IGNORE,
        """
retried = await dn.connect("src_sim_power", username="grace", password="pass_good",
                           respond={"code": ["000000", "123456"]})
""",
    ),
    code(
        CHECK,
        """
for r in retried.interactions:
    print(r.outcome, "|", r.message, "| attempts left:", r.attempts_remaining)
print(retried.status)
""",
    ),
    md("""
## Lockout: too many wrong codes → `auth_invalid`
"""),
    code(
        IGNORE,
        """
locked = await dn.connect("src_sim_power", username="grace", password="pass_good", respond={"code": "000000"})
""",
    ),
    code(
        CHECK,
        """
print(locked.status, [str(e) for e in locked.errors])
""",
    ),
    md("""
## An interaction type no client knows
Sources add verification methods at any time. Novel Auth Co asks for a `device_confirmation` with
six fields of mixed types — text, a number (masked: it is a PIN), a checkbox, a choice, a secret and
a type deck_nb has never seen (`date`, shown as text). The form comes from the fields alone.
The simulator checks the PIN: type `123456`; the other fields take any value.
"""),
    code(
        IGNORE,
        """
novel = await dn.connect("src_sim_novel", username="grace", password="pass_good")
""",
    ),
    code(
        CHECK,
        """
print(novel.status, novel.interactions[0].type, novel.interactions[0].field_names)
""",
    ),
    md("""
## Timeouts
If nobody answers before the window closes, a connection ends `disconnected` and a task run ends
`failed` with `interaction_timeout`. Windows are minutes long, so this part uses a second simulator
running 100× faster, and a responder that takes too long.
"""),
    code(
        IGNORE,
        """
fast = dn.simulator.start(time_scale=0.01)
fast_deck = dn.Deck(api_key=fast.api_key, base_url=fast.base_url)

def too_slow(interaction):
    time.sleep(1.6)  # the MFA window is 120 s, here 1.2 s
    return {"code": "123456"}

late = await dn.connect("src_sim_power", username="grace", password="pass_good", respond=too_slow, deck=fast_deck)
mobile = await dn.connect("src_sim_mobile", username="grace", password="pass_good", respond={}, deck=fast_deck)
late_run = await dn.run_task("task_sim_usage", mobile, respond=too_slow, deck=fast_deck)
""",
    ),
    code(
        CHECK,
        """
print("connection:", late.status, [e.code for e in late.errors])
print("task run:  ", late_run.status, [e.code for e in late_run.errors])
""",
    ),
    md("""
## The error table, and how to handle each row
deck_nb raises typed errors (`deck_nb.client.…`) carrying `type`, `code`, `field`, `status_code` and
`request_id`. Branch on the class or on `code`; the message is for people.
"""),
    code(
        CHECK,
        """
pending = deck.connections.create("src_sim_power", username="grace", password="pass_good")

# Interaction submitted when not required → interaction_not_required (HTTP 400)
try:
    deck.connections.submit_interaction(pending, code="123456")
except client.InteractionNotRequired as e:
    print(e.status_code, e.code)

# Invalid field names or types → interaction_input_invalid (HTTP 400), naming the field
pending = deck.connections.wait(pending)
try:
    deck.connections.submit_interaction(pending, cde="123456")
except client.InteractionInputInvalid as e:
    print(e.status_code, e.code, "field:", e.field)

# Submitted after the window closed → interaction_timeout (HTTP 408)
slow = fast_deck.connections.create("src_sim_power", username="grace", password="pass_good")
fast_deck.connections.wait(slow)
time.sleep(1.5)
try:
    fast_deck.connections.submit_interaction(slow, code="123456")
except client.InteractionTimeout as e:
    print(e.status_code, e.code)

# Wrong code → a retry, or a lockout with auth_invalid (above); raise_for_status turns it into an error
try:
    locked.raise_for_status()
except dn.JobFailed as e:
    print(type(e).__name__, [x.code for x in e.errors])
""",
    ),
    code(
        IGNORE,
        """
fast_deck.close()
fast.stop()
""",
    ),
]


ANALYSIS = [
    md("""
# Analysing runs across sources

A batch pulls data for many accounts at once; `run_many` paces itself under Deck's rate limit
(200 requests per 10 s), follows the event feed instead of polling each run, and keeps one
dashboard with an **inbox** where pending forms wait, oldest first.

To keep this notebook quick the prompts are answered by the simulator responder; remove
`respond=` to answer them yourself in the inbox.
"""),
    code(
        IGNORE,
        """
import deck_nb as dn

deck = dn.default_deck()
""",
    ),
    code(
        IGNORE,
        """
accounts = [f"user{i:02d}" for i in range(8)]
items = (
    [dn.Pull("src_sim_power", u, "pass_good", task_id="task_sim_bills", input={"months": 12}) for u in accounts]
    + [dn.Pull("src_sim_bank", u, "pass_good", task_id="task_sim_statements") for u in accounts[:4]]
    + [dn.Pull("src_sim_mobile", u, "pass_good", task_id="task_sim_usage", input={"days": 30}) for u in accounts[:4]]
    + [dn.Pull("src_sim_power", "former-customer", "pass_bad", task_id="task_sim_bills")]  # wrong password
    + [dn.Pull("src_sim_mobile", "flaky", "pass_good", task_id="task_sim_bills", input={"fail_with": "source_error"})]
)
results = await dn.run_many(items, concurrency=10, respond="simulator")
results
""",
    ),
    code(
        CHECK,
        """
results.frame.groupby(["kind", "status"], observed=True).size()
""",
    ),
    md("""
## The history frames
"""),
    code(
        IGNORE,
        """
history = dn.history()
history.runs.head()
""",
    ),
    code(
        CHECK,
        """
print(history.runs.dtypes.to_string())
""",
    ),
    md("""
## Summaries: success and interaction rates, failure reasons, time to answer
"""),
    code(
        CHECK,
        """
history.summary()[["runs", "success_rate", "interaction_rate"]]
""",
    ),
    code(
        CHECK,
        """
history.failure_reasons()
""",
    ),
    code(
        IGNORE,
        """
history.time_to_answer()
""",
    ),
    code(
        IGNORE,
        """
import matplotlib.pyplot as plt

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.5))
history.plot_success(ax=left)
history.plot_time_to_answer(ax=right)
plt.tight_layout()
""",
    ),
    md("""
## The data itself
`outputs_frame` flattens every run's output; here, electricity bills per account.
"""),
    code(
        CHECK,
        """
bills = dn.outputs_frame([o.run for o in results if o.run is not None and o.run.task_id == "task_sim_bills"])
per_account = bills.groupby("account_number")["amount_due"].agg(["count", "sum"]).round(2)
per_account
""",
    ),
    md("""
## Keep it
Every frame exports to parquet or CSV; history files from several sessions combine with
`dn.History.load(a, b, ...)`.
"""),
    code(
        IGNORE,
        """
import tempfile

print([p.name for p in history.export(tempfile.mkdtemp(), "csv")])
""",
    ),
]


NOTEBOOKS = {"quickstart.ipynb": QUICKSTART, "interactions_gallery.ipynb": GALLERY, "analysis.ipynb": ANALYSIS}


def build(names: list[str]) -> None:
    os.environ.setdefault("DECK_NB_RESPONDER", "simulator")
    os.environ.setdefault("DECK_SIM_TIME_SCALE", "0.05")
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        client = NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(HERE)}},
            store_widget_state=False,  # no stale widget state in the committed notebooks
        )
        client.execute()
        nb.metadata.pop("widgets", None)
        nbformat.write(nb, HERE / name)
        print("wrote", name)


if __name__ == "__main__":
    build(sys.argv[1:])
