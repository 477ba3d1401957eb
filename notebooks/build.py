"""Writes the demo notebooks from the cells below, then runs them headless (the simulator answers
the prompts) so they are committed with outputs. ``python notebooks/build.py`` after editing."""

from __future__ import annotations

import os
import shutil
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


def parameters(text: str):
    """papermill's ``parameters`` cell: ``papermill -p NAME VALUE`` runs the notebook with other values
    (papermill adds a cell after this one that sets them; see docs/headless.md)."""
    cell = code(IGNORE, "# Parameters: `papermill -p NAME VALUE` changes them (docs/headless.md)\n" + text.strip())
    cell.metadata["tags"] = ["parameters", IGNORE]
    return cell


# applies the parameters every notebook shares: the API, the simulator's clock
APPLY = """
if api:  # a parameter wins over the environment
    os.environ["DECK_API"] = api
if time_scale is not None:  # read when the embedded simulator starts
    os.environ["DECK_SIM_TIME_SCALE"] = str(time_scale)
"""
SHARED = """
since = None  # keep only the data dated on or after this day, e.g. "2025-06-01" (None keeps all)
api = None  # "credentials" (Deck's current API) or "connections" (its original one); None: DECK_API, else detected
time_scale = None  # the embedded simulator's clock: 0.05 runs it 20x faster; None: DECK_SIM_TIME_SCALE, else 1
"""
SINCE = """
if since:  # a parameter: keep the rows dated on or after it
    dated = next(c for c in {frame}.columns if c.endswith("date"))
    {frame} = {frame}[{frame}[dated] >= pd.Timestamp(since, tz={frame}[dated].dt.tz)]
"""


