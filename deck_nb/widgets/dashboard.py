"""The batch dashboard: a bar with the share that succeeded and the share that failed, live counts by
kind (credentials or connections, runs) and status, a table of the latest items, and an inbox where every pending
interaction's form waits, oldest first. Finished items keep no widgets.

Displayed, it carries a one-line ``text/plain`` twin (done/total, ok, failed, elapsed, like tqdm's
meter), so a notebook opened untrusted, on GitHub or in a terminal shows that line, not a widget repr."""

from __future__ import annotations

import html
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

import ipywidgets as w

from .card import _COLOURS, tone
from .form import InteractionForm

RECENT_ROWS = 15
KINDS = {"credential": "credentials", "connection": "connections", "task_run": "runs", "run": "runs"}


@dataclass(frozen=True)
class Row:
    """One finished item as the table shows it: never a password, code or answer."""

    source: str  # the source id
    who: str  # the username or external id (or the connection id a run used)
    task: str  # the task id; "" for a connection alone
    status: str
    seconds: float
    ok: bool
    error_code: str = ""  # on failure: Deck's error code, or the error's class


def duration(seconds: float) -> str:
    """A duration rounded for people: 0.4s, 12s, 2m 05s, 1h 02m."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


class Dashboard:
    def __init__(self, total: int, title: str = "deck_nb batch") -> None:
        self.total = total
        self.title = title
        # by what the items are: credentials on Deck's current API, connections on the seed's
        self.counts: dict[str, Counter[str]] = {"credentials": Counter(), "connections": Counter(), "runs": Counter()}
        self.ok = 0
        self.failed = 0
        self.started = time.monotonic()
        self.ended: float | None = None
        self.recent: deque[Row] = deque(maxlen=RECENT_ROWS)
        self.bar = w.HTML()
        self.summary = w.HTML()
        self.table = w.HTML()
        self.inbox_title = w.HTML()
        self.inbox = w.VBox([])
        self.forms: list[InteractionForm] = []  # the inbox, oldest first
        self.widget = w.VBox(
            [
                w.HTML(f"<b>{html.escape(title)}</b>"),
                self.bar,
                self.summary,
                self.inbox_title,
                self.inbox,
                self.table,
            ]
        )
        self.widget.add_class("deck-nb-dashboard")
        self._display: Any = None
        self.refresh()

    @property
    def finished(self) -> int:
        return self.ok + self.failed

    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    # -- what the batch calls ----------------------------------------------------------------

    def add_form(self, form: InteractionForm) -> None:
        """Queue a form in the inbox (oldest first)."""
        self.forms.append(form)
        self.inbox.children = (*self.inbox.children, form.widget)
        self._inbox_title()

    def remove_form(self, form: InteractionForm) -> None:
        if form in self.forms:
            self.forms.remove(form)
        self.inbox.children = tuple(c for c in self.inbox.children if c is not form.widget)
        self._inbox_title()

    def move(self, kind: str, old: str | None, new: str) -> None:
        """A job of ``kind`` (connection or task_run) went from status ``old`` to ``new``."""
        counts = self.counts.setdefault(KINDS.get(kind, kind), Counter())
        if old is not None and counts[old] > 0:
            counts[old] -= 1
        counts[new] += 1
        self.refresh()

    def finish(
        self,
        *,
        source: str,
        who: str,
        task: str,
        status: str,
        seconds: float,
        ok: bool,
        error_code: str = "",
    ) -> None:
        """An item ended (well or not)."""
        row = Row(source, who, task, status, seconds, ok, error_code)
        if row.ok:
            self.ok += 1
        else:
            self.failed += 1
        if self.finished >= self.total:
            self.ended = time.monotonic()
        self.recent.appendleft(row)
        self.refresh()

    # -- showing -----------------------------------------------------------------------------

    def show(self) -> None:
        """Display the dashboard (with its text line) in the current output; ``update_display()``
        refreshes that line for the saved notebook."""
        from IPython.display import display

        self._display = display(self, display_id=True)

    def update_display(self) -> None:
        """Refresh the displayed output's twins. Once every item has finished, the output becomes the
        final dashboard as static HTML and text, and the widgets are closed: a saved or exported
        notebook shows how the batch ended, not a widget placeholder."""
        if self._display is None:
            return
        if self.ended is None or self.forms:
            self._display.update(self)
            return
        self._display.update({"text/html": self.html(), "text/plain": self.text()}, raw=True)
        for widget in (*self.widget.children, self.widget):
            widget.close()

    def html(self) -> str:
        """The dashboard as static HTML: title, bar, counts, inbox line and the latest rows."""
        parts = (f"<b>{html.escape(self.title)}</b>", self.bar.value, self.summary.value, self.inbox_title.value)
        return (
            "<div class='deck-nb-dashboard'>"
            + "".join(f"<div>{p}</div>" for p in parts if p)
            + self.table.value
            + "</div>"
        )

    def refresh(self) -> None:
        self.bar.value = self._bar_html()
        groups = []
        for kind, counts in self.counts.items():
            badges = " · ".join(
                f"<span style='color:{_COLOURS[tone(s)]}'>{html.escape(s)} {n}</span>"
                for s, n in sorted(counts.items())
                if n
            )
            if badges:
                groups.append(f"<b>{kind}</b>: {badges}")
        self.summary.value = "<br>".join(groups)
        self.table.value = self._table_html()

    def _bar_html(self) -> str:
        total = max(self.total, 1)
        ok, failed = 100 * self.ok / total, 100 * self.failed / total
        label = f"{self.finished} / {self.total} · {self.ok} ok · {self.failed} failed · {duration(self.elapsed())}"
        return (
            "<div class='deck-nb-bar' style='display:flex;height:14px;max-width:480px;border-radius:3px;"
            f"overflow:hidden;background:var(--jp-layout-color3, #e0e0e0)' title='{html.escape(label)}'>"
            f"<div class='deck-nb-ok' style='width:{ok:.1f}%;background:{_COLOURS['success']}'></div>"
            f"<div class='deck-nb-failed' style='width:{failed:.1f}%;background:{_COLOURS['danger']}'></div>"
            f"</div><div style='font-size:0.9em'>{html.escape(label)}</div>"
        )

    def _table_html(self) -> str:
        if not self.recent:
            return ""
        head = "".join(f"<th>{h}</th>" for h in ("source", "user / external id", "task", "status", "took", "error"))
        rows = "".join(
            f"<tr><td>{html.escape(r.source)}</td><td>{html.escape(r.who)}</td><td>{html.escape(r.task)}</td>"
            f"<td style='color:{_COLOURS['success' if r.ok else 'danger']}'>"
            f"{html.escape(r.status)}</td><td>{duration(r.seconds)}</td>"
            f"<td><code>{html.escape(r.error_code)}</code></td></tr>"
            for r in self.recent
        )
        return f"<table class='deck-nb-rows'><tr>{head}</tr>{rows}</table>"

    def _inbox_title(self) -> None:
        n = len(self.inbox.children)
        self.inbox_title.value = f"<b>Inbox</b>: {n} waiting for you" if n else ""

    def text(self) -> str:
        """One line, like tqdm's meter: what a front end without widgets shows."""
        waiting = f" · {len(self.forms)} waiting for you" if self.forms else ""
        return (
            f"{self.title}: {self.finished}/{self.total} done · {self.ok} ok · {self.failed} failed"
            f" · {duration(self.elapsed())}{waiting}"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = self.text()
        bundle["text/html"] = self.html()
        return bundle

    def __repr__(self) -> str:
        return self.text()
