"""Who answers an interaction: a widget form, the console, a dict, a callable, a TOTP secret, or
(headless, on the simulator) the simulator's magic values. Every responder builds its answer
from the interaction's ``fields``, never from its ``type``."""

from __future__ import annotations

import getpass
import inspect
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from deck_nb.client import DeckError, Field, Interaction
from deck_nb.widgets._fields import FieldValueError, attempts_note, is_secret, rule_for

from ._frontend import headless_reason, waiting_mode
from ._prompt import ENV_SWITCH, NoAnswer, Prompt, Responder, in_kernel, nobody_can_answer


def _fill(interaction: Interaction, value_for: Callable[[Field], Any]) -> dict[str, Any]:
    inputs = {}
    for f in interaction.fields:
        value = value_for(f)
        if value is None:
            if f.required:
                raise NoAnswer(f"no answer for required field `{f.name}` ({f.display_label})")
            continue
        inputs[f.name] = value
    return inputs


class DictResponder(Responder):
    """Answers by field name. A value may be a callable ``(field) -> value``, or a list of successive
    answers (one per attempt: ``{"code": ["000000", "123456"]}`` shows a retry). A single value is
    one attempt: asked again for that field on the same run or connection (the source refused it),
    it stops with ``NoAnswer`` instead of sending the refused value again — that is how real
    accounts get locked."""

    def __init__(self, answers: Mapping[str, Any]) -> None:
        self._answers = dict(answers)
        self._used: dict[str, int] = {}
        self._sent: set[tuple[str, str]] = set()  # (resource, field) answered with a single value

    def __repr__(self) -> str:  # names only: the values may be secrets
        return f"<DictResponder for {', '.join(self._answers) or 'nothing'}>"

    def _value(self, f: Field) -> Any:
        if f.name not in self._answers:
            return None
        value = self._answers[f.name]
        if isinstance(value, list | tuple):
            index = self._used.get(f.name, 0)
            self._used[f.name] = index + 1
            value = value[min(index, len(value) - 1)] if value else None
        return value(f) if callable(value) else value

    def answer(self, prompt: Prompt) -> dict[str, Any]:
        """The inputs for the prompt's fields; a required field without a value is ``NoAnswer``, and
        so is a field asked again where this responder has only one value for it."""
        single = [f.name for f in prompt.interaction.fields if f.name in self._answers and self._single(f.name)]
        again = [name for name in single if (prompt.resource_id, name) in self._sent]
        if again and prompt.resource_id:
            subject = prompt.title.removesuffix(" needs input") or prompt.kind.replace("_", " ")
            raise NoAnswer(
                f"{subject} asks for {', '.join(again)} again after this responder's answer, and it has no other "
                "(the source refused it, or asks anew: sending the same value again could lock the account); "
                f'give a list of answers, one per attempt (e.g. respond={{"{again[0]}": ["first", "second"]}}), '
                "a callable, or answer in a form"
            )
        inputs = _fill(prompt.interaction, self._value)
        self._sent.update((prompt.resource_id, name) for name in single if prompt.resource_id)
        return inputs

    def _single(self, name: str) -> bool:
        value = self._answers[name]
        return not isinstance(value, list | tuple) and not callable(value)


class CallableResponder(Responder):
    """``fn(interaction) -> inputs`` (or an awaitable of them)."""

    def __init__(self, fn: Callable[[Interaction], Any]) -> None:
        self.fn = fn

    def answer(self, prompt: Prompt) -> Any:
        """Call the function with the interaction; it must return a dict (or an awaitable of one)."""
        result = self.fn(prompt.interaction)
        if inspect.isawaitable(result):
            return result
        if not isinstance(result, Mapping):
            raise TypeError(f"the responder callable must return a dict of inputs, not {type(result).__name__}")
        return dict(result)