QUICKSTART = [
    md("""
# deck_nb quickstart

Deck's browser agents log into web portals for you. When a portal asks for something only you
know — a password, an MFA code, a security answer, an account choice — Deck pauses and deck_nb shows
a form **right under the cell**. Answer it and the agent carries on.

This notebook talks to the **embedded Deck simulator** (Deck has no sandbox), so nothing real is
touched. Its MFA code is `123456`; any password but `pass_bad` works.

Run the cells in order (or *Run All*: it pauses at each form and resumes when you submit). The
first cell holds the parameters: change them here, or run the notebook headless with other values
(`papermill quickstart.ipynb out.ipynb -p task_id task_sim_usage`, see `docs/headless.md`).
"""),
    parameters(
        """
source_id = "src_sim_power"  # where to log in
username = "ada"  # your login there (the password is asked in a masked field, never written here)
task_id = "task_sim_bills"  # what the first run fetches
task_input = None  # its input, e.g. {"months": 6}; None: 6 months of bills, 14 days of usage
"""
        + SHARED
    ),
    code(
        IGNORE,
        """
import os

import pandas as pd

import deck_nb as dn
"""
        + APPLY
        + """if task_input is None:
    task_input = {"task_sim_bills": {"months": 6}, "task_sim_usage": {"days": 14}}.get(task_id, {})

deck = dn.default_deck()  # no DECK_API_KEY set: the embedded simulator
deck.detect_api()  # which of Deck's two APIs it speaks (see the note below)
""",
    ),
    md("""
> **Which Deck API?** Deck's service today speaks its *current* API: your login is stored as a
> **credential**, and each task run logs in inside a **session** — so the MFA form appears under the
> first *run*, and later runs reuse that session (no second MFA). That is what a real key meets, and
> what this notebook uses. Deck's original API (the one deck_nb was first written for) opens a
> **connection** that logs in at once, so the MFA form appears under the *connect* cell instead.
> To try it, start Jupyter with `DECK_API=connections`, or use `dn.Deck(api="connections")` (pass it as
> `deck=`, or `dn.set_default_deck(...)`). The cells below are the same on both APIs.
"""),
    md("""
## 1. Store your login

`dn.connect` takes your username and password for a source. We give no password in the cell — it
would end up in the notebook — so deck_nb asks for it in a masked field. Deck stores it as a
credential, which its first run verifies.
"""),
    code(
        IGNORE,
        """
conn = await dn.connect(source_id, username=username)
""",
    ),
    md("""
## 2. Three runs, one MFA

A task run fetches data (here `task_id`: bills, unless you changed it). The first one logs in to
the source (Acme Power), which asks for an MFA code: a form built from the interaction's `fields`
appears under the run. Type `123456` and press **Submit**.
"""),
    code(
        IGNORE,
        """
first = await dn.run_task(task_id, conn, input=task_input)
""",
    ),
    md("""
The next runs on the same login reuse its session: no login, no second MFA (`session=False`
would log in anew). Their cards say which session they reused.
"""),
    code(
        IGNORE,
        """
statements = await dn.run_task("task_sim_statements", conn)
usage = await dn.run_task("task_sim_usage", conn, input={"days": 14})
""",
    ),
    code(
        CHECK,
        """
print("login ok:", conn.ok)
print("runs:", [run.status for run in (first, statements, usage)])
print("asked:", [(r.type, r.outcome) for job in (conn, first, statements, usage) for r in job.interactions])
""",
    ),
    md("""
## 3. The data, as a DataFrame

`dn.outputs_frame` flattens a run's output into a tidy table with the run id beside each row.
The simulator's data depend only on the source, user, task and input, so these numbers are the
same every time.
"""),
    code(
        CHECK,
        """
frame = dn.outputs_frame(first)
"""
        + SINCE.format(frame="frame")
        + """frame.drop(columns=["run_id", "task_id", "source_id", "item"])
""",
    ),
    code(
        CHECK,
        """
print(f"{len(frame)} rows of {task_id} from {source_id}")
if "amount_due" in frame:
    print(f"{len(frame)} bills, {frame['amount_due'].sum():.2f} USD in total")
""",
    ),
    md("""
## 4. The story of how we got it

Every status change, prompt, answer (field names and outcome, never values) and error is in the
session's history, as DataFrames: runs (with the credential and session each used), the login
sessions, the interactions.
"""),
    code(
        IGNORE,
        """
history = dn.history()
history.runs[["task_id", "status", "api", "credential_id", "session_id"]]
""",
    ),
    code(
        IGNORE,
        """
history.sessions
""",
    ),
    code(
        CHECK,
        """
history.interactions[["type", "field_names", "outcome"]]
""",
    ),
    md("""
## 5. The bills themselves: a table, and the PDFs on disk

A run's `output` holds what the task returns; the **files** the agent downloaded — the bills — are
kept in Deck Storage beside the run, each with the numbers Deck read from it (its *extraction*). The
first run's card above lists them. `dn.extractions` makes them a table: one row per file, dates as
dates and amounts as numbers; a file whose extraction failed is a row with `result` `failure`.
"""),
    code(
        CHECK,
        """
bills = dn.extractions(first)
if since and "billing_date" in bills:  # a parameter: keep the bills dated on or after it
    bills = bills[bills["billing_date"] >= pd.Timestamp(since)]
bills.drop(columns=["run_id", "storage_id", "task_id", "source_id"])
""",
    ),
    md("""
`dn.download` saves the files in `deck_files/` beside this notebook (each `path` opens the file in
JupyterLab). Running it again fetches only what is not already there, unchanged; one file that
cannot be fetched is a row with its `error`, never an exception that loses the others. The links it
fetches with are secrets (anyone holding one gets the bill): they never reach a frame or an output.
"""),
    code(
        IGNORE,
        """
files = dn.download(first, dir="deck_files")
shown = files.assign(path=files["path"].map(os.path.relpath))  # relative to this notebook (each a link)
shown[["file_name", "file_type", "file_size", "path", "result", "error"]]
""",
    ),
    code(
        CHECK,
        """
from pathlib import Path

on_disk = [Path(path) for path in files["path"]]
print(f"{len(on_disk)} files in deck_files/, {sum(p.stat().st_size for p in on_disk)} bytes:")
print(", ".join(sorted(files["file_name"])))
print("each one whole:", all(p.stat().st_size == size for p, size in zip(on_disk, files["file_size"], strict=True)))
if "total_due" in bills:
    print(f"total due over the {len(bills)} bills: {bills['total_due'].sum():.2f} {bills['currency'].iloc[0]}")
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

The first part runs on whichever of Deck's two APIs this environment picks (Deck's current one by
default; `DECK_API=connections` for the original): on the current API a login happens inside a
task run, so each case logs in and then runs a task, and its forms appear under the run; on the
original API they appear under the connect cell. The last part shows the current API's own cases.
Each case names its own source and task (each shows one source's behaviour); the parameters below
choose who logs in and how, for a headless run (`docs/headless.md`).
"""),
    parameters(
        """
username = "grace"  # the login every case uses (passwords are the simulator's: any but pass_bad works)
first_task_id = "task_sim_bills"  # the task the first case (MFA at login) runs
"""
        + SHARED
    ),
    code(
        IGNORE,
        """
import asyncio
import os
import time

import pandas as pd

import deck_nb as dn
from deck_nb import client
"""
        + APPLY
        + """
deck = dn.default_deck()
api = deck.detect_api()  # "credentials" (Deck's current API) or "connections" (the original)
api
""",
    ),
    md("""
## MFA at login
A one-time code; the form is built from the interaction's single `code` field. Type `123456`.
"""),
    code(
        IGNORE,
        """
power = await dn.connect("src_sim_power", username=username, password="pass_good")
power_run = await dn.run_task(first_task_id, power)
""",
    ),
    code(
        CHECK,
        """
asked = [(r.type, r.field_names, r.outcome) for job in (power, power_run) for r in job.interactions]
print(power.ok, power_run.task_id, power_run.status, asked)
frame = dn.outputs_frame(power_run)
"""
        + SINCE.format(frame="frame")
        + """print(len(frame), "rows")
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
bank = await dn.connect("src_sim_bank", username=username, password="pass_good")
""",
    ),
    md("""
## Account selection in the middle of a run
The bank asks which account to use while the task runs. The field carries `options`, so the form
shows a dropdown: pick any account. (On Deck's current API this run also logs in, so the two login
prompts above come first, under this cell.)
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
print(bank.ok, [(r.type, r.outcome) for job in (bank, statements) for r in job.interactions])
print(statements.status, len(statements.output["transactions"]), "transactions")
""",
    ),
    md("""
## A wrong code, and the retry
The source rejects the first code; Deck asks again with an updated prompt (on the original API also
with `attempts_remaining` one lower). Here the answers come from code:
`respond={"code": [first try, second try]}`; the run answers with the same responder as its login.
"""),
    code(
        IGNORE,
        """
retried = await dn.connect("src_sim_power", username=username, password="pass_good",
                           respond={"code": ["000000", "123456"]})
retried_run = await dn.run_task("task_sim_bills", retried, input={"months": 1})
""",
    ),
    code(
        CHECK,
        """
for r in [*retried.interactions, *retried_run.interactions]:
    print(r.outcome, "|", r.message)
print(retried.ok, retried_run.status)
""",
    ),
    md("""
## Lockout: too many wrong codes → `auth_invalid`
On the original API the connection itself ends `invalid`; on the current API the run that logs in
fails, and the credential turns `invalid`. (A single wrong value is sent once: asked again, the
responder stops rather than lock the account. Three wrong tries have to be given as a list.)
"""),
    code(
        IGNORE,
        """
locked = await dn.connect("src_sim_power", username=username, password="pass_good", respond={"code": ["000000"] * 3})
failed = locked if api == "connections" else await dn.run_task("task_sim_bills", locked)
""",
    ),
    code(
        CHECK,
        """
print(locked.status, [e.code for e in failed.errors])
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
novel = await dn.connect("src_sim_novel", username=username, password="pass_good")
novel_run = await dn.run_task("task_sim_usage", novel, input={"days": 1})
""",
    ),
    code(
        CHECK,
        """
asked = [r for job in (novel, novel_run) for r in job.interactions]
print(novel.ok, novel_run.status, asked[0].type, asked[0].field_names)
""",
    ),
    md("""
## Timeouts
If nobody answers before the window closes, a task run ends `failed` with `interaction_timeout`;
on the original API a connection left waiting at login ends `disconnected` (on the current API the
login is the run's, so it is the run that fails). Windows are minutes long, so this part uses a
second simulator running 100× faster, and a responder that takes too long.
"""),
    code(
        IGNORE,
        """
fast = dn.simulator.start(time_scale=0.01)
fast_deck = dn.Deck(api_key=fast.api_key, base_url=fast.base_url)  # the same API as above

def too_slow(interaction):
    time.sleep(1.6)  # the MFA window is 120 s, here 1.2 s
    return {"code": "123456"}

late = await dn.connect("src_sim_power", username=username, password="pass_good", respond=too_slow, deck=fast_deck)
if api == "credentials":  # the login is the run's: its unanswered MFA fails the run
    late = await dn.run_task("task_sim_bills", late, deck=fast_deck)
mobile = await dn.connect("src_sim_mobile", username=username, password="pass_good", respond={}, deck=fast_deck)
late_run = await dn.run_task("task_sim_usage", mobile, respond=too_slow, deck=fast_deck)
""",
    ),
    code(
        IGNORE,
        """
print("login:   ", late.kind, late.status)
""",
    ),
    code(
        CHECK,
        """
print("login:   ", [e.code for e in late.errors])
print("task run:", late_run.status, [e.code for e in late_run.errors])
""",
    ),
    md("""
## A file whose extraction failed
Deck keeps every file the agent captured, even when it cannot read the numbers in it. The card
then says `extraction failed` beside that file, and `dn.extractions` keeps it as a row with
`result` `failure` (its fields empty): the PDF is still there for `dn.download`. A third simulator
fails the extraction of the second file it stores (`fail_extraction=2`, see `docs/simulator.md`).
"""),
    code(
        IGNORE,
        """
unread = dn.simulator.start(time_scale=0.05, fail_extraction=2)
unread_deck = dn.Deck(api_key=unread.api_key, base_url=unread.base_url)
unread_login = await dn.connect("src_sim_power", username=username, password="pass_good",
                                respond={"code": "123456"}, deck=unread_deck)
unread_run = await dn.run_task("task_sim_bills", unread_login, input={"months": 3}, deck=unread_deck)
""",
    ),
    code(
        CHECK,
        """
dn.extractions(unread_run)[["file_name", "result", "billing_date", "total_due"]]
""",
    ),
    code(
        IGNORE,
        """
unread_deck.close()
unread.stop()
""",
    ),
    md("""
## A failed run, and what the agent saw when it stopped
When a run fails, its card shows the agent's last screenshot (small, inline) and what it reasoned,
so you see why it stopped without opening Deck's console. `job.screenshots()` lists them all as a
frame (the images only on demand: `deck_nb.files.fetch_image(run_id, index)`).
"""),
    code(
        IGNORE,
        """
stopped = await dn.run_task("task_sim_bills", power, input={"months": 1, "fail_with": "source_error"})
""",
    ),
    code(
        CHECK,
        """
shots = stopped.screenshots()
print(stopped.status, [e.code for e in stopped.errors])
print("last screenshot:", shots["reasoning"].iloc[-1])
""",
    ),
    code(
        IGNORE,
        """
from IPython.display import Image

from deck_nb.files import fetch_image

image, shot = fetch_image(stopped.id)  # the last one, fetched now (its link is never shown)
Image(image)
""",
    ),
    md("""
## The error table, and how to handle each row
deck_nb raises typed errors (`deck_nb.client.…`) carrying `type`, `code`, `field`, `status_code` and
`request_id`. Branch on the class or on `code`; the message is for people. Interactions arrive on a
connection (original API) or on a task run (current API); `asking` below is whichever it is.
"""),
    code(
        CHECK,
        """
def start_login(d):
    \"\"\"A login that will ask for an MFA code, and the resources its interactions arrive on.\"\"\"
    if d.detect_api() == "connections":
        return d.connections, d.connections.create("src_sim_power", username=username, password="pass_good")
    cred = d.credentials.create("src_sim_power", username=username, password="pass_good")
    return d.task_runs, d.task_runs.create("task_sim_bills", credential_id=cred.id)

asking, pending = start_login(deck)

# Interaction submitted when not required → interaction_not_required (HTTP 400)
try:
    asking.submit_interaction(pending, code="123456")
except client.InteractionNotRequired as e:
    print(e.status_code, e.code)

# Invalid field names or types → interaction_input_invalid (HTTP 400), naming the field
pending = asking.wait(pending)
try:
    asking.submit_interaction(pending, cde="123456")
except client.InteractionInputInvalid as e:
    print(e.status_code, e.code, "field:", e.field)

# Submitted after the window closed → interaction_timeout (HTTP 408)
fast_asking, slow = start_login(fast_deck)
fast_asking.wait(slow)
time.sleep(1.5)
try:
    fast_asking.submit_interaction(slow, code="123456")
except client.InteractionTimeout as e:
    print(e.status_code, e.code)

# Wrong code → a retry, or a lockout with auth_invalid (above); raise_for_status turns it into an error
try:
    failed.raise_for_status()
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
    md("""
# Deck's current API: its own cases

On Deck's current API a credential is stored, not logged in; each task run logs in inside a
session, which later runs can reuse; a run can wait for a person's approval; cancelling takes a
moment. These cells use a client that speaks the current API whatever the environment picks
(the embedded simulator serves both).
"""),
    code(
        IGNORE,
        """
current = dn.Deck(api="credentials")
hopper = await dn.connect("src_sim_power", username="hopper", password="pass_good", deck=current)
""",
    ),
    md("""
## The login's MFA arrives on the run
The credential is stored `unverified`; the first run logs in, so the MFA form (`123456`) appears
under the run, and the credential turns `verified`.
"""),
    code(
        IGNORE,
        """
first = await dn.run_task("task_sim_bills", hopper, input={"months": 3}, deck=current)
""",
    ),
    code(
        CHECK,
        """
print(first.status, [(r.type, r.outcome) for r in first.interactions], "| credential", hopper.status)
""",
    ),
    md("""
## A second run reuses the session: no MFA
"""),
    code(
        IGNORE,
        """
second = await dn.run_task("task_sim_usage", hopper, input={"days": 7}, deck=current)
""",
    ),
    code(
        CHECK,
        """
print(second.status, second.interactions, "| same session:", second.run.session_id == first.run.session_id)
""",
    ),
    md("""
## `review_required`: a person approves in Deck's console
Paying a bill waits for a person to approve it in Deck's console — Deck has no API for that, and
deck_nb never approves: the card says the run waits, and the job keeps waiting. Here the simulator's
control route stands in for the console.
"""),
    code(
        IGNORE,
        """
import httpx

def approve_in_console(run_id):
    \"\"\"What a person does in Deck's console; on the simulator, its /_sim control route.\"\"\"
    root = current.base_url.removesuffix("/v2")
    headers = {"Authorization": f"Bearer {current.api_key}"}
    answer = httpx.post(f"{root}/_sim/task-runs/{run_id}/review", json={"decision": "approve"}, headers=headers)
    answer.raise_for_status()

async def until_status(job, status, timeout=60):
    \"\"\"Wait (bounded) while the job runs in the background until it shows ``status``.\"\"\"
    deadline = time.monotonic() + timeout
    while job.status != status:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{job.card.title} still {job.status}")
        await asyncio.sleep(0.1)

pay = dn.run_task("task_sim_pay_bill", hopper, input={"amount": 42.5}, deck=current)
await until_status(pay, "review_required")
print("now:", pay.status)  # its card (above) says so too, until it moves on
""",
    ),
    code(
        IGNORE,
        """
approve_in_console(pay.id)
await pay
""",
    ),
    code(
        CHECK,
        """
print(pay.status, pay.output["amount"], [r.type for r in pay.interactions])
""",
    ),
    md("""
## Cancelling takes a moment
A cancel goes through `cancelling` before the run ends `canceled` (its `result` is then `unknown`:
Deck cannot say how far the agent got).
"""),
    code(
        IGNORE,
        """
refund = dn.run_task("task_sim_pay_bill", hopper, input={"amount": 10}, deck=current)
await until_status(refund, "review_required")
refund.cancel()
print(refund.status)
await refund
""",
    ),
    code(
        CHECK,
        """
print(refund.status, refund.run.result)
""",
    ),
    md("""
## A wrong password, then a PATCH that fixes the credential
The simulator refuses the password `pass_bad`: the run that logs in fails with `auth_invalid` and
the credential turns `invalid`. `deck.credentials.update` stores the right password (the credential
is `unverified` again), and the next run logs in.
"""),
    code(
        IGNORE,
        """
typo = await dn.connect("src_sim_power", username="lovelace", password="pass_bad", deck=current)
refused = await dn.run_task("task_sim_bills", typo, input={"months": 1}, deck=current)
""",
    ),
    code(
        CHECK,
        """
print(refused.status, [e.code for e in refused.errors], "| credential", typo.status)
""",
    ),
    code(
        IGNORE,
        """
fixed = current.credentials.update(typo.id, password="pass_good")
print(fixed.status)
retry = await dn.run_task("task_sim_bills", typo, input={"months": 1}, deck=current)
""",
    ),
    code(
        CHECK,
        """
print(retry.status, [(r.type, r.outcome) for r in retry.interactions], "| credential", typo.status)
""",
    ),
]


ANALYSIS = [
    md("""
# Analysing runs across sources

A batch pulls data for many accounts at once; `run_many` paces itself under Deck's rate limit
(200 requests per 10 s), follows the event feed instead of polling each run, and keeps one
dashboard with an **inbox** where pending forms wait, oldest first.

To keep this notebook quick the prompts are answered by the simulator responder (the `respond`
parameter); set it to `None` to answer them yourself in the inbox. The parameters choose the main
pull and how it runs, also headless (`papermill analysis.ipynb out.ipynb -p accounts 4`, see
`docs/headless.md`).
"""),
    parameters(
        """
source_id = "src_sim_power"  # the source of the main pull
task_id = "task_sim_bills"  # what it fetches for each account
task_input = None  # its input; None: 12 months of bills, 30 days of usage
accounts = 8  # how many accounts the main pull covers
respond = "simulator"  # who answers the prompts: "simulator" (simulator only), or None for you, in the inbox
"""
        + SHARED
    ),
    code(
        IGNORE,
        """
import os

import pandas as pd

import deck_nb as dn
"""
        + APPLY
        + """if task_input is None:
    task_input = {"task_sim_bills": {"months": 12}, "task_sim_usage": {"days": 30}}.get(task_id, {})

deck = dn.default_deck()
""",
    ),
    code(
        IGNORE,
        """
users = [f"user{i:02d}" for i in range(accounts)]
items = (
    [dn.Pull(source_id, u, "pass_good", task_id=task_id, input=task_input) for u in users]
    + [dn.Pull("src_sim_bank", u, "pass_good", task_id="task_sim_statements") for u in users[:4]]
    + [dn.Pull("src_sim_mobile", u, "pass_good", task_id="task_sim_usage", input={"days": 30}) for u in users[:4]]
    + [dn.Pull("src_sim_power", "former-customer", "pass_bad", task_id="task_sim_bills")]  # wrong password
    + [dn.Pull("src_sim_mobile", "flaky", "pass_good", task_id="task_sim_bills", input={"fail_with": "source_error"})]
)
results = await dn.run_many(items, concurrency=10, respond=respond)
results
""",
    ),
    code(
        CHECK,
        """
results.frame.groupby(["ok", "error_code"], dropna=False).size()
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
On Deck's current API the login happens inside a run, so its prompts count on the runs (and a
refused password is a failed run); on the original API they count on the connection.
"""),
    code(
        IGNORE,
        """
history.summary()[["runs", "success_rate", "interaction_rate"]].round(2)
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
`outputs_frame` flattens every run's output; here, the main pull's (electricity bills per account,
unless the parameters say otherwise).
"""),
    code(
        CHECK,
        """
frame = dn.outputs_frame([o.run for o in results if o.run is not None and o.run.task_id == task_id])
frame = frame[frame["source_id"] == source_id]
"""
        + SINCE.format(frame="frame")
        + """print(f"{len(frame)} rows of {task_id} from {source_id}")
if "amount_due" in frame:
    display(frame.groupby("account_number")["amount_due"].agg(["count", "sum"]).round(2))
""",
    ),
    md("""
## The bills, by month
The numbers a utility bill carries are in the files the agent downloaded: `results.extractions`
(`dn.extractions` of the batch) reads each file's extraction into a row, the dates as dates and
`total_due` as a number. Each account's amount due, month by month:
"""),
    code(
        CHECK,
        """
bills = results.extractions
bills = bills[(bills["source_id"] == source_id) & (bills["task_id"] == task_id)]
if since and "billing_date" in bills:  # a parameter: keep the bills dated on or after it
    bills = bills[bills["billing_date"] >= pd.Timestamp(since)]
if "total_due" in bills:
    bills = bills.assign(month=bills["billing_date"].dt.to_period("M"))
    by_month = bills.pivot_table(index="month", columns="account_number", values="total_due", aggfunc="sum")
else:  # another task: its files carry no amount
    by_month = pd.DataFrame()
print(f"{len(bills)} files of {task_id} from {source_id}, {bills['result'].eq('failure').sum()} not read")
by_month.round(2)
""",
    ),
    code(
        IGNORE,
        """
if not by_month.empty:
    ax = by_month.plot(marker="o", figsize=(12, 3.5), title=f"total due by month, per account ({source_id})")
    ax.set_xlabel("billing month")
    ax.set_ylabel(f"total due ({bills['currency'].iloc[0]})")
    ax.legend(title="account", ncol=4, fontsize="small")
    plt.tight_layout()
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
    os.environ.setdefault("DECK_API", "credentials")  # what a real key meets (the cells work on both)
    for name, cells in NOTEBOOKS.items():
        if names and name not in names:
            continue
        shutil.rmtree(HERE / "deck_files", ignore_errors=True)  # saved outputs name files as a first run does
        nb = nbformat.v4.new_notebook(cells=cells)
        # ipykernel's own display name: JupyterLab rewrites any other on open (the notebook then opens modified)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
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
