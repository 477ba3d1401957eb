"""A download's temporary files (``.<name>.<item>.<pid>-<n>.part``, beside the file): they name
their item and their process, so a later download of the item can remove the ones a killed
process left, and never one a download still running is writing."""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MIN_RATE = 256 * 1024  # bytes/s a download may not fall below on average (on top of the call deadline)
STALE_AFTER_S = 600.0  # a part nobody wrote to for this long (and past its own budget) is abandoned
_PART = re.compile(r"^\..*\.(?P<owner>[A-Za-z0-9_-]+)\.(?P<pid>\d+)-\d+\.part$")


def budget_of(item: Any, deadline_s: float) -> float:
    """How long one attempt at the item may last: the call deadline plus its size at ``MIN_RATE``."""
    size = item.file_size if isinstance(item.file_size, int) and item.file_size >= 0 else 0
    return deadline_s + size / MIN_RATE


def part_owner(storage_id: str) -> str:
    """The item's mark in its temporary files' names (an id is the server's: only plain characters)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(storage_id))[:40]


def clear_stale_parts(folder: Path, item: Any, names: Iterable[str], deadline_s: float) -> None:
    """Remove the temporary files of ``item`` among ``names`` (the folder's listing) that a killed
    download left: their process is gone, or nobody has written to them for longer than any attempt
    may last. A part of a download still running (this process's or another's) is left alone."""
    owner = part_owner(item.id)
    stale_after = max(STALE_AFTER_S, budget_of(item, deadline_s))
    for name in names:
        match = _PART.match(name)
        if match is None or match["owner"] != owner:
            continue
        path = folder / name
        try:
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and (
                not _running(int(match["pid"])) or time.time() - st.st_mtime > stale_after
            ):
                path.unlink()
        except OSError:  # gone already, or not ours to remove
            continue


def _running(pid: int) -> bool:
    if os.name == "nt" or pid == os.getpid():  # Windows: os.kill(pid, 0) would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: running
        return True
    return True