class TOTPResponder(Responder):
    """Computes one-time codes from a shared TOTP secret (pyotp) for code-like fields; other fields
    go to ``fallback``."""

    CODE_WORDS = ("code", "otp", "token", "passcode")

    def __init__(self, secret: str, *, digits: int = 6, interval: int = 30, fallback: Responder | None = None):
        import pyotp

        try:
            self._totp = pyotp.TOTP(secret, digits=digits, interval=interval)
            self._totp.now()
        except ValueError as exc:  # pyotp's reasons never quote the secret
            raise ValueError(f"unusable TOTP secret (base32, as authenticator apps show it): {exc}") from None
        except Exception:
            raise ValueError("unusable TOTP secret: it must be base32, as authenticator apps show it") from None
        self.fallback = fallback

    def __repr__(self) -> str:
        return "<TOTPResponder>"

    def _is_code(self, f: Field) -> bool:
        text = f"{f.name} {f.label or ''}".lower()
        return f.type in ("string", "number") and any(word in text for word in self.CODE_WORDS)

    def answer(self, prompt: Prompt) -> Any:
        """The current code for code-like fields; the fallback answers the rest."""
        codes = {f.name: self._totp.now() for f in prompt.interaction.fields if self._is_code(f)}
        rest = [f for f in prompt.interaction.fields if f.name not in codes]
        if not rest:
            return codes
        if self.fallback is None:
            raise NoAnswer(f"the TOTP responder has no answer for `{rest[0].name}`; give it a fallback responder")
        sub = Prompt(
            prompt.kind,
            prompt.resource_id,
            prompt.interaction.model_copy(update={"fields": rest}),
            prompt.title,
            prompt.error,
            prompt.view,
        )
        other = self.fallback.answer(sub)
        if inspect.isawaitable(other):

            async def merge():
                return {**codes, **(await other)}

            return merge()
        return {**codes, **other}


class SimulatorResponder(Responder):
    """The simulator's magic answers, for headless notebook runs (nbval, CI). Refuses to answer
    anything but the embedded simulator, so it can never send guesses to a real source."""

    VALUES: ClassVar[dict[str, Any]] = {"code": "123456", "answer": "rex", "pin": 123456}

    def __init__(self) -> None:
        self.checked: set[int] = set()

    def check(self, deck: Any) -> None:
        """Refuse (``DeckError``) unless ``deck`` talks to the simulator."""
        if id(deck) in self.checked or replaying(deck):  # a replay sends nothing to any source
            return
        environment = deck.test().get("environment") if hasattr(deck, "test") else None
        if environment != "simulator":
            raise DeckError("the simulator responder only answers the Deck simulator, not a live Deck service")
        self.checked.add(id(deck))

    def _value(self, f: Field) -> Any:
        if f.name in self.VALUES:
            return self.VALUES[f.name]
        if f.options:
            return f.options[0].value
        if f.type == "boolean":
            return True
        if f.type == "number":
            return 1
        if f.type == "date":
            return "2000-01-01"
        return "simulated" if f.required else None

    def answer(self, prompt: Prompt) -> dict[str, Any]:
        """The inputs for the prompt's fields; a required field without a value is ``NoAnswer``."""
        return _fill(prompt.interaction, self._value)


def replaying(deck: Any = None) -> bool:
    """Whether ``deck`` (or every client: ``DECK_NB_REPLAY``, ``dn.replay``) answers from a recording."""
    from deck_nb import _wire

    if getattr(deck, "_replayer", None) is not None:
        return True
    return any(getattr(handler, "replays", False) for handler in _wire.active())


class ReplayResponder(SimulatorResponder):
    """Answers a replayed session headless (nbval, papermill, CI): the recording never kept the real
    answers, so any well-formed answer is sent and the recorded verdict follows. Refuses a client
    that talks to a live service, so it can never send guesses to a real source."""

    def check(self, deck: Any) -> None:
        if not replaying(deck):
            raise DeckError("the replay responder only answers a session replayed from a recording")


