"""The default responder in a notebook: a form under the cell, answered by a person."""

from __future__ import annotations

from typing import Any

from deck_nb.widgets import InteractionForm

from .responders import Prompt, Responder


class WidgetResponder(Responder):
    needs_await = True

    def __init__(self) -> None:
        self.form: InteractionForm | None = None

    def answer(self, prompt: Prompt) -> Any:
        if prompt.error is not None and self.form is not None and self.form.interaction == prompt.interaction:
            self.form.show_error(prompt.error.field, prompt.error.message)
        else:
            self.form = InteractionForm(prompt.interaction, title=prompt.title)
            if prompt.view is not None:
                prompt.view.show_form(self.form)
        return self.form.answer()

    def closed(self, prompt: Prompt, note: str) -> None:
        if self.form is not None and not self.form.closed:
            self.form.expire(note)
