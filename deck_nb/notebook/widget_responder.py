"""The default responder in a notebook: a form under the cell, answered by a person. Where no
front end can draw the form (papermill, nbconvert, nbval) it says so at once instead of waiting."""

from __future__ import annotations

from typing import Any

from deck_nb.widgets import InteractionForm

from . import _frontend
from ._prompt import NoAnswer, Prompt, Responder, in_kernel, nobody_can_answer


class WidgetResponder(Responder):
    needs_await = True

    def __init__(self) -> None:
        self.form: InteractionForm | None = None
        self.watch: _frontend.PageWatch | None = None

    def answer(self, prompt: Prompt) -> Any:
        mode = _frontend.waiting_mode() if in_kernel() else "await"
        if mode == "fail":
            raise NoAnswer(no_answer_text(prompt, _frontend.headless_reason()))
        if prompt.error is not None and self.form is not None and self.form.interaction == prompt.interaction:
            self.form.show_error(prompt.error.field, prompt.error.message)
            return self.form.answer()
        self.form = InteractionForm(prompt.interaction, title=prompt.title)
        self.watch = _frontend.PageWatch(self.form.widget)
        if prompt.view is not None:
            prompt.view.show_form(self.form)
        probe = mode == "await" and in_kernel() and not _frontend.frontend_seen()
        return self._probed(prompt, self.form, self.watch) if probe else self.form.answer()

    async def _probed(self, prompt: Prompt, form: InteractionForm, watch: _frontend.PageWatch) -> Any:
        """No front end has spoken yet: give the page a few seconds to say it is drawn, while the cell
        waits or (a front end that hands messages over only once a cell ends) once it has ended, else stop."""
        if not await watch.drawn() and not await watch.drawn_after_cell():
            form.expire("No front end drew this form; nobody can answer it here.")
            raise NoAnswer(no_answer_text(prompt, _frontend.headless_reason(waited=True)))
        return await form.answer()

    def closed(self, prompt: Prompt, note: str) -> None:
        if self.form is not None and not self.form.closed:
            self.form.expire(note)


def no_answer_text(prompt: Prompt, why: str) -> str:
    """The NoAnswer message a plain script gets, with why nobody can answer in this kernel."""
    return nobody_can_answer(prompt, why)
