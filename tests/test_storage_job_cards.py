"""A run's card tells its data, read as a person reads it, over loopback HTTP on both APIs: a
completed run lists its files (name, type, size, the extraction's line) in its text, its HTML and its
finished card's static twin; a task without storage costs its runs no files request; a failed run
shows its last screenshot inline (the bytes, never the signed URL) and its reasoning; encrypted
payloads break no card, frame or repr."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pandas as pd
import pytest

import deck_nb as dn
from deck_nb.files import fetch_image
from deck_nb.notebook.view import JobView

pytestmark = pytest.mark.deck_simulator(clock="real", time_scale=0.01, rate_limit="off")
APIS = ["connections", "credentials"]
SECRET_MARKS = ("/_files/", "signature=", "expires=")  # what a signed URL carries


class Seen:
    """The paths a client asked Deck for (the signed-URL client is another one: not counted)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, request: httpx.Request) -> None:
        self.paths.append(request.url.path)

    def count(self, suffix: str) -> int:
        return sum(p.endswith(suffix) for p in self.paths)


def _deck(sim, api: str, seen: Seen | None = None) -> dn.Deck:
    http = httpx.Client(event_hooks={"request": [seen]}) if seen is not None else None
    return dn.Deck(api_key=sim.api_key, base_url=sim.base_url, api=api, rate_limit=None, http_client=http)


def _login(deck: dn.Deck, username: str = "ada"):
    return dn.connect("src_sim_power", username, "pass_good", respond={"code": "123456"}, deck=deck).wait(30)


def _run(deck, login, task="task_sim_bills", **inputs):
    job = dn.run_task(task, login, input=inputs or None, respond={"code": "123456"}, deck=deck)
    return job.wait(30)


class Handle:
    """Stands in for a display handle: keeps what the finished card was replaced with."""

    def __init__(self) -> None:
        self.shown: dict[str, str] | None = None

    def update(self, obj, raw: bool = False) -> None:
        self.shown = obj


def _settled_twin(job) -> dict[str, str]:
    """The static output (HTML + text) a finished job's card becomes in a notebook."""
    view = JobView(job.card)
    view._handle = Handle()
    view.refresh(done=job.done, final=True)
    return view._handle.shown


@pytest.mark.parametrize("api", APIS)
def test_a_completed_runs_card_lists_its_files_with_their_extraction(sim, api):
    deck = _deck(sim, api)
    job = _run(deck, _login(deck), months=3)
    assert job.ok
    table = dn.extractions(job, deck=deck)
    assert len(table) == 3
    lines = job.card.full_text().splitlines()
    assert lines[0] == job.card.text() and lines[1] == "3 files stored:"
    for row in table.itertuples():
        item = next(i for i in job.files if i.id == row.storage_id)
        due = row.due_date.strftime("%Y-%m-%d")
        expected = f"  {row.file_name} · PDF · {item.file_size} bytes · total_due {row.total_due:.2f} USD, due {due}"
        assert expected in lines
        assert f"<li>{expected.strip()}</li>" in job.card.html()
    twin = _settled_twin(job)
    assert twin["text/plain"] == job.card.full_text() and "3 files stored:" in twin["text/html"]
    assert twin["text/html"].count("<li>") == 3
    assert "\n" not in job.card.text() and "\n" not in repr(job)  # the live line stays one line
    words = job.card.full_text() + job.card.html() + repr(job) + job._repr_html_()
    assert not [mark for mark in SECRET_MARKS if mark in words]


