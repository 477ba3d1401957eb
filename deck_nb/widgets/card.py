"""The live status card of a job: status, elapsed time, interactions so far; it ends in a visible
success or error state and has a text twin for front ends without widgets."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field

import ipywidgets as w

SUCCESS = {"connected", "completed"}
FAILURE = {"invalid", "failed", "disconnected", "canceled"}
_COLOURS = {
    "success": "var(--jp-success-color1, #2e7d32)",
    "danger": "var(--jp-error-color1, #c62828)",
    "warning": "var(--jp-warn-color1, #ef6c00)",
    "info": "var(--jp-brand-color1, #1565c0)",
}


def tone(status: str) -> str:
    if status in SUCCESS:
        return "success"
    if status in FAILURE:
        return "danger"
    if status == "interaction_required":
        return "warning"
    return "info"


@dataclass
class CardState:
    title: str
    resource_id: str = ""
    status: str = "starting"
    interactions: list[str] = field(default_factory=list)
    note: str = ""
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def text(self) -> str:
        asked = f", asked: {', '.join(self.interactions)}" if self.interactions else ""
        note = f" — {self.note}" if self.note else ""
        return f"{self.title} {self.resource_id} · {self.status} · {self.elapsed():.1f}s{asked}{note}"

    def html(self) -> str:
        colour = _COLOURS[tone(self.status)]
        asked = (
            f"<div style='font-size:0.9em'>asked: {html.escape(', '.join(self.interactions))}</div>"
            if self.interactions
            else ""
        )
        note = f"<div style='font-size:0.9em'>{html.escape(self.note)}</div>" if self.note else ""
        return (
            f"<div class='deck-nb-card' style='border-left:4px solid {colour};padding:2px 8px;margin:2px 0'>"
            f"<b>{html.escape(self.title)}</b> <code>{html.escape(self.resource_id)}</code> "
            f"<span style='color:{colour};font-weight:bold'>{html.escape(self.status)}</span> "
            f"<span style='color:var(--jp-ui-font-color2,#666)'>{self.elapsed():.1f}s</span>{asked}{note}</div>"
        )


class StatusCard:
    """An HTML widget kept in step with a CardState; ``repr`` is the text fallback."""

    def __init__(self, state: CardState) -> None:
        self.state = state
        self.widget = w.HTML(value=state.html())
        self.widget.add_class("deck-nb-card-widget")

    def refresh(self) -> None:
        self.widget.value = self.state.html()

    def __repr__(self) -> str:
        return self.state.text()
