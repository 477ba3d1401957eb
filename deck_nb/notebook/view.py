"""What a job shows under the cell: its live status card and, when asked, the form. The displayed
output carries the card's one-line text as ``text/plain`` and the card as ``text/html``, so a
notebook opened untrusted, on GitHub or in a terminal reads the card, not a widget repr.

Once the job has ended, nothing on the card can change: the output (found again by its display id,
even when the job settled after its cell ended) becomes the final card as static HTML and text, and
the widgets stay, unseen. So a saved or exported notebook (``nbconvert --to html``, whose default
saves widget state) shows the card's last words as HTML, never a widget stuck at "starting"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w
from IPython.display import display

from deck_nb.client import DeckError
from deck_nb.widgets._card_state import CardState
from deck_nb.widgets._cells import follow_cells, under_the_running_cell
from deck_nb.widgets.card import StatusCard, TextFallbackBox

CANCELABLE = ("review_required",)  # waiting on a person in Deck's console: the card offers Cancel


class JobView:
    """A job's card, its form, and — while a run waits for approval in Deck's console — a Cancel
    button (``on_cancel``: the job's ``cancel``)."""

    def __init__(self, state: CardState, on_cancel: Callable[[], Any] | None = None) -> None:
        self.state = state
        self.card = StatusCard(state)
        self.forms = w.VBox([])
        self.form: Any = None
        self.on_cancel = on_cancel
        self.cancel = w.Button(
            description="Cancel run",
            tooltip="Cancel this run on Deck (job.cancel())",
            layout=w.Layout(width="auto", display="none"),
        )
        self.cancel.on_click(self._cancel_clicked)
        self.widget = TextFallbackBox(
            [self.card.widget, self.cancel, self.forms], text_fn=state.text, html_fn=state.html
        )
        self.widget.add_class("deck-nb-job")
        self._handle: Any = None
        self._shown_text = ""
        self._settled: dict[str, str] | None = None  # the static output shown once the job ended

    def display(self) -> None:
        follow_cells()
        self._handle = display(self.widget, display_id=True)
        self._shown_text = self.state.text()

    def show_form(self, form: Any) -> None:
        self.form = form
        self.forms.children = (form.widget,)

    def tick(self, done: bool = False) -> None:
        """Redraw the clock and countdowns (the saved text/plain changes only at ``refresh``)."""
        self.card.refresh()
        tick = getattr(self.form, "tick", None)
        if tick is not None and not done:
            tick()

    def _cancel_clicked(self, _button: Any = None) -> None:
        self.cancel.disabled = True
        try:
            if self.on_cancel is not None:
                self.on_cancel()
        except DeckError as exc:  # e.g. it ended meanwhile: say so on the card, never a traceback
            self.state.note = f"cancel refused: {exc}"
            self.cancel.disabled = False
        self.refresh()

    def refresh(self, done: bool = False, final: bool = False) -> None:
        offered = self.on_cancel is not None and self.state.status in CANCELABLE and not done
        self.cancel.layout.display = "" if offered else "none"
        self.card.refresh()
        if done:
            self.forms.children = ()
            self.form = None
        if self._handle is None:
            return
        if done:  # ended: the final card, as static HTML and text, in place of the widgets
            self._settle()
        elif final:  # a stop (it can resume): the saved text line follows
            text = self.state.text()
            if text != self._shown_text:
                self._shown_text = text
                with under_the_running_cell():
                    self._handle.update(self.widget)

    def _settle(self) -> None:
        bundle = {"text/html": self.state.html(), "text/plain": self.state.full_text()}
        if bundle == self._settled:
            return
        self._settled, self._shown_text = bundle, bundle["text/plain"]
        with under_the_running_cell():
            self._handle.update(bundle, raw=True)

    def __repr__(self) -> str:
        return self.state.text()
