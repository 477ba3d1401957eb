"""docs/files.md is true: its ```python blocks run in order, as a notebook runs its cells (top-level
``await``), against the simulator over loopback on both APIs, in a folder of their own; what they
print and leave on disk is what the page says, and no signed URL is printed."""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
from pathlib import Path

import pypdf
import pytest

import deck_nb as dn

PAGE = Path(__file__).parent.parent / "docs" / "files.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", PAGE.read_text(encoding="utf-8"), re.S | re.M)
SIGNED = ("/_files/", "signature=", "expires=")


def run_blocks(namespace: dict) -> None:
    """Every block, in order, in one namespace; a block with ``await`` runs on one event loop."""

    async def run_all() -> None:
        for number, block in enumerate(BLOCKS, start=1):
            code = compile(block, f"docs/files.md, block {number}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            result = eval(code, namespace)  # the page's own code
            if inspect.iscoroutine(result):
                await result

    asyncio.run(run_all())


def test_the_page_has_code_to_run():
    assert len(BLOCKS) >= 8 and all(block.strip() for block in BLOCKS)


@pytest.mark.parametrize("api", ["credentials", "connections"])
@pytest.mark.deck_simulator(clock="real", time_scale=0.01, rate_limit="off")
def test_every_code_block_of_docs_files_runs_and_says_what_the_page_says(sim, api, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DECK_NB_RESPONDER", "simulator")  # the prompts, answered as in a headless run
    deck = dn.Deck(api_key=sim.api_key, base_url=sim.base_url, api=api)
    previous = dn.set_default_deck(deck)
    try:
        namespace: dict = {}
        run_blocks(namespace)
    finally:
        dn.set_default_deck(previous)
        deck.close()
    printed = capsys.readouterr().out
    assert "3 files stored:" in printed and "due in total" in printed
    assert "0 fetched again" in printed and "4 files" in printed
    assert "Stopped: The source returned an error. (source_error)" in printed
    assert not [mark for mark in SIGNED if mark in printed], printed
    table = namespace["table"]
    assert len(table) == 3 and table["total_due"].dtype == "float64"
    pdfs = sorted((tmp_path / "deck_files").glob("*.pdf"))
    assert len(pdfs) == 4 and len(list((tmp_path / "deck_files" / "batch").glob("*.pdf"))) == 4
    texts = [pypdf.PdfReader(str(pdf)).pages[0].extract_text() for pdf in pdfs]
    for total in table["total_due"]:
        assert any(f"Total due: {total:.2f}" in text for text in texts)
    path = namespace["path"]
    assert path.resolve() == (tmp_path / "deck_files" / "first_bill.pdf").resolve()
    assert path.read_bytes() == (tmp_path / "deck_files" / namespace["item"].file_name).read_bytes()
    assert namespace["image"].startswith(b"\x89PNG")
