"""A notebook exported to HTML reads as a person saw it (issue 22): run by nbclient (widget state
saved, its default), converted by nbconvert, and read as a browser shows it offline — the text
outside <script> and <style>. Every card and the dashboard show their final words there, including a
run that settled after its cell ended; nothing stays at "starting · 0.0s"."""

from __future__ import annotations

import html.parser
import json
import os
import re

import nbformat
import pytest

CELLS = [
    "import asyncio\nimport deck_nb as dn",
    'conn = await dn.connect("src_sim_power", username="ada", password="pass_good")',
    'bills = await dn.run_task("task_sim_bills", conn, input={"months": 2})',
    'late = dn.run_task("task_sim_usage", conn, input={"days": 1})  # not awaited: it settles later',
    "await asyncio.sleep(0.1)\nawait late\nprint('late', late.status)",
    "batch = await dn.run_many([dn.RunTask('task_sim_usage', conn, {'days': 1}) for _ in range(2)])",
]


class ReadableText(html.parser.HTMLParser):
    """The text a browser shows without running scripts: everything outside <script> and <style>."""

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


@pytest.fixture
def executed(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    for name in ("DECK_API_KEY", "DECK_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DECK_NB_RESPONDER", "simulator")
    monkeypatch.setenv("DECK_SIM_TIME_SCALE", "0.05")
    monkeypatch.setenv("DECK_API", "credentials")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # store_widget_state: its default, True
    assert os.environ.get("DECK_API_KEY") is None
    return nb


def test_the_exported_html_shows_every_card_and_the_dashboard_final(executed):
    from nbconvert import HTMLExporter

    page, _ = HTMLExporter().from_notebook_node(executed)
    text = ReadableText.of(page)
    outputs = [o for cell in executed.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"], outputs
    assert "starting" not in text and "0.0s ·" not in text, text
    assert re.search(r"connect src_sim_power cred_\w+ verified \d", text), text  # its first run verified it
    assert len(re.findall(r"run task_sim_bills trun_\w+ completed \d", text)) == 1, text
    listed = r"2 files stored: (bill_\d{4}-\d\d\.pdf · PDF · \d+ bytes · total_due \d+\.\d\d USD, due [\d-]+ ){2}"
    assert re.search(listed, text), text  # the finished card's static twin lists the run's files
    late = ReadableText.of("".join(o["data"].get("text/html", "") for o in executed.cells[3].outputs))
    assert re.search(r"^run task_sim_usage trun_\w+ completed \d", late), late  # settled after its cell ended
    assert "late completed" in text, text
    assert "deck_nb batch of 2 2 / 2 · 2 ok · 0 failed" in text, text  # the dashboard, as static HTML
    assert re.search(r"src_sim_power ada task_sim_usage completed", text), text  # its rows
    lines = [o["data"]["text/plain"] for o in outputs if "text/html" in o.get("data", {})]
    assert len(lines) == 4 and not [t for t in lines if "starting" in t], lines  # the saved text twins: final
    saved = json.dumps([outputs, executed.metadata.get("widgets", {})])
    assert "pass_good" not in saved and "123456" not in saved  # the password is only in the cell's source
