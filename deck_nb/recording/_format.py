"""The recording file: JSON lines, one exchange a line, between a versioned header and an end line.

Read with ``json`` only (nothing is executed), checked line by line: a truncated file, a hand edit
that broke a line, another format version or another API's traffic is a ``RecordingError`` naming
the line. Diffable in a pull request: keys keep one order and each exchange is one line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FORMAT = "deck_nb recording"
VERSION = 1
END = "end"
SIGNED_PREFIX = "/signed-url/"  # the path of a signed-URL placeholder (see _redact.py)


class RecordingError(ValueError):
    """A recording that cannot be read or written; the message names the file and the line."""


def dumps(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def write(path: Path, header: dict[str, Any], entries: list[dict[str, Any]]) -> str:
    """Write atomically (a crash leaves the old file or none, never half a recording); returns the text."""
    lines = [dumps(header), *(dumps(e) for e in entries), dumps({END: len(entries)})]
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return text


def _fail(path: Path, line: int, problem: str) -> RecordingError:
    return RecordingError(f"{path}, line {line}: {problem}")


def load(path: str | os.PathLike) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the exchanges of a recording, checked; ``RecordingError`` names what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such recording (record it first: docs/ci.md)") from None
    except IsADirectoryError:
        raise RecordingError(f"{path}: a folder, not a recording file (a .deckrec file)") from None
    except UnicodeDecodeError as exc:
        raise RecordingError(f"{path}: not a text file ({exc.reason})") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    raw = text.split("\n")
    if not text.endswith("\n"):
        raise _fail(path, len(raw), "the line is cut short: the recording is truncated")
    raw.pop()
    if not raw:
        raise _fail(path, 1, "the file is empty")
    objects = []
    for number, line in enumerate(raw, 1):
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise _fail(path, number, f"not valid JSON ({exc.msg}): truncated or edited by hand?") from None
        if not isinstance(obj, dict):
            raise _fail(path, number, "each line must be a JSON object")
        objects.append(obj)
    header = objects[0]
    if header.get("format") != FORMAT:
        raise _fail(path, 1, f'not a deck_nb recording (its first line has no "format": "{FORMAT}")')
    if header.get("version") != VERSION:
        raise _fail(
            path,
            1,
            f"format version {header.get('version')!r}, but this deck_nb reads version {VERSION}: re-record it",
        )
    end = objects[-1]
    if len(objects) < 2 or set(end) != {END}:
        raise _fail(path, len(objects), "no end line: the recording is truncated (or was not saved)")
    entries = objects[1:-1]
    if end[END] != len(entries):
        raise _fail(path, len(objects), f"the end line counts {end[END]} exchanges but {len(entries)} are here")
    for number, entry in enumerate(entries, 2):
        _check_entry(path, number, entry, number - 2, header.get("base_path", "/v2"))
    return header, entries


def _check_entry(path: Path, line: int, entry: dict[str, Any], index: int, base_path: str) -> None:
    if entry.get("n") != index:
        raise _fail(path, line, f"exchange number {entry.get('n')!r}, expected {index} (lines moved or removed?)")
    for key, kind in (("method", str), ("path", str), ("query", str), ("resource", str), ("epoch", int)):
        if not isinstance(entry.get(key), kind):
            raise _fail(path, line, f"field {key!r} is missing or not a {kind.__name__}")
    target = entry["path"]
    if not (target.startswith(base_path + "/") or target == base_path or target.startswith(SIGNED_PREFIX)):
        raise _fail(
            path,
            line,
            f"{entry['method']} {target} is not a Deck API path (under {base_path}): a recording of another API?",
        )
    if "error" in entry:
        if not isinstance(entry["error"], str):
            raise _fail(path, line, "field 'error' must be the name of the transport error")
        return
    response = entry.get("response")
    if not isinstance(response, dict) or not isinstance(response.get("status"), int):
        raise _fail(path, line, "no response with a numeric status")
    if not isinstance(response.get("headers", {}), dict):
        raise _fail(path, line, "response headers must be an object")
    kinds = [k for k in ("json", "text", "base64", "file") if k in response]
    if len(kinds) > 1:
        raise _fail(path, line, f"the response has more than one body ({', '.join(kinds)})")
    if "file" in response:
        file = response["file"]
        if not (isinstance(file, dict) and isinstance(file.get("size"), int) and isinstance(file.get("sha256"), str)):
            raise _fail(path, line, "a file body needs 'size' (bytes) and 'sha256'")
