"""Whether a person can answer a form in this kernel, and how the job must wait for it.

A kernel cannot see its front end; it can only watch what reaches it. Three signals, measured (see
docs/headless.md):

- the cell's ``execute_request`` says ``allow_stdin: false``: papermill, nbconvert, nbclient and
  nbval always send that; JupyterLab, Notebook 7, VS Code and Colab send ``true``;
- a front end drew one of our forms: its page sends ``{"event": "ready"}`` when it renders (an
  ipywidgets 8 front end's ``jupyter.widget.control`` comm counts too, but JupyterLab and Notebook 7
  open it when they connect, before ipywidgets is imported, so a fresh kernel refuses it: measured);
- whether that ready message reached the kernel *while the cell that showed the form was still
  running* (ipykernel ≥ 7.4 dispatches comm messages while a cell awaits) or only after it ended
  (older kernels, Colab, JupyterLite, marimo): then a cell that awaits its own form deadlocks.

``waiting_mode()`` turns them into the job's way of waiting: ``"await"`` (the cell waits for the
answer), ``"return"`` (the cell returns with the live form; the form's own handler answers and a
background task carries on) or ``"fail"`` (nobody can draw the form: ``NoAnswer`` at once).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from typing import Any, Literal

from ._prompt import in_kernel

Mode = Literal["await", "return", "fail"]
READY_WAIT_S = 3.0  # a front end that draws forms sends "ready" within ~0.2 s of the display (measured)
MIN_CONCURRENT_IPYKERNEL = (7, 4)  # the first ipykernel that hands comm messages to an awaiting cell
CELL_END_CHECK_S = 0.1  # how often a form whose page has not spoken checks whether its cell has ended
OVERRIDE = "DECK_NB_WAITING"  # "await" / "return" / "fail": the person knows better than the probe


class _Kernel:
    """What this kernel has seen of its front end (one per process: one kernel per process)."""

    def __init__(self) -> None:
        self.cell = 0  # counts cells run since we started watching
        self.running = True  # we are first imported from a cell
        self.hooked = False
        self.pages_seen = 0  # ready (or submit) messages from a form's page
        self.during_cell = 0  # of those, how many arrived while the cell that showed the form ran
        self.after_cell = 0  # ... and how many only after that cell had ended while it awaited
        self.probe: Mode | None = None  # what the ready messages proved
        self.unheard = 0  # forms whose page did not speak while their cell awaited: maybe it speaks after

    def hook(self) -> None:
        if self.hooked:
            return
        ip = _ipython()
        if ip is None:
            return
        ip.events.register("pre_run_cell", self._pre)
        ip.events.register("post_run_cell", self._post)
        self.hooked = True

    def _pre(self, *_: Any) -> None:
        self.cell += 1
        self.running = True

    def _post(self, *_: Any) -> None:
        self.running = False


KERNEL = _Kernel()


def _ipython() -> Any:
    if not in_kernel():
        return None
    from IPython import get_ipython

    return get_ipython()


def allow_stdin() -> bool | None:
    """What the client that sent the current cell said about stdin (None: unknown)."""
    ip = _ipython()
    kernel = getattr(ip, "kernel", None)
    value = getattr(kernel, "_allow_stdin", None)
    return value if isinstance(value, bool) else None


def control_comm_open() -> bool:
    """Whether an ipywidgets front end opened its ``jupyter.widget.control`` comm to this kernel."""
    widgets = sys.modules.get("ipywidgets.widgets.widget")
    return getattr(getattr(widgets, "Widget", None), "_control_comm", None) is not None


def frontend_seen() -> bool:
    """Whether a front end that draws widgets ever spoke to this kernel."""
    return KERNEL.pages_seen > 0 or control_comm_open()


def kernel_delivers_while_awaiting() -> bool:
    """Whether this ipykernel can dispatch a comm message while a cell awaits (≥ 7.4)."""
    try:
        import ipykernel
    except ImportError:
        return False
    version = tuple(int(p) for p in re.findall(r"\d+", ipykernel.__version__)[:2])
    return version >= MIN_CONCURRENT_IPYKERNEL


def late_frontend_hint() -> str | None:
    """A front end known to hold messages until the cell ends (a hint; the probe decides later)."""
    if "google.colab" in sys.modules:
        return "Colab"
    if sys.platform == "emscripten":
        return "JupyterLite"
    if "marimo" in sys.modules:
        return "marimo"
    if in_kernel() and not kernel_delivers_while_awaiting():
        import ipykernel

        return f"ipykernel {ipykernel.__version__}"
    return None


def waiting_mode() -> Mode:
    """How a job that needs a person waits here: ``"await"``, ``"return"`` or ``"fail"`` (see the
    module docstring). Outside a kernel it is always ``"await"`` (scripts block or use the console)."""
    forced = os.environ.get(OVERRIDE, "").strip().lower()
    if forced in ("await", "return", "fail"):
        return forced  # type: ignore[return-value]
    if not in_kernel():
        return "await"
    KERNEL.hook()
    if KERNEL.probe is not None:
        return KERNEL.probe
    if KERNEL.unheard:
        return "return"  # a page that speaks only once the cell ends cannot while it waits: let it end
    if allow_stdin() is False and not frontend_seen():
        return "fail"  # papermill, nbconvert, nbclient, nbval: no person is there
    if late_frontend_hint() is not None:
        return "return"
    return "await"


def waiting_note(mode: Mode | None = None) -> str:
    """The one line a card shows about how this job waits (empty for the usual case)."""
    mode = mode or waiting_mode()
    if mode == "return":
        where = late_frontend_hint() or "this front end"
        return f"{where} hands a form's answer over only once a cell ends: answer the form, then run the next cell"
    if mode == "fail":
        return "no front end can draw a form here (run headless)"
    return ""


def headless_reason(*, waited: bool = False) -> str:
    """Why nobody can answer here, for the NoAnswer message: the client said so, or no page spoke."""
    if waited:
        return (
            f"no front end drew its form within {READY_WAIT_S:g} s, while its cell waited, nor once the "
            "cell ended (a front end that hands messages over only once a cell ends speaks then)"
        )
    return "this kernel runs headless (papermill, nbconvert, nbclient or nbval: nothing draws a form)"


# -- the probe: a form's page says it is drawn ---------------------------------------------------


class PageWatch:
    """Watches one displayed form's page messages: ready (drawn) or submit (answered)."""

    def __init__(self, widget: Any) -> None:
        KERNEL.hook()
        self.shown_in_cell = KERNEL.cell if KERNEL.running else None
        self.awaited = False  # the cell that showed the form awaits its answer
        self.heard = asyncio.Event() if _loop() else None
        self.arrived = False
        widget.on_msg(self._on_message)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("event") not in ("ready", "submit"):
            return
        first = not self.arrived
        self.arrived = True
        KERNEL.pages_seen += 1
        if first and self.shown_in_cell is not None:
            if KERNEL.running and KERNEL.cell == self.shown_in_cell:
                KERNEL.during_cell += 1
                KERNEL.probe = "await"  # a message reached us while the cell awaited: awaiting works
            elif self.awaited and KERNEL.during_cell == 0:
                KERNEL.after_cell += 1
                KERNEL.probe = "return"  # it waited for the cell to end: never await in the cell
        if self.heard is not None:
            self.heard.set()

    async def drawn(self, timeout: float = READY_WAIT_S) -> bool:
        """Whether the page said it was drawn within ``timeout`` seconds (while this cell awaits)."""
        self.awaited = True
        if self.arrived or self.heard is None:
            return self.arrived
        try:
            await asyncio.wait_for(self.heard.wait(), timeout)
        except TimeoutError:
            return self.arrived
        return True

    async def drawn_after_cell(self, timeout: float = READY_WAIT_S) -> bool:
        """Whether the page speaks once the cell that showed the form ends, for a page that did not while
        the cell awaited: a front end that hands messages over only after a cell cannot. Meanwhile
        ``waiting_mode()`` says "return", so the cell ends; then the page has ``timeout`` seconds more."""
        if self.arrived or self.heard is None or self.shown_in_cell is None:
            return self.arrived
        KERNEL.unheard += 1
        try:
            while KERNEL.running and KERNEL.cell == self.shown_in_cell and not self.arrived:
                await asyncio.sleep(CELL_END_CHECK_S)  # bounded by the cell, which now returns, and the job
            return await self.drawn(timeout)
        finally:
            KERNEL.unheard -= 1


def _loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def reset() -> None:
    """Forget what was seen (tests; a new kernel starts with a fresh process anyway)."""
    global KERNEL
    hooked = KERNEL.hooked
    ip = _ipython()
    if hooked and ip is not None:
        ip.events.unregister("pre_run_cell", KERNEL._pre)
        ip.events.unregister("post_run_cell", KERNEL._post)
    KERNEL = _Kernel()
