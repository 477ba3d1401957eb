"""Which cell a display update belongs to. ipykernel tags every message with the request of the cell
whose context sent it; a job that runs on after its cell ended (a background task) would tag its
card's updates with that finished cell, and a front end that listens only to the running cell
(nbclient, nbconvert --execute, papermill) drops them: the saved card would stay at "starting".
Sending such updates under the latest cell's request lets them land (found by their display id)."""

from __future__ import annotations

import contextlib
from typing import Any

_LATEST: dict[str, Any] = {}


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def follow_cells() -> None:
    """Remember each cell's request as it starts (once per kernel; no-op outside ipykernel)."""
    shell = _shell()
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not hasattr(kernel, "get_parent"):
        return
    if _LATEST.get("shell") is not shell:

        def started(_info: Any = None) -> None:
            _LATEST["parent"] = kernel.get_parent("shell")

        shell.events.register("pre_run_cell", started)
        _LATEST["shell"] = shell
        started()  # the cell showing the first card


@contextlib.contextmanager
def under_the_running_cell():
    """Publish within this block under the latest cell's request (when it is not this context's)."""
    shell = _shell()
    publisher = getattr(shell, "display_pub", None)
    parent = _LATEST.get("parent") if _LATEST.get("shell") is shell else None
    if not parent or not hasattr(publisher, "set_thread_parent"):
        yield
        return
    token = publisher.set_thread_parent(parent)
    try:
        yield
    finally:
        publisher.reset_thread_parent(token)
