"""The form an interaction becomes: one control per field, the source's message as escaped text,
checks on submit with each complaint beside its field, the attempts left, a countdown, and a page
that is disabled and cleared once the answer is sent or the prompt is gone.

How the values travel, and why: the page (an anywidget ES module, ``_form_page.py``) keeps what a
person types to itself and sends **every value in one custom message** when Submit is pressed
(``model.send({event: "submit", values})``). Python judges them here (``_fields.check_answer``) and
answers with synced traits that hold no value (complaints, a note, ``closed``). Nothing depends on
syncing a value key by key: while a cell awaits, ipykernel 7.4 handles widget state updates
concurrently without the idle status the ipywidgets front end waits for, so it holds back every
update after the first and a person's typing would arrive cut to its first key. Custom messages are
never held back. And since values are never traits, no password or code can reach saved widget
state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import anywidget
import traitlets

from deck_nb import _clock
from deck_nb.client import DeckError, Interaction

from ._fields import attempts_note, check_answer, control, rule_for
from ._form_page import CSS, ESM


class FormWidget(anywidget.AnyWidget):
    """The displayed form: descriptions and verdicts only, never a value typed into it."""

    _esm = ESM
    _css = CSS
    title = traitlets.Unicode("").tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    controls = traitlets.List().tag(sync=True)
    errors = traitlets.Dict().tag(sync=True)  # field name (or "" for the form) -> complaint
    note = traitlets.Unicode("").tag(sync=True)
    attempts = traitlets.Unicode("").tag(sync=True)
    countdown = traitlets.Unicode("").tag(sync=True)
    closed = traitlets.Bool(False).tag(sync=True)
    verdicts = traitlets.Int(0).tag(sync=True)  # one more per submit judged: the page may type again

    def __repr__(self) -> str:
        """The one line shown where widgets cannot be (a terminal, GitHub, an untrusted notebook)."""
        names = ", ".join(c["label"] for c in self.controls[:6]) + (" …" if len(self.controls) > 6 else "")
        state = self.note or ("closed" if self.closed else "waiting for an answer")
        heading = self.title or "deck_nb form"
        return f"{heading} · {names} · {state}"


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
        self.fields = list(interaction.fields)
        self.controls = [control(field) for field in self.fields]
        self.widget = FormWidget(
            title=title or "",
            message=interaction.message or "",
            controls=self.controls,
            attempts=attempts_note(interaction.message, interaction.attempts_remaining),
        )
        self.widget.add_class("deck-nb-form")
        self.widget.on_msg(self._on_page_message)
        self._future: asyncio.Future[dict[str, Any]] | None = None
        self._shown_left: int | None = None
        self.submitted: dict[str, Any] | None = None
        self.closed = False
        self.tick()

    def __repr__(self) -> str:
        names = ", ".join(f.name for f in self.fields)
        state = "closed" if self.closed else "open"
        return f"<InteractionForm {self.interaction.type} [{names}] {state}>"

    @property
    def errors(self) -> dict[str, str]:
        """The complaints shown beside the fields (``""``: about the whole form)."""
        return dict(self.widget.errors)

    @property
    def note(self) -> str:
        return self.widget.note

    def kind_of(self, name: str) -> str:
        """The control a field is drawn as: text, masked, number, dropdown or checkbox."""
        return rule_for(next(f for f in self.fields if f.name == name)).kind

    # -- what the page sends -----------------------------------------------------------------

    def _on_page_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, Mapping) and content.get("event") == "submit":
            values = content.get("values")
            self._judge(values if isinstance(values, Mapping) else {})

    def submit(self, values: Mapping[str, Any] | None = None) -> bool:
        """What the page does on Submit: send every value in one message. True if it was accepted."""
        unknown = sorted(set(values or {}) - {f.name for f in self.fields})
        if unknown:
            raise KeyError(f"this form has no field {unknown[0]!r}; fields: {', '.join(f.name for f in self.fields)}")
        self.widget._handle_custom_msg({"event": "submit", "values": dict(values or {})}, [])
        return self.submitted is not None

    def fill_and_submit(self, **values: Any) -> bool:
        """A person's answer, as the page would send it (text as typed, a box ticked, an option's value)."""
        return self.submit(values)

    def _judge(self, typed: Mapping[str, Any]) -> None:
        if self.closed:
            self._verdict(note=self.widget.note)
            return
        inputs, errors = check_answer(self.fields, typed)
        if errors:
            self._verdict(errors=errors, note="Please correct the fields marked.")
            return
        self.submitted = inputs
        self.close("Submitted — waiting for the source…")
        if self._future is not None and not self._future.done():
            self._future.get_loop().call_soon_threadsafe(_resolve, self._future, inputs)
        if self.on_submit is not None:
            self.on_submit(inputs)

    def _verdict(self, *, errors: dict[str, str] | None = None, note: str = "") -> None:
        with self.widget.hold_sync():
            self.widget.errors = errors or {}
            self.widget.note = note
            self.widget.verdicts += 1

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
        key = field if any(f.name == field for f in self.fields) else ""
        with self.widget.hold_sync():
            self.widget.closed = False
            self._verdict(errors={key: message}, note="")
        self.tick()

    def close(self, note: str) -> None:
        """Disable and clear the page: nothing typed stays in it (values were never widget state)."""
        self.closed = True
        self._shown_left = None
        with self.widget.hold_sync():
            self.widget.closed = True
            self.widget.countdown = ""
            self._verdict(note=note)

    def expire(self, note: str = "This prompt expired before an answer was sent.") -> None:
        self.close(note)
        if self._future is not None and not self._future.done():
            self._future.get_loop().call_soon_threadsafe(_fail, self._future)

    def tick(self, now: datetime | None = None) -> None:
        """Count down to ``expires_at`` (when the source gives one); sends only whole-second changes."""
        expires = self.interaction.expires_at
        if expires is None or self.closed:
            return
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        left = max(0, int((expires - (now or _clock.now())).total_seconds()))  # recorded time in a replay
        if left != self._shown_left:
            self._shown_left = left
            self.widget.countdown = f"{left} s left"


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


class FormExpired(DeckError):
    """The interaction closed (timed out or was answered elsewhere) before the form was submitted."""


def _resolve(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future) -> None:
    if not future.done():
        future.set_exception(FormExpired("the prompt closed before the form was submitted"))
