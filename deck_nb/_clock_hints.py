"""Which simulators in this process run on a manual clock, so a wait that ran out on one says why
(nothing moves there until someone advances the clock). The ``deck_simulator`` fixture registers
its servers; the job shells read it. Imports nothing: every layer may use it."""

from __future__ import annotations

import threading

MANUAL_CLOCK_HINT = 'the simulator\'s clock is manual: call `deck_simulator.advance()` or use `clock="real"`'

_manual: set[str] = set()
_lock = threading.Lock()


def _key(base_url: str) -> str:
    return str(base_url).rstrip("/")


def mark_manual(base_url: str) -> None:
    with _lock:
        _manual.add(_key(base_url))


def unmark(base_url: str) -> None:
    with _lock:
        _manual.discard(_key(base_url))


def hint_for(base_url: object) -> str:
    """The hint when ``base_url`` is a simulator on a manual clock, else ""."""
    with _lock:
        return MANUAL_CLOCK_HINT if base_url is not None and _key(str(base_url)) in _manual else ""
