"""Starting and ending a recording or a replay: ``record(...)``, ``replay(...)``, ``open_replay``.

A recording or a process-wide replay is active at deck_nb's transport seam (``deck_nb._wire``), so
it covers every client, even one made before it started. A replay also makes the process's clock
virtual (``deck_nb._clock``) until it ends.
"""

from __future__ import annotations

import logging
import os
from contextlib import ContextDecorator
from pathlib import Path
from typing import Any

from deck_nb import _clock, _wire

from ._clock import VirtualClock
from ._recorder import Recorder
from ._replayer import Replayer


class record(ContextDecorator):
    """Record every Deck request and response inside the block into ``path`` (JSON lines, redacted).

    ``overwrite=True`` records over an existing file; ``files="full"`` keeps downloaded bytes (the
    default keeps their size and sha256); ``redact=`` adds your own secret values (account numbers,
    names), ``redact_fields=`` field names whose values are secret. Saved when the block ends (also
    on ``async with``); a save that would leave a known secret on disk raises ``RecordingError``.

    Under a replay (``DECK_NB_REPLAY``, ``pytest --deck-replay``) it records nothing and leaves the
    file alone, so the notebook that recorded itself replays unchanged."""

    def __init__(
        self, path: str | Path, *, overwrite: bool = False, files: str = "digest", redact=(), redact_fields=()
    ) -> None:
        self.replaying = _replaying()
        self.recorder = (
            None
            if self.replaying
            else Recorder(path, overwrite=overwrite, files=files, redact=redact, redact_fields=redact_fields)
        )
        self.path = Path(path) if self.recorder is None else self.recorder.path

    def start(self) -> record:
        if self.recorder is None:
            log.info("deck_nb: replaying, so dn.record(%s) records nothing", self.path.name)
            return self
        if _clock.current().virtual:  # a recording talks to a live server: real time only (a replay's
            _clock.use(None)  # client left open, e.g. an unclosed twin, must not speed up its waits)
        _wire.activate(self.recorder)
        return self

    def stop(self) -> Path:
        if self.recorder is None:
            return self.path
        _wire.deactivate(self.recorder)
        return self.recorder.save()

    def save(self) -> Path:
        """Write what is recorded so far (the recording goes on)."""
        return self.path if self.recorder is None else self.recorder.save()

    def __enter__(self) -> record:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> record:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    @property
    def exchanges(self) -> int:
        return 0 if self.recorder is None else len(self.recorder.entries)


def _replaying() -> bool:
    """A process-wide replay is on, or will be at the first client (``DECK_NB_REPLAY``)."""
    return bool(os.environ.get("DECK_NB_REPLAY", "").strip()) or any(
        getattr(handler, "replays", False) for handler in _wire.active()
    )


log = logging.getLogger("deck_nb.recording")


def open_replay(path: str | Path) -> Replayer:
    """A replayer for one client (``Deck(replay=path)``): while a client uses it, the process's clock
    is virtual; closing the last such client gives the real clock back."""
    return _ClientReplayer(path)


class _ClientReplayer(Replayer):
    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self._users = 0
        self._previous: Any = None

    def acquire(self) -> None:
        with self.lock:
            self._users += 1
            if self._users == 1:
                self._previous = _use_virtual_clock(self)

    def end(self) -> None:
        """The client that opened this replay was closed: real time again, whatever twins remain."""
        with self.lock:
            self._users = 0
            if self._previous is not None:
                _clock.use(self._previous)
                self._previous = None

    def release(self) -> None:
        with self.lock:
            self._users = max(0, self._users - 1)
            if self._users == 0 and self._previous is not None:
                _clock.use(self._previous)
                self._previous = None


class replay(ContextDecorator):
    """Every client answers from ``path`` inside the block: no network, virtual time."""

    def __init__(self, path: str | Path) -> None:
        self.replayer = Replayer(path)
        self._previous: Any = None

    def start(self) -> replay:
        _wire.activate(self.replayer)
        self._previous = _use_virtual_clock(self.replayer)
        return self

    def stop(self) -> None:
        _wire.deactivate(self.replayer)
        _clock.use(self._previous)

    def __enter__(self) -> replay:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _use_virtual_clock(replayer: Replayer) -> Any:
    """Returns the clock to restore later (the current one, if it is virtual already)."""
    current = _clock.current()
    if current.virtual:
        return current
    _clock.use(VirtualClock(replayer.started_at))
    return current
