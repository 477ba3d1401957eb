"""What an awaited job shows under the cell: its live status card and, when asked, the form."""

from __future__ import annotations

import ipywidgets as w

from deck_nb.widgets import InteractionForm, StatusCard
from deck_nb.widgets._card_state import CardState


class JobView:
    def __init__(self, state: CardState) -> None:
        self.card = StatusCard(state)
        self.forms = w.VBox([])
        self.widget = w.VBox([self.card.widget, self.forms])
        self.widget.add_class("deck-nb-job")

    def show_form(self, form: InteractionForm) -> None:
        self.forms.children = (form.widget,)

    def refresh(self, done: bool = False) -> None:
        self.card.refresh()
        if done:
            self.forms.children = ()

    def __repr__(self) -> str:
        return repr(self.card)
