"""The probe in a real browser: JupyterLab's form page says "ready" once drawn, and the kernel
hears it while the cell that showed the form still awaits (ipykernel 7.4) — or, in a kernel that
takes comm messages only between cells (every ipykernel before 7.4), only after that cell ends, so
deck_nb stops awaiting in cells there."""

from __future__ import annotations

import json
import sys

import nbformat
import pytest
from kernel_driver import SERIAL_KERNEL
from test_browser import _browser, _open_and_run_all, deck_sim, jupyter  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CELLS = [
    "import deck_nb.notebook._frontend as fe\nprint('MODE', fe.waiting_mode(), fe.allow_stdin())",
    "from deck_nb.client import Interaction\nfrom deck_nb.widgets import InteractionForm\n"
    "form = InteractionForm(Interaction(type='mfa', fields=[{'name': 'code', 'type': 'string', 'label': 'Code'}]))\n"
    "watch = fe.PageWatch(form.widget)\ndisplay(form.widget)\n"
    "print('DRAWN', await watch.drawn(3), fe.KERNEL.probe)",
    "print('DONE')",
]


def _notebook(kernel: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    return nb


def _outputs(page, marker: str) -> list[str]:
    page.locator(".jp-OutputArea-output", has_text=marker).last.wait_for(timeout=60_000)
    return page.locator(".jp-OutputArea-output").all_inner_texts()


@pytest.mark.parametrize("kernel", ["python3", "serial"])
def test_the_form_page_says_ready_and_the_probe_reads_when_it_arrived(jupyter, tmp_path, kernel):  # noqa: F811
    from playwright.sync_api import sync_playwright

    spec = tmp_path / "data" / "kernels" / "serial"  # the fixture's JUPYTER_DATA_DIR
    spec.mkdir(parents=True)
    argv = [sys.executable, "-c", SERIAL_KERNEL, "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "serial", "language": "python"}))
    url, _work, note_family = jupyter("lab", {"probe.ipynb": _notebook(kernel)}, "connections")
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _open_and_run_all(page, url.format(name="probe.ipynb"))
            first = "\n".join(_outputs(page, "DONE"))
            assert "MODE await True" in first  # JupyterLab allows stdin; nothing heard yet
            if kernel == "python3":
                assert "DRAWN True await" in first, first
            else:
                assert "DRAWN False None" in first, first
                page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
                again = "\n".join(_outputs(page, "MODE return"))  # the late ready was heard between runs
                assert "MODE return True" in again, again
            note_family()
        finally:
            browser.close()
