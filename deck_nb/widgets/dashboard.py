"""The batch dashboard: a progress bar, counts by status, a table of the latest runs, and an inbox
where every pending interaction's form waits, oldest first. Finished runs keep no widgets."""

from __future__ import annotations

import html
from collections import Counter, deque

import ipywidgets as w

from .card import _COLOURS, tone
from .form import InteractionForm

RECENT_ROWS = 15


class Dashboard:
    def __init__(self, total: int, title: str = "deck_nb batch") -> None:
        self.total = total
        self.title = title
        self.counts: Counter[str] = Counter()
        self.finished = 0
        self.recent: deque[tuple[str, str, str, str]] = deque(maxlen=RECENT_ROWS)
        self.progress = w.IntProgress(
            value=0,
            min=0,
            max=max(total, 1),
            description=f"0 / {total}",
            bar_style="info",
            style={"description_width": "initial"},
        )
        self.summary = w.HTML()
        self.table = w.HTML()
        self.inbox_title = w.HTML()
        self.inbox = w.VBox([])
        self.forms: list[InteractionForm] = []  # the inbox, oldest first
        self.widget = w.VBox(
            [
                w.HTML(f"<b>{html.escape(title)}</b>"),
                self.progress,
                self.summary,
                self.inbox_title,
                self.inbox,
                self.table,
            ]
        )
        self.widget.add_class("deck-nb-dashboard")
        self.refresh()

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

    def move(self, old: str | None, new: str) -> None:
        """A job went from status ``old`` to ``new``."""
        if old is not None and self.counts[old] > 0:
            self.counts[old] -= 1
        self.counts[new] += 1
        self.refresh()

    def finish(self, label: str, resource_id: str, status: str, note: str = "") -> None:
        self.finished += 1
        self.recent.appendleft((label, resource_id, status, note))
        self.refresh()

    def refresh(self) -> None:
        self.progress.value = self.finished
        self.progress.description = f"{self.finished} / {self.total}"
        if self.finished >= self.total:
            failed = sum(n for s, n in self.counts.items() if tone(s) == "danger")
            self.progress.bar_style = "danger" if failed else "success"
        badges = " ".join(
            f"<span style='color:{_COLOURS[tone(s)]}'>{html.escape(s)}: {n}</span>"
            for s, n in sorted(self.counts.items())
            if n
        )
        self.summary.value = badges
        rows = "".join(
            f"<tr><td>{html.escape(a)}</td><td><code>{html.escape(b)}</code></td>"
            f"<td style='color:{_COLOURS[tone(c)]}'>{html.escape(c)}</td><td>{html.escape(d)}</td></tr>"
            for a, b, c, d in self.recent
        )
        self.table.value = (
            f"<table><tr><th>job</th><th>id</th><th>status</th><th></th></tr>{rows}</table>" if rows else ""
        )

    def _inbox_title(self) -> None:
        n = len(self.inbox.children)
        self.inbox_title.value = f"<b>Inbox</b>: {n} waiting for you" if n else ""

    def text(self) -> str:
        counts = ", ".join(f"{s} {n}" for s, n in sorted(self.counts.items()) if n)
        return f"{self.title}: {self.finished}/{self.total} finished ({counts})"

    def __repr__(self) -> str:
        return self.text()
