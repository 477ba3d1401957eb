"""The notebook's place is the person's, in a real browser (JupyterLab 4, Debian's chromium): a click
on Submit does not select the form's cell (the next Shift+Enter carries on below, it does not run
`connect` again), a form that opens far above the last cell is scrolled into view after Run All, and
the quickstart opens unmodified."""

from __future__ import annotations

import nbformat
import pytest
from test_browser import ROOT, _browser, _open_and_run_all, deck_sim, jupyter  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]
PASSWORD = "hunter2-place-7f3a"
FORM = ".deck-nb-form-page:has(button.deck-nb-submit:enabled)"


def _notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _wait_for_kernel(page, url: str) -> None:
    page.set_default_timeout(90_000)
    page.goto(url)
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
        " return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; }"
    )


ACTIVE = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"


def test_submit_keeps_the_selection_so_shift_enter_runs_the_next_cell(jupyter, deck_sim):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    nb = _notebook(
        "import deck_nb as dn",
        'conn = await dn.connect("src_sim_power", username="ada")',
        'print("after", conn.status)',
    )
    url, _work, note_family = jupyter("lab", {"place.ipynb": nb}, "credentials")
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _wait_for_kernel(page, url.format(name="place.ipynb"))
            cells = page.locator(".jp-CodeCell")
            for index in (0, 1):  # as a person: click the cell, Escape, Shift+Enter
                cells.nth(index).locator(".jp-InputArea-editor").click()
                page.keyboard.press("Escape")
                page.keyboard.press("Shift+Enter")
            form = cells.nth(1).locator(FORM)
            form.wait_for(state="visible")
            assert page.evaluate(ACTIVE) == 2  # Shift+Enter on `connect` moved on to the print cell
            password = form.locator("input[type=password]")
            password.click()  # a click inside the form does not make its cell the active one
            password.press_sequentially(PASSWORD, delay=20)
            assert page.evaluate(ACTIVE) == 2
            form.locator("button.deck-nb-submit").click()
            assert page.evaluate(ACTIVE) == 2
            expect(cells.nth(1).locator(".deck-nb-form-page button.deck-nb-submit:enabled")).to_have_count(0)
            page.keyboard.press("Shift+Enter")  # the person carries on: the next cell, not connect again
            expect(cells.nth(2)).to_contain_text("after unverified", timeout=60_000)
            note_family()
            assert cells.nth(1).locator(".jp-InputPrompt").inner_text().strip() == "[2]:"
            assert cells.nth(2).locator(".jp-InputPrompt").inner_text().strip() == "[3]:"
            assert page.locator(FORM).count() == 0  # no second password form
        finally:
            browser.close()
    assert len(deck_sim.simulator.world.credentials) == 1  # connect ran once


def test_run_all_scrolls_a_waiting_form_into_view(jupyter, deck_sim):  # noqa: F811
    from playwright.sync_api import sync_playwright

    filler = [f"# filler {i}\n" + "\n".join(f"x{i}_{k} = {k}" for k in range(12)) for i in range(12)]
    nb = _notebook(
        "import deck_nb as dn", 'conn = await dn.connect("src_sim_power", username="ada")', *filler, "print('end')"
    )
    url, _work, note_family = jupyter("lab", {"scroll.ipynb": nb}, "credentials")
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 700})
            _open_and_run_all(page, url.format(name="scroll.ipynb"))
            form = page.locator(FORM)
            form.wait_for(state="attached")
            page.wait_for_function(
                "sel => { const f = document.querySelector(sel); if (!f) return false;"
                " const r = f.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }",
                arg=FORM,
                timeout=15_000,
            )
            note_family()
        finally:
            browser.close()


def test_the_quickstart_opens_unmodified(jupyter, deck_sim):  # noqa: F811
    from playwright.sync_api import sync_playwright

    nb = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", 4)
    url, _work, note_family = jupyter("lab", {"quickstart.ipynb": nb}, "credentials")
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _wait_for_kernel(page, url.format(name="quickstart.ipynb"))
            page.wait_for_timeout(3000)  # anything Lab rewrites on open has happened by now
            dirty = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.model.dirty")
            tab = page.locator(".lm-TabBar-tab.jp-mod-current")
            assert not dirty and "jp-mod-dirty" not in (tab.get_attribute("class") or ""), "modified on open"
            note_family()
        finally:
            browser.close()
