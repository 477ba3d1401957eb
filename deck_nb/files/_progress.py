"""A progress line for downloads, true for the moment it is read: in a kernel one display that is
updated in place (an HTML ``<progress>`` bar with its ``text/plain`` twin, so a saved notebook, a
terminal front end and a screen reader all read the same words); elsewhere, lines on stderr when
asked for. Updates are throttled; the last one is always shown."""

from __future__ import annotations

import html
import sys
import time
from typing import Any

UPDATE_S = 0.25


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


class Progress:
    """Counts files done, already on disk and failed out of ``total``; ``show`` is None (a kernel
    only), True (stderr outside a kernel too) or False."""

    def __init__(self, total: int, folder: str, show: bool | None = None) -> None:
        self.total, self.folder = total, folder
        self.done = self.cached = self.failed = 0
        self.bytes = 0
        self.finished = False
        self._last = 0.0
        self._handle: Any = None
        self._stderr = False
        if show is not False:
            self._handle = _display(self) if _in_kernel() else None
            self._stderr = self._handle is None and show is True

    def advance(self, *, size: int = 0, cached: bool = False, failed: bool = False) -> None:
        self.done += 1
        self.cached += cached
        self.failed += failed
        self.bytes += size
        self._refresh(force=False)

    def close(self) -> None:
        self.finished = True
        self._refresh(force=True)

    def text(self) -> str:
        verb = "Downloaded" if self.finished else "Downloading"
        fetched = self.done - self.cached - self.failed
        parts = [f"{verb} {fetched + self.cached} of {self.total} files ({_size(self.bytes)}) to {self.folder}"]
        if self.cached:
            parts.append(f"{self.cached} already on disk")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return " — ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        bar = f"<progress value='{self.done}' max='{max(self.total, 1)}' style='width:16em'></progress>"
        return f"<div class='deck-nb-progress'>{bar} <span>{html.escape(self.text())}</span></div>"

    def _refresh(self, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last < UPDATE_S:
            return
        self._last = now
        if self._handle is not None:
            self._handle.update(self)
        elif self._stderr:
            print(self.text(), file=sys.stderr, flush=True)


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _display(progress: Progress) -> Any:
    from IPython.display import display

    return display(progress, display_id=True)
