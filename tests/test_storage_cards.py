"""The card's lines about a run's data (deck_nb.widgets._files), read as a person reads them:
files with type, size and extraction; failures and absences said plainly; a failed run's last
screenshot embedded from bytes (never a URL); portal-chosen text escaped and cleaned."""

from __future__ import annotations

import base64
import struct
import zlib

from deck_nb.client import Screenshot, StorageItem
from deck_nb.widgets import _files as lines

BILL = {"total_due": 84.2, "currency": "USD", "due_date": "2026-10-21", "account_number": "1"}


def _item(**fields) -> StorageItem:
    return StorageItem.model_validate(
        {"id": "stor_1", "file_name": "bill.pdf", "file_type": "application/pdf", "file_size": 845, **fields}
    )


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b"")


def test_a_completed_runs_files_read_as_name_type_size_and_extraction():
    items = [
        _item(extraction=BILL, result="success"),
        _item(id="stor_2", file_name="bill2.pdf", extraction=None, result="failure"),
        _item(id="stor_3", file_name="usage.csv", file_type="text/csv", file_size=2_300_000, result="success"),
    ]
    text = lines.files_text(items)
    assert text == [
        "3 files stored:",
        "  bill.pdf · PDF · 845 bytes · total_due 84.20 USD, due 2026-10-21",
        "  bill2.pdf · PDF · 845 bytes · extraction failed",
        "  usage.csv · CSV · 2.3 MB · no extraction",
    ]
    html = lines.files_html(items)
    assert "<li>bill.pdf · PDF · 845 bytes · total_due 84.20 USD, due 2026-10-21</li>" in html
    assert html.count("<li>") == 3


def test_other_extractions_and_encrypted_ones_have_a_short_line():
    assert lines.extraction_line({"extraction": {"closing_balance": 4739.82, "currency": "USD"}}) == (
        "closing_balance 4739.82 USD"
    )
    assert lines.extraction_line({"extraction": {"kwh": 12, "meter": "A"}}) == "kwh 12.00, meter A"
    assert lines.extraction_line({"extraction": "enc_abc"}) == "extraction (encrypted)"
    assert lines.files_text([]) == ["no files stored"]
    many = [_item(id=f"stor_{i}") for i in range(12)]
    assert lines.files_text(many)[-1] == "  … and 2 more (dn.download or dn.extractions list them all)"


def test_portal_text_is_escaped_cleaned_and_short():
    item = _item(file_name="<script>alert(1)</script>\u202e" + "x" * 100 + ".pdf", extraction=None)
    html = lines.files_html([item])
    assert "<script>" not in html and "&lt;script&gt;" in html and "\u202e" not in html
    assert len(lines.file_line(item).split(" · ")[0]) == lines.MAX_NAME


def test_a_failed_runs_last_screenshot_is_embedded_from_bytes_with_its_reasoning():
    url = "http://127.0.0.1:1/_files/scr_1?expires=1&signature=SECRET"
    shot = Screenshot.model_validate(
        {"id": "scr_1", "url": url, "reasoning": "Stopped: <b>site down</b> (source_error)"}
    )
    png = _png()
    html = lines.screenshot_html(shot, png)
    assert f"data:image/png;base64,{base64.b64encode(png).decode()}" in html
    assert "SECRET" not in html and "_files" not in html
    assert "&lt;b&gt;site down&lt;/b&gt;" in html and "<b>" not in html
    assert lines.screenshot_text(shot) == "last screenshot: Stopped: <b>site down</b> (source_error)"
    assert "<img" not in lines.screenshot_html(shot, b"<svg onload=alert(1)>")  # only PNG or JPEG bytes
    assert lines.screenshot_html(shot, None) == (
        "<div class='deck-nb-screenshot'>last screenshot: Stopped: &lt;b&gt;site down&lt;/b&gt; (source_error)</div>"
    )
    assert lines.screenshot_text(None) == "no screenshot kept"


def test_storage_items_read_every_revision_and_keep_unknown_fields():
    older = StorageItem.model_validate(
        {
            "id": "stor_x1y2z3",
            "object": "storage_item",
            "file_name": "statement_jan_2025.pdf",
            "file_type": "application/pdf",
            "file_size": 245678,
            "url": "https://storage.deck.co/signed?X-Sig=abc",
            "metadata": {},
            "fetch_date": "2025-01-15T09:30:00Z",
            "extraction": None,
            "task_run_id": "trun_a1b2c3d4",
            "checksum": "new-field",
        }
    )
    assert older.object == "storage_item" and older.fetch_date.year == 2025 and older.result is None
    assert older.to_dict()["checksum"] == "new-field" and older["checksum"] == "new-field"
    assert "X-Sig" not in repr(older) + str(older) + older._repr_html_()
    assert lines.extraction_line(older) == "no extraction"
    newest = StorageItem.model_validate({"id": "stor_1", "object": "storage", "result": "failure", "url": None})
    assert newest.extraction_failed and newest.url is None


def test_the_download_progress_has_the_same_words_as_text_and_html():
    from IPython.core.interactiveshell import InteractiveShell

    from deck_nb.files._progress import Progress

    bar = Progress(4, "deck_files", show=False)
    bar.advance(size=2_000_000)
    bar.advance(cached=True, size=500)
    bar.advance(failed=True)
    formatted, _ = InteractiveShell.instance().display_formatter.format(bar)
    assert formatted["text/plain"] == "Downloading 2 of 4 files (2.0 MB) to deck_files — 1 already on disk, 1 failed"
    assert formatted["text/plain"] in formatted["text/html"] and "<progress value='3' max='4'" in formatted["text/html"]
    bar.advance(size=1)
    bar.close()
    assert bar.text() == "Downloaded 3 of 4 files (2.0 MB) to deck_files — 1 already on disk, 1 failed"
