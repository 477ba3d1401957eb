"""The shipped quickstart, cell by cell, in a kernel that takes a form's messages only once the cell
that showed it ends (as every ipykernel before 7.4, Colab's, JupyterLite's and marimo's do) and in one
that takes them while a cell awaits (ipykernel 7.4). Nobody set a responder: a person answers each form
once it is drawn, as the quickstart's text says (a password, then a wrong MFA code, then ``123456``).
Where the kernel cannot take the answer while the cell waits, the cell that asks returns with its live
card, the card says so in the one line ``waiting_note()`` says, the form's own handler submits and the
next cell reads the job; nothing ever deadlocks (every cell is bounded). The cells are read from the
.ipynb and every form is answered by what it asks, so whatever cells the quickstart grows run too."""

from __future__ import annotations

import html.parser
import os
import re
from pathlib import Path

import nbformat
import pytest
from kernel_driver import KernelBrowser

QUICKSTART = Path(__file__).parent.parent / "notebooks" / "quickstart.ipynb"
CELL_S = 90.0  # a cell, and then the person's answers to what it asked, finish within this or it deadlocked
PASSWORD = "correct horse"  # any password but pass_bad works on the simulator (the quickstart says so)
WRONG_CODE, CODE = "000000", "123456"  # the quickstart: "Its MFA code is `123456`"
DONE = "__cell_done__"
UNDER_WAY = ("interaction_required", "waiting for", "starting", "queued", "pending", "running")
ASKING = ("interaction_required", "waiting for")


class ReadableText(html.parser.HTMLParser):
    """The text a browser shows of a card's HTML (not its scripts and styles)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)

    @classmethod
    def of(cls, page: str) -> str:
        reader = cls()
        reader.feed(page)
        return " ".join(" ".join(reader.parts).split())


def cards(kernel: KernelBrowser) -> list[str]:
    """Each job's card as a person reads it."""
    return [
        ReadableText.of(state.get("value", ""))
        for state in kernel.models.values()
        if "deck-nb-card-widget" in state.get("_dom_classes", [])
    ]


def forms(kernel: KernelBrowser) -> dict[str, dict]:
    return {c: s for c, s in kernel.models.items() if "deck-nb-form" in s.get("_dom_classes", [])}


class Person:
    """Answers every open form the page draws, as the quickstart's text tells a person to: the password
    in its masked field; the MFA code wrong once, then right when the form reopens with the complaint.
    Then runs the next cell: once the jobs they answered ended (``patient``), or as soon as nothing asks
    them any more, as the card's line says ("answer the form, then run the next cell")."""

    def __init__(self, kernel: KernelBrowser, *, patient: bool = True) -> None:
        self.kernel = kernel
        self.waits_while = UNDER_WAY if patient else ASKING
        self.answered: set[tuple[str, int]] = set()  # (form, verdicts): one answer per time it opens
        self.asked: list[str] = []  # each field answered, by its label
        self.codes = 0  # MFA codes typed

    def answer_open_forms(self) -> None:
        for comm_id, state in forms(self.kernel).items():
            key = (comm_id, state.get("verdicts", 0))
            if state.get("closed", True) or key in self.answered:
                continue
            self.answered.add(key)
            values = {control["name"]: self.value_for(control) for control in state["controls"]}
            self.kernel.send(comm_id, {"event": "submit", "values": values})  # what the page sends on Submit

    def value_for(self, control: dict) -> str:
        label = control.get("label") or control["name"]
        self.asked.append(label)
        words = f"{control['name']} {label}".lower()
        if "password" in words:
            return PASSWORD
        if "code" in words:
            self.codes += 1
            return WRONG_CODE if self.codes == 1 else CODE
        raise AssertionError(f"a form asks for what the quickstart's text never tells a person: {control}")

    def nothing_left(self, kernel: KernelBrowser) -> bool:
        """No form open, and no card asking (the patient: nor carrying on with an answer)."""
        self.answer_open_forms()
        open_forms = [s for s in forms(kernel).values() if not s.get("closed", True)]
        return not open_forms and not any(word in card for card in cards(kernel) for word in self.waits_while)