def test_a_job_shown_in_a_terminal_ipython_reads_its_files_under_its_line(sim, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    deck = _deck(sim, "connections")
    job = _run(deck, _login(deck), months=2)
    InteractiveShell.instance()  # IPython without a kernel: what a terminal prints
    job._ipython_display_()
    printed = capsys.readouterr().out
    assert printed.strip().splitlines()[1:] == job.card.details and job.card.details[0] == "2 files stored:"


@pytest.mark.parametrize("api", APIS)
def test_failed_extraction_and_files_without_extraction_say_so(sim, api):
    deck = _deck(sim, api)
    login = _login(deck)
    sim.storage(fail_extraction=2)
    bills = _run(deck, login, months=2)
    table = dn.extractions(bills, deck=deck)
    assert sorted(table["result"]) == ["failure", "success"]
    lines = bills.card.full_text().splitlines()[2:]
    for row in table.itertuples():
        said = next(line for line in lines if line.strip().startswith(row.file_name))
        assert said.endswith("extraction failed") == (row.result == "failure"), said
    usage = _run(deck, login, "task_sim_usage", days=2)
    assert usage.card.full_text().splitlines()[1:] == [
        "1 file stored:",
        f"  {usage.files[0].file_name} · CSV · {usage.files[0].file_size} bytes · no extraction",
    ]


def test_a_task_without_storage_costs_its_runs_no_files_request(sim):
    seen = Seen()
    deck = _deck(sim, "connections", seen)
    login = _login(deck)
    for amount in (1, 2):  # the seed's API pays without review
        paid = _run(deck, login, "task_sim_pay_bill", amount=amount)
        assert paid.ok and paid.files is None and paid.card.full_text() == paid.card.text()
    assert seen.count("/tasks/task_sim_pay_bill") == 1  # read once per process, not per run
    assert seen.count("/storage") == 0
    for months in (1, 2):
        assert _run(deck, login, months=months).files is not None
    assert seen.count("/tasks/task_sim_bills") == 1 and seen.count("/storage") == 2


@pytest.mark.parametrize("api", APIS)
def test_a_failed_runs_card_shows_its_last_screenshot_inline_and_why(sim, api):
    deck = _deck(sim, api)
    failed = _run(deck, _login(deck), months=1, fail_with="source_error")
    assert failed.status == "failed" and failed.files is None
    image, shot = fetch_image(failed.id, deck=deck)
    assert shot.reasoning.startswith("Stopped:") and "source_error" in shot.reasoning
    assert failed.card.full_text().splitlines()[-1] == f"last screenshot: {shot.reasoning}"
    page = failed.card.html()
    assert f"src='data:image/png;base64,{base64.b64encode(image).decode()}'" in page
    twin = _settled_twin(failed)
    assert "data:image/png;base64," in twin["text/html"] and shot.reasoning in twin["text/plain"]
    words = failed.card.full_text() + page + repr(failed) + failed._repr_html_() + twin["text/html"]
    assert not [mark for mark in SECRET_MARKS if mark in words]
    served = sim.stats()["downloads"]["served"]
    frame = failed.screenshots()  # images only on demand: listing them fetches none
    assert sim.stats()["downloads"]["served"] == served
    assert isinstance(frame, pd.DataFrame) and "url" not in frame.columns and len(frame) >= 2
    assert frame["reasoning"].iloc[-1] == shot.reasoning and (frame["run_id"] == failed.id).all()


@pytest.mark.parametrize("api", APIS)
def test_await_job_reads_the_same_lines_through_the_async_client(sim, api):
    deck = _deck(sim, api)
    login = _login(deck, "async")

    async def both():
        code = {"code": "123456"}
        bills = dn.run_task("task_sim_bills", login, input={"months": 2}, respond=code, deck=deck)
        failing = {"months": 1, "fail_with": "source_error"}
        failed = dn.run_task("task_sim_bills", login, input=failing, respond=code, deck=deck)
        return await asyncio.gather(bills.wait_async(30), failed.wait_async(30))

    bills, failed = asyncio.run(both())
    assert bills.ok and bills.card.full_text().splitlines()[1] == "2 files stored:"
    assert "last screenshot: Stopped:" in failed.card.full_text() and "data:image/png;base64," in failed.card.html()


class RefusesFiles(httpx.HTTPTransport):
    """Deck refusing a run's files (storage is a paid add-on): 403 for ``/task-runs/{id}/storage``."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/storage") and "/task-runs/" in request.url.path:
            body = {"error": {"type": "permission", "code": "forbidden", "message": "Storage is not on your plan."}}
            return httpx.Response(403, json=body, request=request)
        return super().handle_request(request)


def test_a_card_whose_files_cannot_be_read_says_so_and_the_run_still_completed(sim):
    http = httpx.Client(transport=RefusesFiles())
    deck = dn.Deck(api_key=sim.api_key, base_url=sim.base_url, api="connections", rate_limit=None, http_client=http)
    job = _run(deck, _login(deck), months=1)
    assert job.ok and job.files is None
    last = job.card.full_text().splitlines()[-1]
    assert last.startswith("its files could not be read (") and last.endswith("dn.download(job) reads them again")
    assert "its files could not be read" in job.card.html()
    assert "Storage is not on your plan" not in last  # the error's kind, not a source's words


@pytest.mark.parametrize("api", APIS)
def test_encrypted_payloads_break_no_card_frame_or_repr(sim, api, tmp_path):
    deck = _deck(sim, api)
    login = _login(deck, "sealed")
    sim.storage(encryption=True)
    bills = _run(deck, login, months=2)
    failed = _run(deck, login, months=1, fail_with="source_error")
    assert bills.ok and bills.run.encrypted and isinstance(bills.output, str) and bills.output.startswith("enc_")
    assert failed.status == "failed"  # no output: nothing sealed to show
    assert "2 files stored:" in bills.card.full_text() and "last screenshot:" in failed.card.full_text()
    texts = []
    for job in (bills, failed):
        texts += [repr(job), job._repr_html_(), job.card.full_text(), job.card.html(), *_settled_twin(job).values()]
        texts += [repr(job.run), str(job.run), job.run._repr_html_()]
    with pytest.warns(UserWarning, match="its output is encrypted"):  # said, not an empty table in silence
        frames = [dn.outputs_frame([bills, failed])]
    frames += [dn.runs_frame([bills, failed]), dn.extractions(bills, deck=deck)]
    frames += [dn.download(bills, tmp_path, deck=deck), failed.screenshots()]
    history = dn.history()
    frames += [history.runs, history.files, history.extractions, history.summary()]
    batch = dn.run_many_sync(
        [dn.Pull("src_sim_power", "sealed-batch", "pass_good", task_id="task_sim_bills", input={"months": 1})],
        respond={"code": "123456"},
        deck=deck,
    )
    assert all(o.ok for o in batch) and batch[0].run.run.encrypted
    frames += [batch.frame, batch.extractions]
    texts += [repr(batch), batch._repr_html_() if hasattr(batch, "_repr_html_") else ""]
    texts += [f.to_csv() for f in frames] + [f._repr_html_() for f in frames] + [repr(f) for f in frames]
    assert all(isinstance(t, str) for t in texts)
    assert frames[2]["total_due"].notna().all() and len(frames[3]) == 2
    assert not [mark for mark in SECRET_MARKS if any(mark in t for t in texts)]
