"""The batch's default responder in a notebook: each prompt's form in the dashboard's inbox, titled
with whose account asks (username or external id, never a secret), so a person knows whose phone
code to type."""

from __future__ import annotations

from typing import Any

from ._prompt import Prompt, Responder


def account_of(job: Any) -> str:
    """Whose account a job logs in to: its username and external id (a run: its login's), else the
    login's id; "" when nothing names it. Never a password or an answer."""
    login = getattr(job, "_login", job)
    if login is not job and not isinstance(login, str) and hasattr(login, "_login"):
        return account_of(login)
    resource = getattr(login, "resource", None) if hasattr(login, "_username") else login
    username = getattr(login, "_username", None) or getattr(resource, "username", None)
    external = getattr(login, "_external_id", None) or getattr(resource, "external_id", None)
    named = " · ".join(x for x in (username, external) if isinstance(x, str) and x)
    if named:
        return named
    ident = login if isinstance(login, str) else getattr(login, "id", None)
    return f"login {ident}" if isinstance(ident, str) and ident and login is not job else ""


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
