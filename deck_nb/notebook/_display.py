"""Where a job's card appears in a notebook: once, live, under the cell that made or awaited it. A
job shown as a cell's result (``run`` or ``await run`` as the last line, ``run.cancel()``) is that
same live card, with its Cancel button — nothing more when the card is already under this cell,
and moved here (its old place emptied) from an earlier cell — never a second, static copy."""

from __future__ import annotations

import html
from typing import Any

from ._prompt import in_kernel


def _cell() -> int | None:
    """The number of the cell running now (None outside IPython)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    ip = get_ipython()
    return getattr(ip, "execution_count", None) if ip is not None else None


def show(job: Any) -> None:
    """Display the job's live card under the cell (in a kernel, once)."""
    if job._view is None and in_kernel():
        from .view import JobView

        job._view = JobView(job.card, on_cancel=getattr(job, "cancel", None))
        job._view.display()
        job._shown_in = _cell()


def as_result(job: Any) -> None:
    """IPython's display of a job (``_ipython_display_``)."""
    from IPython.display import display

    if not in_kernel():
        plain = "\n".join([repr(job), *job.card.details])  # a run's files or last screenshot, under it
        display({"text/plain": plain, "text/html": static_html(job)}, raw=True)
        return
    if job._view is None:
        show(job)
        return
    cell = _cell()
    if job._shown_in == cell:
        job._view.refresh(done=job.done, final=True)  # the saved text line says what the card says now
        return  # the live card is right above, in this cell
    old = job._view._handle
    job._view.display()
    job._shown_in = cell
    if old is not None:
        old.update({"text/plain": ""}, raw=True)  # the card moved to the newer cell


def static_html(job: Any) -> str:
    """The card and what was asked, as HTML (a job outside a kernel, ``_repr_html_``)."""
    rows = "".join(
        f"<tr><td>{html.escape(r.type)}</td><td>{html.escape(r.message or '')}</td>"
        f"<td>{html.escape(', '.join(r.field_names))}</td><td>{html.escape(r.outcome)}</td></tr>"
        for r in job.interactions
    )
    table = (
        "<table><tr><th>interaction</th><th>message</th><th>fields</th><th>outcome</th></tr>" + rows + "</table>"
        if rows
        else ""
    )
    errors = "".join(f"<div>{html.escape(str(e))}</div>" for e in job.errors)
    return job.card.html() + table + errors
