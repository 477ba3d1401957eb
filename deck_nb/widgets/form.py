"""The form an interaction becomes: one widget per field, the source's message as escaped text,
required-field checks before submit, server errors shown by the field they name, a countdown, and
values cleared once submitted or expired so nothing secret lingers in widget state."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import ipywidgets as w

from deck_nb.client import DeckError, Field, Interaction

from ._fields import FieldValueError, rule_for

_ERROR_STYLE = "color: var(--jp-error-color1, #c62828); font-size: 0.9em"
_MUTED_STYLE = "color: var(--jp-ui-font-color2, #666); font-size: 0.9em"


def _text(message: str, style: str = "") -> str:
    """Source text is shown, never rendered: escape every character of markup."""
    return f"<span style='{style}'>{html.escape(message)}</span>" if message else ""


class _FieldInput:
    def __init__(self, field: Field, index: int) -> None:
        self.field = field
        self.rule = rule_for(field)
        label = field.display_label + ("" if field.required else " (optional)")
        common = {"description": label, "style": {"description_width": "initial"}}
        if self.rule.widget == "Dropdown":
            options = [(o.label or str(o.value), o.value) for o in field.options or []]
            self.widget = w.Dropdown(options=options, value=None, **common)
        elif self.rule.widget == "Checkbox":
            self.widget = w.Checkbox(value=False, indent=False, **common)
        elif self.rule.widget == "Password":
            self.widget = w.Password(value="", **common)
        else:
            placeholder = "number" if field.type == "number" else ("" if field.type == "string" else field.type)
            self.widget = w.Text(value="", placeholder=placeholder, **common)
        self.widget.add_class("deck-nb-field")
        self.widget.add_class(f"deck-nb-field-{index}")
        self.error = w.HTML(value="")
        self.box = w.VBox([self.widget, self.error])

    def value(self) -> Any:
        return self.rule.parse(self.widget.value, self.field)

    def set(self, value: Any) -> None:
        if self.rule.widget == "Checkbox":
            self.widget.value = bool(value)
        elif self.rule.widget == "Dropdown":
            self.widget.value = value
        else:
            self.widget.value = "" if value is None else str(value)

    def clear(self) -> None:
        self.widget.value = {"Checkbox": False, "Dropdown": None}.get(self.rule.widget, "")

    def show_error(self, message: str | None) -> None:
        self.error.value = _text(message or "", _ERROR_STYLE)


class InteractionForm:
    """``form.widget`` to display; ``await form.answer()`` (or ``on_submit``) to get the inputs."""

    def __init__(
        self,
        interaction: Interaction,
        *,
        on_submit: Callable[[dict[str, Any]], None] | None = None,
        title: str | None = None,
    ) -> None:
        self.interaction = interaction
        self.on_submit = on_submit
        _check_fields(interaction)
        self.inputs = [_FieldInput(field, i) for i, field in enumerate(interaction.fields)]
        self._by_name = {i.field.name: i for i in self.inputs}
        heading = _text(title or "", "font-weight: bold")
        self.message = w.HTML(value=heading + ("<br>" if heading else "") + _text(interaction.message or ""))
        self.message.add_class("deck-nb-message")
        attempts = interaction.attempts_remaining
        self.status = w.HTML(value=_text(f"{attempts} attempt(s) left" if attempts else "", _MUTED_STYLE))
        self.countdown = w.HTML(value="")
        self.button = w.Button(description="Submit", button_style="primary", icon="check")
        self.button.add_class("deck-nb-submit")
        self.button.on_click(lambda _: self.submit())
        self.widget = w.VBox(
            [self.message, *[i.box for i in self.inputs], w.HBox([self.button, self.countdown]), self.status]
        )
        self.widget.add_class("deck-nb-form")
        self._future: asyncio.Future[dict[str, Any]] | None = None
        self.submitted: dict[str, Any] | None = None
        self.closed = False
        self.tick()

    def __repr__(self) -> str:
        names = ", ".join(self._by_name)
        state = "closed" if self.closed else "open"
        return f"<InteractionForm {self.interaction.type} [{names}] {state}>"

    # -- filling and submitting --------------------------------------------------------------

    def fill(self, **values: Any) -> InteractionForm:
        unknown = sorted(set(values) - set(self._by_name))
        if unknown:
            raise KeyError(f"this form has no field {unknown[0]!r}; fields: {', '.join(self._by_name)}")
        for name, value in values.items():
            self._by_name[name].set(value)
        return self

    def fill_and_submit(self, **values: Any) -> bool:
        """What a person does: type the values, click Submit (through the widgets' own API)."""
        self.fill(**values)
        self.button.click()
        return self.submitted is not None

    def collect(self) -> dict[str, Any] | None:
        """The inputs to send, or None after showing what is missing or wrong beside each field."""
        inputs: dict[str, Any] = {}
        ok = True
        for item in self.inputs:
            try:
                value = item.value()
            except FieldValueError as exc:
                item.show_error(str(exc))
                ok = False
                continue
            if value is None and item.field.required:
                item.show_error(f"{item.field.display_label} is required")
                ok = False
                continue
            item.show_error(None)
            if value is not None:
                inputs[item.field.name] = value
        return inputs if ok else None

    def submit(self) -> None:
        if self.closed:
            return
        inputs = self.collect()
        if inputs is None:
            return
        self.submitted = inputs
        self.close("Submitted — waiting for the source…")
        if self._future is not None and not self._future.done():
            self._future.get_loop().call_soon_threadsafe(_resolve, self._future, inputs)
        if self.on_submit is not None:
            self.on_submit(inputs)

    async def answer(self) -> dict[str, Any]:
        """Wait (in short steps, so Interrupt works) for the person to submit."""
        if self.submitted is not None:
            return self.submitted
        self._future = asyncio.get_running_loop().create_future()
        try:
            while not self._future.done():
                await asyncio.wait({self._future}, timeout=0.25)
                self.tick()
            return self._future.result()
        finally:
            if not self._future.done():
                self._future.cancel()
                if not self.closed:  # keep the note of whoever closed it (expired, answered elsewhere)
                    self.close("Cancelled.")

    # -- what the server says ----------------------------------------------------------------

    def show_error(self, field: str | None, message: str) -> None:
        """Reopen for correction with the server's complaint beside the named field."""
        self.closed = False
        self.submitted = None
        self._set_disabled(False)
        target = self._by_name.get(field or "")
        if target is not None:
            target.show_error(message)
        else:
            self.status.value = _text(message, _ERROR_STYLE)

    def close(self, note: str) -> None:
        """Disable and clear: nothing typed stays in the widgets (or in saved widget state)."""
        self.closed = True
        for item in self.inputs:
            item.clear()
        self._set_disabled(True)
        self.status.value = _text(note, _MUTED_STYLE)
        self.countdown.value = ""

    def expire(self, note: str = "This prompt expired before an answer was sent.") -> None:
        self.close(note)
        if self._future is not None and not self._future.done():
            self._future.get_loop().call_soon_threadsafe(_fail, self._future)

    def tick(self, now: datetime | None = None) -> None:
        expires = self.interaction.expires_at
        if expires is None or self.closed:
            return
        left = (expires - (now or datetime.now(UTC))).total_seconds()
        self.countdown.value = _text(f"{max(0, int(left))} s left", _MUTED_STYLE)

    def _set_disabled(self, disabled: bool) -> None:
        for item in self.inputs:
            item.widget.disabled = disabled
        self.button.disabled = disabled


class InteractionFormError(DeckError, ValueError):
    """The interaction's fields cannot make a form that could be answered (e.g. two fields share a name)."""


def _check_fields(interaction: Interaction) -> None:
    seen: set[str] = set()
    for field in interaction.fields:
        if not field.name or not field.name.strip():
            raise InteractionFormError(f"the {interaction.type!r} interaction has a field without a name")
        if field.name in seen:
            raise InteractionFormError(f"the {interaction.type!r} interaction has two fields named {field.name!r}")
        seen.add(field.name)


class FormExpired(Exception):
    """The interaction closed (timed out or was answered elsewhere) before the form was submitted."""


def _resolve(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future) -> None:
    if not future.done():
        future.set_exception(FormExpired())
