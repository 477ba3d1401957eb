"""The batch's default responder in a notebook: each prompt's form in the dashboard's inbox."""

from __future__ import annotations

from typing import Any

from ._prompt import Prompt, Responder


class InboxResponder(Responder):
    """Puts each prompt's form in the dashboard's inbox, oldest first; removes it once answered."""

    needs_await = True

    def __init__(self, dashboard: Any) -> None:
        self.dashboard = dashboard
        self.forms: dict[str, Any] = {}

    def answer(self, prompt: Prompt) -> Any:
        from deck_nb.widgets import InteractionForm

        form = self.forms.get(prompt.resource_id)
        if prompt.error is not None and form is not None:
            form.show_error(prompt.error.field, prompt.error.message)
        else:
            form = InteractionForm(prompt.interaction, title=f"{prompt.title} ({prompt.resource_id})")
            self.forms[prompt.resource_id] = form
            self.dashboard.add_form(form)

        async def answered():
            try:
                return await form.answer()
            finally:
                if form.closed:
                    self.dashboard.remove_form(form)
                    self.forms.pop(prompt.resource_id, None)

        return answered()

    def closed(self, prompt: Prompt, note: str) -> None:
        form = self.forms.pop(prompt.resource_id, None)
        if form is not None:
            form.expire(note)
            self.dashboard.remove_form(form)
