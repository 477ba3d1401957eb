"""``DECK_NB_RECORD=path`` / ``DECK_NB_REPLAY=path``: a recording or a replay for a whole kernel or
script, started by the first client deck_nb makes. A recording is saved after every notebook cell
(in IPython) and at exit; ``DECK_NB_RECORD_OVERWRITE=1`` records over an existing file and
``DECK_NB_RECORD_FILES=full`` keeps downloaded files' bytes (``dn.record(files="full")``)."""

from __future__ import annotations

import atexit
import os
import sys
import threading

from ._session import record, replay

_started: dict[str, object] = {}
_lock = threading.Lock()


def start_from_environment() -> None:
    with _lock:
        replay_path = os.environ.get("DECK_NB_REPLAY")
        if replay_path and "replay" not in _started:
            _started["replay"] = replay(replay_path).start()
        record_path = os.environ.get("DECK_NB_RECORD")
        if record_path and not replay_path and "record" not in _started:
            overwrite = os.environ.get("DECK_NB_RECORD_OVERWRITE", "") not in ("", "0")
            files = os.environ.get("DECK_NB_RECORD_FILES") or "digest"
            session = _started["record"] = record(record_path, overwrite=overwrite, files=files).start()
            atexit.register(_save_quietly, session)
            _save_after_cells(session)


def _save_quietly(session: record) -> None:
    try:
        session.save()
    except Exception as exc:  # at exit nobody can catch it: say why nothing (or an old file) is there
        print(f"deck_nb: the recording was not saved: {exc}", file=sys.stderr)


def _save_after_cells(session: record) -> None:
    shell = _ipython()
    if shell is not None:
        shell.events.register("post_run_cell", lambda *_: _save_quietly(session))


def _ipython():
    module = sys.modules.get("IPython")
    if module is None:
        return None
    try:
        return module.get_ipython()
    except Exception:
        return None
