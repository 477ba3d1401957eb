"""The storage knobs (not part of Deck): set by ``POST /_sim/storage``, ``simulator.start()`` or the CLI.

Two kinds: settings that hold until changed (``url_ttl``, ``encryption``) and tricks armed for the
next run that stores files (``fail_extraction``, ``large_file``, ``file_names``, ``truncate_file``,
``oversize_file``), taken by that run when it completes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

DEFAULT_URL_TTL_S = 300.0
DEFAULT_LARGE_SIZE = 50 * 1024 * 1024
MAX_LARGE_SIZE = 2 * 1024**3
NEXT_RUN = ("fail_extraction", "large_file", "truncate_file", "oversize_file")


def _file_numbers(name: str, value: Any) -> set[int] | str:
    """``2``, ``[1, 3]`` or ``"all"``: file numbers of the next run (1-based)."""
    if value == "all":
        return "all"
    values = [value] if isinstance(value, int) else value
    if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f'`{name}` must be a file number (1-based), a list of them, or "all".')
    if any(v < 1 for v in values):
        raise ValueError(f"`{name}` counts files from 1.")
    return set(values)


@dataclass
class NextRun:
    """Tricks for the next run that stores files."""

    fail_extraction: set[int] | str = field(default_factory=set)
    large_file: set[int] | str = field(default_factory=set)
    truncate_file: set[int] | str = field(default_factory=set)
    oversize_file: set[int] | str = field(default_factory=set)
    file_names: dict[int, str] = field(default_factory=dict)

    def armed(self) -> bool:
        return any(getattr(self, n) for n in (*NEXT_RUN, "file_names"))

    def hits(self, name: str, number: int) -> bool:
        chosen = getattr(self, name)
        return chosen == "all" or number in chosen

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in NEXT_RUN:
            chosen = getattr(self, name)
            out[name] = chosen if chosen == "all" else sorted(chosen)
        out["file_names"] = {str(k): v for k, v in sorted(self.file_names.items())}
        return out


@dataclass
class StorageSettings:
    url_ttl: float = DEFAULT_URL_TTL_S
    encryption: bool = False
    large_size: int = DEFAULT_LARGE_SIZE
    next_run: NextRun = field(default_factory=NextRun)

    def copy(self) -> StorageSettings:
        return copy.deepcopy(self)

    def update(self, body: dict[str, Any]) -> None:
        """Apply a ``POST /_sim/storage`` body; a bad value raises ``ValueError`` and changes nothing."""
        known = {"url_ttl", "encryption", "large_size", "file_names", *NEXT_RUN}
        unknown = sorted(set(body) - known)
        if unknown:
            raise ValueError(f"Unknown storage knob `{unknown[0]}`; known: {', '.join(sorted(known))}.")
        staged = self.copy()
        if "url_ttl" in body:
            ttl = body["url_ttl"]
            if not isinstance(ttl, (int, float)) or isinstance(ttl, bool) or not ttl > 0:
                raise ValueError("`url_ttl` must be a number of seconds greater than 0.")
            staged.url_ttl = float(ttl)
        if "encryption" in body:
            if not isinstance(body["encryption"], bool):
                raise ValueError("`encryption` must be true or false.")
            staged.encryption = body["encryption"]
        if "large_size" in body:
            size = body["large_size"]
            if not isinstance(size, int) or isinstance(size, bool) or not 1024 <= size <= MAX_LARGE_SIZE:
                raise ValueError(f"`large_size` must be a number of bytes from 1024 to {MAX_LARGE_SIZE}.")
            staged.large_size = size
        for name in NEXT_RUN:
            if name in body:
                setattr(staged.next_run, name, _file_numbers(name, body[name]))
        if "file_names" in body:
            names = body["file_names"]
            if not isinstance(names, dict) or not all(isinstance(v, str) and v for v in names.values()):
                raise ValueError('`file_names` must map file numbers to names, e.g. {"1": "../x.pdf"}.')
            try:
                staged.next_run.file_names = {int(k): v for k, v in names.items()}
            except ValueError:
                raise ValueError("`file_names` keys must be file numbers (1-based).") from None
        self.__dict__.update(staged.__dict__)

    def take_next_run(self) -> NextRun:
        taken, self.next_run = self.next_run, NextRun()
        return taken

    def describe(self) -> dict[str, Any]:
        return {
            "url_ttl": self.url_ttl,
            "encryption": self.encryption,
            "large_size": self.large_size,
            "next_run": self.next_run.describe(),
        }
