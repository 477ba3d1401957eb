"""The batch dashboard after a real batch against the simulator: the bar splits ok from failed, counts
are grouped by kind, each row says who/what/how it ended (never a secret), and the displayed dashboard
has a one-line text twin. Also the batch's own history and a Pull that needs its task."""

from __future__ import annotations

import asyncio
import re

import pytest

import deck_nb as dn
from deck_nb.notebook import run_many
from deck_nb.widgets import Dashboard

pytestmark = pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.05, rate_limit="200/10s")

PASSWORD = "Tr0ub4dor-dashboard"  # distinctive, to prove it reaches no row, line or repr
CODE = "123456"


@pytest.fixture
def deck(sim):
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as client:
        yield client


@pytest.fixture
def mobile(deck):
    return dn.connect("src_sim_mobile", "ada", PASSWORD, respond={}, deck=deck).wait(30)


def _run(items, deck, dashboard):
    coro = run_many(items, respond={"code": CODE}, deck=deck, dashboard=dashboard, poll_interval=0.1)
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.fixture
def finished(deck, mobile):
    items = [dn.RunTask("task_sim_usage", mobile, {"days": 1}) for _ in range(4)]
    items += [dn.RunTask("task_sim_bills", mobile.id, {"fail_with": "source_error"})]
    items += [dn.Pull("src_sim_power", "former-customer", "pass_bad", task_id="task_sim_bills")]
    items += [dn.Connect("src_sim_power", "grace", PASSWORD, external_id="crm-42")]
    dashboard = Dashboard(len(items), "nightly pull")
    return _run(items, deck, dashboard), dashboard


def test_the_bar_shows_the_share_that_succeeded_and_the_share_that_failed(finished):
    result, dashboard = finished
    assert (dashboard.ok, dashboard.failed, dashboard.finished) == (5, 2, 7)
    assert sum(o.ok for o in result) == 5
    assert "class='deck-nb-ok' style='width:71.4%" in dashboard.bar.value
    assert "class='deck-nb-failed' style='width:28.6%" in dashboard.bar.value


def test_counts_are_grouped_by_kind(finished):
    _, dashboard = finished
    assert +dashboard.counts["connections"] == {"connected": 1, "invalid": 1}
    assert +dashboard.counts["runs"] == {"completed": 4, "failed": 1}
    connections, runs = dashboard.summary.value.split("<br>")
    assert "connections" in connections and "invalid 1" in connections and "completed" not in connections
    assert "runs" in runs and "completed 4" in runs and "failed 1" in runs


def test_each_row_names_source_who_task_status_duration_and_error_code(finished, mobile):
    _, dashboard = finished
    rows = {(r.source, r.who, r.task, r.status, r.error_code) for r in dashboard.recent}
    assert rows == {
        *[("src_sim_mobile", "ada", "task_sim_usage", "completed", "")] * 4,
        ("src_sim_mobile", mobile.id, "task_sim_bills", "failed", "source_error"),  # only an id was given
        ("src_sim_power", "former-customer", "task_sim_bills", "invalid", "auth_invalid"),
        ("src_sim_power", "grace · crm-42", "", "connected", ""),
    }
    assert len(dashboard.recent) == 7 and all(0 < r.seconds < 60 for r in dashboard.recent)
    table = dashboard.table.value
    for header in ("source", "user / external id", "task", "status", "took", "error"):
        assert f"<th>{header}</th>" in table
    took = re.findall(r"<td>(\d[^<]*)</td>", table)
    assert len(took) == 7 and all(re.fullmatch(r"\d\.\ds|\d+s|\d+m \d\ds", t) for t in took)  # rounded
    assert "source_error" in table and "auth_invalid" in table


def test_no_secret_reaches_the_dashboard(finished):
    result, dashboard = finished
    shown = [dashboard.bar.value, dashboard.summary.value, dashboard.table.value, dashboard.text(), repr(dashboard)]
    shown += [repr(r) for r in dashboard.recent] + [repr(o) for o in result]
    for secret in (PASSWORD, "pass_bad", CODE):
        assert not any(secret in s for s in shown), secret


def test_the_displayed_dashboard_has_a_one_line_text_twin(finished):
    from IPython.core.interactiveshell import InteractiveShell

    _, dashboard = finished
    data, _ = InteractiveShell.instance().display_formatter.format(dashboard)
    assert "application/vnd.jupyter.widget-view+json" in data  # still the live widget where widgets run
    line = data["text/plain"]
    assert "\n" not in line and "VBox" not in line and "HTML(" not in line
    assert re.fullmatch(r"nightly pull: 7/7 done · 5 ok · 2 failed · (\d\.\ds|\d+s)", line), line