def code_cells() -> list[str]:
    notebook = nbformat.read(QUICKSTART, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def quickstart_env() -> dict[str, str]:
    """No key, no responder, no override: the embedded simulator on a fast clock, a person at the page."""
    unset = {name: "" for name in os.environ if name.startswith("DECK_")}  # empty counts as unset
    return {**unset, "DECK_SIM_TIME_SCALE": "0.05"}


def run_cell(kernel: KernelBrowser, person: Person, source: str) -> tuple[list[str], str]:
    """Run one cell to its end (bounded) while the person answers what it asks: the cards as the cell
    ended and what it printed. Then the person finishes answering before running the next cell."""
    errors = len(kernel.errors)
    kernel.stdout.clear()
    kernel.kc.execute(f"{source}\nprint({DONE!r})", stop_on_error=False)

    def ended(k: KernelBrowser) -> bool:
        person.answer_open_forms()
        return DONE in k.printed() or len(k.errors) > errors

    kernel.pump(ended, timeout=CELL_S)  # raises if the cell never ends: a deadlock
    assert len(kernel.errors) == errors, f"the cell failed:\n{source}\n{kernel.errors[-1]}"
    at_end, printed = cards(kernel), kernel.printed()
    kernel.pump(person.nothing_left, timeout=CELL_S)
    return at_end, printed


def asked_at_the_end(card_texts: list[str]) -> list[str]:
    return [card for card in card_texts if any(word in card for word in ASKING)]


def say(kernel: KernelBrowser, expression: str) -> str:
    """What ``expression`` reads in the kernel now."""
    kernel.stdout.clear()
    kernel.kc.execute(f"print('SAID', {expression})")
    kernel.pump(lambda k: "SAID" in k.printed() or k.errors, timeout=30)
    assert not kernel.errors, kernel.errors
    return kernel.printed().split("SAID ", 1)[1].strip()


def run_quickstart(*, serial: bool, patient: bool = True) -> dict:
    """Every code cell of the quickstart in order, then what the kernel says of its jobs and front end."""
    kernel = KernelBrowser(quickstart_env(), serial=serial)
    person = Person(kernel, patient=patient)
    seen: dict = {"returned": [], "printed": [], "person": person}  # returned: cards that still asked at a cell's end
    try:
        for source in code_cells():
            at_end, printed = run_cell(kernel, person, source)
            seen["returned"] += asked_at_the_end(at_end)
            seen["printed"].append(printed)
        frontend = "__import__('deck_nb.notebook._frontend').notebook._frontend"
        for name in ("KERNEL.probe", "waiting_mode()", "waiting_note()"):
            seen[name] = say(kernel, f"{frontend}.{name}")
        seen["jobs"] = say(  # a later cell reads every job the notebook made
            kernel,
            "[(n, (await j).status, [r.outcome for r in j.interactions]) for n, j in list(globals().items())"
            " if isinstance(j, __import__('deck_nb').notebook.Job) and not n.startswith('_')]",
        )
    finally:
        kernel.close()
    seen["final"] = cards(kernel)
    return seen


def unfinished_reads(printed: list[str]) -> list[str]:
    """Lines a cell printed naming a job still under way (a later cell read it before it ended)."""
    return [line for text in printed for line in text.splitlines() if re.search(r"'(running|pending|queued)'", line)]


@pytest.mark.parametrize("serial", [True, False], ids=["comms-after-the-cell", "comms-while-awaiting"])
def test_the_quickstart_runs_to_the_end_answered_by_a_person_without_a_deadlock(serial, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the kernel starts here: whatever the notebook writes (files it fetched) stays here
    seen = run_quickstart(serial=serial)
    probe, mode, note = seen["KERNEL.probe"], seen["waiting_mode()"], seen["waiting_note()"]
    returned, final, jobs = seen["returned"], seen["final"], seen["jobs"]
    asked = seen["person"].asked
    assert asked.count("Password") == 1 and asked.count("Verification code") == 2, asked
    if serial:
        assert (probe, mode) == ("return", "return")  # the page spoke only once the cell had ended
        assert "only once a cell ends" in note and "run the next cell" in note, note
        assert len(returned) == 2, returned  # the login's password, then the run's code: both cells returned
        assert all(note in card for card in returned), (note, returned)
    else:
        assert (probe, mode, note) == ("await", "await", "")  # the page spoke while the cell awaited
        assert returned == [], returned  # each cell waited for its answers
    assert not any(note and note in card for card in final)  # said only while it was true
    runs = [card for card in final if card.startswith("run ")]
    assert runs and all(re.search(r" completed \d", card) for card in runs), final
    assert "'rejected', 'accepted'" in jobs and "'interaction_required'" not in jobs, jobs  # read by later cells
    assert unfinished_reads(seen["printed"]) == []


@pytest.mark.xfail(
    strict=True,
    reason="known gap: where the cell returned, a later cell that reads a job without awaiting it, run "
    "before its card says completed, reads it unfinished: `first.status` says `running` and the frames "
    "raise JobPending ('`await` it'); nothing can make that cell wait first except code added to it",
)
def test_a_person_who_runs_the_next_cell_as_soon_as_they_answered_reads_finished_jobs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seen = run_quickstart(serial=True, patient=False)
    assert unfinished_reads(seen["printed"]) == []
