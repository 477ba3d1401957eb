"""What a run's card says about its data, as text and as HTML (pure: no widget, no HTTP).

A completed run lists its files: name, type, size and a short line of what was extracted
(``total_due 84.20 USD, due 2026-10-21``), or "extraction failed" / "no extraction". A failed run
shows the agent's last screenshot, small and inline, with its reasoning. The image is embedded from
bytes already fetched (a data URI): a signed URL never reaches the card. Every name a portal chose
is escaped, stripped of control characters and shortened."""

from __future__ import annotations

import base64
import html
import unicodedata
from collections.abc import Iterable
from typing import Any

MAX_NAME = 60
MAX_FILES_SHOWN = 10
MAX_IMAGE_BYTES = 2 * 1024 * 1024
AMOUNT_KEYS = ("total_due", "amount_due", "balance", "total", "amount", "closing_balance")
DUE_KEYS = ("due_date", "payment_due_date")
_TYPES = {"application/pdf": "PDF", "text/csv": "CSV", "image/png": "PNG", "image/jpeg": "JPEG"}
_IMAGES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def clean(text: Any, limit: int = MAX_NAME) -> str:
    """A portal's text fit to read: no control or bidi characters, at most ``limit`` characters."""
    value = "".join(ch for ch in str(text) if unicodedata.category(ch)[0] != "C")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def size_text(size: Any) -> str:
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "size unknown"
    if size < 1000:
        return f"{size} bytes"
    for unit in ("KB", "MB", "GB"):
        size /= 1000
        if size < 1000 or unit == "GB":
            return f"{size:.1f} {unit}"
    return ""  # pragma: no cover


def type_text(mime: Any) -> str:
    if not isinstance(mime, str) or not mime:
        return "file"
    return _TYPES.get(mime, clean(mime.split("/")[-1].upper(), 12))


def _number(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return f"{value:.2f}"
    return None


def extraction_line(item: Any) -> str:
    """The short line of one file's extraction: the amount and due date of a bill, else its first
    few fields; "extraction failed" or "no extraction" when there is nothing to read."""
    if _get(item, "result") == "failure":
        return "extraction failed"
    data = _get(item, "extraction")
    if data is None:
        return "no extraction"
    if not isinstance(data, dict):
        return "extraction (encrypted)" if isinstance(data, str) and data.startswith("enc_") else "extraction"
    parts = []
    amount_key = next((k for k in AMOUNT_KEYS if _number(data.get(k)) is not None), None)
    if amount_key is not None:
        currency = data.get("currency")
        unit = f" {clean(currency, 5)}" if isinstance(currency, str) and currency else ""
        parts.append(f"{amount_key} {_number(data[amount_key])}{unit}")
    due = next((data[k] for k in DUE_KEYS if isinstance(data.get(k), str)), None)
    if due:
        parts.append(f"due {clean(due, 25)}")
    if not parts:
        scalars = [(k, v) for k, v in data.items() if isinstance(v, str | int | float) and not isinstance(v, bool)]
        parts = [f"{clean(k, 20)} {clean(_number(v) or v, 25)}" for k, v in scalars[:3]]
    return ", ".join(parts) or "extraction (no fields)"


def file_line(item: Any) -> str:
    name = clean(_get(item, "file_name") or _get(item, "id") or "file")
    kind, size = type_text(_get(item, "file_type")), size_text(_get(item, "file_size"))
    return f"{name} · {kind} · {size} · {extraction_line(item)}"


def files_text(items: Iterable[Any], more: bool = False) -> list[str]:
    """A completed run's file lines (a heading, then one line per file, at most ``MAX_FILES_SHOWN``);
    ``more``: ``items`` is only the first page of the run's files."""
    items = list(items)
    if not items:
        return ["no files stored"]
    count = f"more than {len(items)} files" if more else f"{len(items)} file{'s' if len(items) != 1 else ''}"
    lines = [f"{count} stored:"]
    lines += [f"  {file_line(item)}" for item in items[:MAX_FILES_SHOWN]]
    if len(items) > MAX_FILES_SHOWN or more:
        rest = f"{len(items) - MAX_FILES_SHOWN}{'+' if more else ''}"
        lines.append(f"  … and {rest} more (dn.download or dn.extractions list them all)")
    return lines


def files_html(items: Iterable[Any], more: bool = False) -> str:
    """The same lines as ``files_text``, as an HTML list (every value escaped)."""
    lines = files_text(items, more)
    if len(lines) == 1:
        return f"<div class='deck-nb-files'>{html.escape(lines[0])}</div>"
    rows = "".join(f"<li>{html.escape(line.strip())}</li>" for line in lines[1:])
    return f"<div class='deck-nb-files'>{html.escape(lines[0])}<ul style='margin:0'>{rows}</ul></div>"


def image_kind(data: Any) -> str | None:
    """The MIME type of PNG or JPEG bytes; None for anything else (never embedded)."""
    if not isinstance(data, bytes | bytearray) or len(data) > MAX_IMAGE_BYTES:
        return None
    return next((mime for magic, mime in _IMAGES.items() if data.startswith(magic)), None)


def screenshot_text(shot: Any) -> str:
    """A failed run's last screenshot, in words: what the agent last reasoned."""
    reasoning = _get(shot, "reasoning") if shot is not None else None
    if not reasoning:
        return "no screenshot kept"
    return f"last screenshot: {clean(reasoning, 200)}"


def screenshot_html(shot: Any, image: bytes | None = None) -> str:
    """The last screenshot small and inline (from ``image``, bytes already fetched) with its
    reasoning; without usable bytes, the reasoning alone."""
    text = html.escape(screenshot_text(shot))
    mime = image_kind(image)
    if mime is None:
        return f"<div class='deck-nb-screenshot'>{text}</div>"
    encoded = base64.b64encode(bytes(image)).decode("ascii")  # type: ignore[arg-type]
    alt = html.escape(clean(_get(shot, "reasoning") or "screenshot", 120), quote=True)
    img = f"<img src='data:{mime};base64,{encoded}' alt='{alt}' style='max-width:240px;max-height:160px'>"
    return f"<div class='deck-nb-screenshot'>{img}<div>{text}</div></div>"