class ConsoleResponder(Responder):
    """Asks at the terminal; secret fields are read with getpass (not echoed)."""

    def __init__(
        self,
        *,
        input_fn: Callable[[str], str] = input,
        getpass_fn: Callable[[str], str] = getpass.getpass,
        out: Any = None,
    ) -> None:
        self.input_fn = input_fn
        self.getpass_fn = getpass_fn
        self.out = out

    def _say(self, text: str) -> None:
        print(text, file=self.out or sys.stdout, flush=True)

    def answer(self, prompt: Prompt) -> dict[str, Any]:
        """Ask each field at the terminal, again until its value is valid."""
        interaction = prompt.interaction
        self._say(f"\n{prompt.title or 'Deck needs input'}: {interaction.message or interaction.type}")
        if note := attempts_note(interaction.message, interaction.attempts_remaining):
            self._say(f"({note})")
        if prompt.error is not None:
            self._say(f"The source refused that: {prompt.error.message}")
        inputs: dict[str, Any] = {}
        for f in interaction.fields:
            while True:
                raw = self._ask_field(f, is_secret(f))
                try:
                    value = rule_for(f).parse(raw, f) if not f.options else raw
                except FieldValueError as exc:
                    self._say(str(exc))
                    continue
                if value is None and f.required:
                    self._say(f"{f.display_label} is required.")
                    continue
                break
            if value is not None:
                inputs[f.name] = value
        return inputs

    def _ask_field(self, f: Field, secret: bool) -> Any:
        label = f.display_label + ("" if f.required else " (optional)")
        if f.options:
            for i, option in enumerate(f.options, 1):
                self._say(f"  {i}. {option.label or option.value}")
            raw = self.input_fn(f"{label} [1-{len(f.options)}]: ").strip()
            if raw.isdigit() and 1 <= int(raw) <= len(f.options):
                return f.options[int(raw) - 1].value
            matches = [o.value for o in f.options if str(o.value) == raw]
            return matches[0] if matches else None
        if f.type == "boolean":
            return self.input_fn(f"{label} [y/n]: ").strip().lower() in ("y", "yes", "true", "1")
        reader = self.getpass_fn if secret else self.input_fn
        return reader(f"{label}: ")


class NoResponder(Responder):
    """Where nobody can answer: says what was asked and how to answer it."""

    def __init__(self, why: str = "") -> None:
        self.why = why

    def answer(self, prompt: Prompt) -> dict[str, Any]:
        raise NoAnswer(nobody_can_answer(prompt, self.why))


def resolve_responder(respond: Any, deck: Any = None) -> Responder:
    """The responder for ``respond=``: a Responder, a dict, a callable or a name; by default
    ``DECK_NB_RESPONDER``, else a form in a kernel with a front end, the console at a terminal,
    any answer where ``deck`` replays a recording and nobody can answer (its verdicts are recorded),
    or nobody (which raises ``NoAnswer`` at the first prompt, never waits)."""
    if isinstance(respond, Responder):
        return respond
    if isinstance(respond, Mapping):
        return DictResponder(respond)
    if callable(respond):
        return CallableResponder(respond)
    if isinstance(respond, str):
        return _named(respond)
    if respond is not None:
        raise TypeError(f"respond= takes a dict, a callable, a Responder or a name, not {type(respond).__name__}")
    switch = os.environ.get(ENV_SWITCH, "").strip()
    if switch:
        return _named(switch)
    headless = waiting_mode() == "fail" if in_kernel() else not (sys.stdin is not None and sys.stdin.isatty())
    if headless and replaying(deck):
        return ReplayResponder()
    if in_kernel():
        if waiting_mode() == "fail":  # papermill, nbconvert, nbval: no front end, so no wait
            return NoResponder(headless_reason())
        from .widget_responder import WidgetResponder

        return WidgetResponder()
    if sys.stdin is not None and sys.stdin.isatty():
        return ConsoleResponder()
    return NoResponder()


def _named(name: str) -> Responder:
    if name == "simulator":
        return SimulatorResponder()
    if name == "console":
        return ConsoleResponder()
    if name == "widget":
        from .widget_responder import WidgetResponder

        return WidgetResponder()
    if name.startswith("{"):
        try:
            return DictResponder(json.loads(name))
        except ValueError:
            raise ValueError(f"{ENV_SWITCH} holds invalid JSON") from None
    raise ValueError(f"unknown responder {name!r}: use 'widget', 'console', 'simulator' or a JSON object")
