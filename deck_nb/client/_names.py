"""Local file names from a source's ``file_name``: a name a portal chose (``../../x``,
``/etc/passwd``, ``a\\0b``, ``CON``, 300 characters) becomes one plain file name that stays inside
the folder it is written to, on Linux, macOS and Windows alike."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

MAX_NAME_BYTES = 150  # far below every file system's 255, leaving room for " (12)" and ".part" names
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d|conin\$|conout\$)$", re.IGNORECASE)
_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


def safe_name(file_name: object, fallback: str = "file") -> str:
    """One safe file name: the last path part, no control or reserved characters, no leading dots,
    not a device name, at most ``MAX_NAME_BYTES`` bytes (extension kept); ``fallback`` when nothing
    is left."""
    text = unicodedata.normalize("NFC", str(file_name)) if isinstance(file_name, str) else ""
    text = re.split(r"[/\\]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")  # controls, NUL, bidi marks
    text = _BAD.sub("_", text).strip(" .")
    if not text:
        text = _BAD.sub("_", fallback).strip(" .") or "file"
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext) > 16:
        stem, ext = text, ""
    if _RESERVED.match(stem.split(".")[0]):
        stem = "_" + stem
    ext = f".{ext}" if ext else ""
    return _fit(stem, ext)


def _fit(stem: str, ext: str, limit: int = MAX_NAME_BYTES) -> str:
    room = limit - len(ext.encode())
    encoded = stem.encode()
    if len(encoded) > room:
        stem = encoded[:room].decode("utf-8", "ignore").rstrip(" .") or "file"
    return stem + ext


def unique_name(name: str, taken: set[str], folder: Path | None = None, *, folded: bool = False) -> str:
    """``name``, or ``name (2)``, ``name (3)`` … : one no other file of this download has and, when
    ``folder`` is given, no file there already has (case-insensitively: macOS and Windows fold case).
    ``folded=True``: ``taken`` already holds casefolded names (a caller naming many files keeps one)."""
    folded_names = taken if folded else {t.casefold() for t in taken}
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    ext = f".{ext}" if ext else ""
    candidate, n = name, 1
    while candidate.casefold() in folded_names or (folder is not None and (folder / candidate).exists()):
        n += 1
        candidate = _fit(stem, f" ({n}){ext}")
    return candidate


def inside(folder: Path, name: str, *, resolved: bool = False) -> Path:
    """``folder / name``, refusing any name that would resolve outside ``folder`` (a last guard).
    ``resolved=True``: ``folder`` is already a resolved path (a caller naming many files resolves it
    once). A plain name (one part, not ``.``/``..``) stays inside unless it is a symlink already
    there: only then is its target looked at (one ``lstat`` in the common case), and one pointing
    outside is refused. The answer is always ``folder / name`` itself, never the link's target: the
    file is renamed onto the name, which replaces a link rather than writing through it."""
    root = folder if resolved else folder.resolve()
    path = root / name
    if name in ("", ".", "..") or "\0" in name or path.parent != root or path.name != name:
        raise ValueError(f"refusing to write {name!r} outside {folder}")
    if path.is_symlink() and path.resolve().parent != root:
        raise ValueError(f"refusing to write {name!r} outside {folder}: it is a link to another folder")
    return path