def test_the_text_line_counts_forms_waiting_while_the_batch_runs(deck, mobile):
    dashboard = Dashboard(2, "inbox")

    async def scenario():
        batch = asyncio.ensure_future(  # noqa: RUF006 - awaited below
            run_many(
                [dn.RunTask("task_sim_usage", mobile, {"days": 1}) for _ in range(2)],
                dashboard=dashboard,
                deck=deck,
                poll_interval=0.1,
            )
        )
        for _ in range(500):
            if len(dashboard.forms) == 2:
                break
            await asyncio.sleep(0.02)
        line = dashboard.text()
        for form in list(dashboard.forms):
            form.fill_and_submit(code=CODE)
        return line, await batch

    line, result = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert line.startswith("inbox: 0/2 done · 0 ok · 0 failed · ") and line.endswith(" · 2 waiting for you")
    assert all(o.ok for o in result) and dashboard.text().startswith("inbox: 2/2 done · 2 ok · 0 failed")


def test_a_pull_names_its_task(deck):
    with pytest.raises(TypeError, match="task_id"):
        dn.Pull("src_sim_power", "ada", PASSWORD)
    with pytest.raises(ValueError, match="needs task_id"):
        dn.run_many_sync([{"source_id": "src_sim_power", "username": "ada", "password": "x", "task_id": ""}], deck=deck)


def test_batch_history_is_the_batch_own_history(deck, mobile):
    before = dn.run_task("task_sim_usage", mobile, {"days": 1}, respond={"code": CODE}, deck=deck).wait(30)
    result = dn.run_many_sync(
        [dn.RunTask("task_sim_usage", mobile, {"days": 1}) for _ in range(2)]
        + [dn.Pull("src_sim_power", "lin", PASSWORD, task_id="task_sim_bills", input={"months": 1})],
        respond={"code": CODE},
        deck=deck,
        poll_interval=0.1,
    )
    runs = {o.run.id for o in result}
    assert len(runs) == 3 and all(o.ok for o in result)
    history = result.history
    assert set(history.runs["id"]) == runs
    assert set(history.connections["id"]) == {result[2].connection.id}  # not `mobile`, made before the batch
    assert set(history.interactions["resource_id"]) <= runs | {result[2].connection.id}
    assert set(history.events["resource_id"]) == runs | {result[2].connection.id}
    assert {before.id, mobile.id} <= set(dn.history().runs["id"]) | set(dn.history().connections["id"])
    assert before.id not in set(history.runs["id"])
    assert history.credentials.empty and history.sessions.empty  # the seed's API: none made
    assert set(history.errors["resource_id"].dropna()) <= runs | {result[2].connection.id}


def test_in_a_kernel_the_saved_output_is_the_final_line_not_a_widget_repr(sim):
    """A real kernel runs a batch; the notebook's saved text/plain is the line, updated at the end."""
    import queue
    import time

    from kernel_driver import KernelBrowser

    kernel = KernelBrowser({"DECK_API_KEY": sim.api_key, "DECK_BASE_URL": sim.base_url, "DECK_NB_RESPONDER": ""})
    try:
        kernel.execute(
            "import deck_nb as dn\n"
            "conn = dn.connect('src_sim_mobile', 'ada', 'pw', respond={}).wait(30)\n"
            "res = await dn.run_many([dn.RunTask('task_sim_usage', conn, {'days': 1})] * 2,"
            " respond={'code': '123456'}, poll_interval=0.1)\n"
            "print('DONE', res)"
        )
        shown, updates, printed = [], [], ""
        deadline = time.monotonic() + 60
        while "DONE" not in printed and time.monotonic() < deadline:
            try:
                msg = kernel.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "display_data":
                shown.append(content)
            elif kind == "update_display_data":
                updates.append(content)
            elif kind == "stream":
                printed += content["text"]
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
    finally:
        kernel.close()
    assert "DONE <BatchResult 2/2 ok>" in printed
    (first,) = [d for d in shown if "deck_nb batch" in d["data"].get("text/plain", "")]
    assert first["data"]["text/plain"].startswith("deck_nb batch of 2: 0/2 done · 0 ok · 0 failed")
    assert "application/vnd.jupyter.widget-view+json" in first["data"]
    assert updates and updates[-1]["transient"] == first["transient"]  # the same output, rewritten
    assert re.fullmatch(r"deck_nb batch of 2: 2/2 done · 2 ok · 0 failed · [\d.]+s", updates[-1]["data"]["text/plain"])
    assert not any("VBox(" in d["data"].get("text/plain", "") for d in shown + updates)


def test_a_form_nobody_answers_expires_and_the_batch_still_ends(deck, mobile):
    """The prompt closes on the server (window over): the job sees it, and the batch ends with the
    error code on the row, instead of waiting for an event about a state it already holds."""
    dashboard = Dashboard(1, "unanswered")
    coro = run_many([dn.RunTask("task_sim_usage", mobile, {"days": 1})], deck=deck, dashboard=dashboard)
    result = asyncio.run(asyncio.wait_for(coro, 40))  # the window is 6 s here
    assert result[0].status == "failed" and result[0].error_code == "interaction_timeout"
    assert dashboard.inbox.children == () and dashboard.forms == []
    (row,) = dashboard.recent
    assert (row.status, row.error_code, row.ok) == ("failed", "interaction_timeout", False)
