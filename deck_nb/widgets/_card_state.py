"""The text core of a job's status card, free of ipywidgets so headless code can keep one: status,
elapsed time, interactions so far, the window left to answer, and how fresh the status is. The
widget (``card.StatusCard``) and every text fallback render from it."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from datetime import datetime

from deck_nb import _clock

SUCCESS = {"connected", "completed"}
FAILURE = {"invalid", "failed", "disconnected", "canceled"}
COLOURS = {
    "success": "var(--jp-success-color1, #2e7d32)",
    "danger": "var(--jp-error-color1, #c62828)",
    "warning": "var(--jp-warn-color1, #ef6c00)",
    "info": "var(--jp-brand-color1, #1565c0)",
}
STALE_AFTER_S = 2.0  # a status not driven for longer than this says how old it is


def tone(status: str) -> str:
    """The colour family of a status: success, danger, warning (needs input) or info."""
    if status in SUCCESS:
        return "success"
    if status in FAILURE:
        return "danger"
    if status == "interaction_required":
        return "warning"
    return "info"


@dataclass
class CardState:
    """What a job's card says. ``live`` is true while something drives the job; otherwise the
    status is the one seen at ``seen`` and the card says how long ago that was."""

    title: str
    resource_id: str = ""
    status: str = "starting"
    interactions: list[str] = field(default_factory=list)
    note: str = ""
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    seen: float = field(default_factory=time.monotonic)
    live: bool = False
    expires_at: datetime | None = None  # the open interaction's answer window
    details: list[str] = field(default_factory=list)  # lines under the card: a run's files, its last screenshot
    details_html: str = ""  # the same, as HTML

    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def freshness(self) -> str:
        """ "" when the status is current (driven, or final); else "as of Ns ago"."""
        if self.live or self.ended is not None:
            return ""
        age = time.monotonic() - self.seen
        return f"as of {age:.0f}s ago" if age >= STALE_AFTER_S else ""

    def window(self) -> str:
        """The answer window's countdown while an interaction is open, e.g. "42 s left to answer"."""
        if self.expires_at is None or self.status != "interaction_required" or self.ended is not None:
            return ""
        left = (self.expires_at - _clock.now()).total_seconds()  # recorded time in a replay
        return f"{max(0, int(left))} s left to answer"

    def text(self) -> str:
        """One line, like a progress meter: title, id, status, elapsed, what was asked, notes."""
        extras = [x for x in (self.window(), self.freshness()) if x]
        extra = f" ({', '.join(extras)})" if extras else ""
        asked = f", asked: {', '.join(self.interactions)}" if self.interactions else ""
        note = f" — {self.note}" if self.note else ""
        ident = f" {self.resource_id}" if self.resource_id else ""
        return f"{self.title}{ident} · {self.status}{extra} · {self.elapsed():.1f}s{asked}{note}"

    def full_text(self) -> str:
        """The card's line and the lines under it (a finished card's ``text/plain``)."""
        return "\n".join([self.text(), *self.details])

    def html(self) -> str:
        colour = COLOURS[tone(self.status)]
        muted = "color:var(--jp-ui-font-color2,#666)"
        asked = (
            f"<div style='font-size:0.9em'>asked: {html.escape(', '.join(self.interactions))}</div>"
            if self.interactions
            else ""
        )
        note = f"<div style='font-size:0.9em'>{html.escape(self.note)}</div>" if self.note else ""
        extras = " · ".join(x for x in (self.window(), self.freshness()) if x)
        extra = f" <span style='{muted}'>· {html.escape(extras)}</span>" if extras else ""
        return (
            f"<div class='deck-nb-card' style='border-left:4px solid {colour};padding:2px 8px;margin:2px 0'>"
            f"<b>{html.escape(self.title)}</b> <code>{html.escape(self.resource_id)}</code> "
            f"<span style='color:{colour};font-weight:bold'>{html.escape(self.status)}</span> "
            f"<span style='{muted}'>{self.elapsed():.1f}s</span>{extra}{asked}{note}{self.details_html}</div>"
        )
