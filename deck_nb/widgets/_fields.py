"""The tested mapping table from an interaction field to a form control, and from what a person
typed to the answer sent. Pure (no ipywidgets): the console responder and headless code use it too.

Built from ``fields`` alone, never from the interaction's ``type``: sources add verification methods
at any time. Rules are ordered and exclusive; the first that matches wins.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from deck_nb.client import Field

PASSWORD_LIKE = re.compile(r"pass(word|code|phrase)?|pin|secret|otp|cvv|ssn", re.IGNORECASE)
KINDS = ("text", "masked", "number", "dropdown", "checkbox")


class FieldValueError(ValueError):
    """A value typed into the form that cannot be sent (names no value: it may be a secret)."""


def is_secret(field: Field) -> bool:
    """Mask a field marked secret, or one whose name or label looks like a password or PIN."""
    if field.secret:
        return True
    words = re.split(r"[^A-Za-z]+", f"{field.name} {field.label or ''}")
    return any(PASSWORD_LIKE.fullmatch(w) for w in words if w)


@dataclass(frozen=True)
class Rule:
    name: str
    matches: Callable[[Field], bool]
    kind: str  # the control the page draws: one of KINDS
    parse: Callable[[Any, Field], Any]


def _parse_text(value: Any, field: Field) -> Any:
    text = "" if value is None or isinstance(value, bool) else str(value)
    return text.strip() or None


def _parse_number(value: Any, field: Field) -> Any:
    text = _parse_text(value, field)
    if text is None:  # empty is "not given", never 0
        return None
    digits = text.replace(",", "").replace("_", "")
    if re.fullmatch(r"[+-]?\d+", digits):
        return int(digits)  # exactly, however long (a float would round it)
    try:
        number = float(digits)
    except ValueError:
        raise FieldValueError(f"{field.display_label} must be a number") from None
    if not math.isfinite(number):
        raise FieldValueError(f"{field.display_label} must be a finite number")
    return int(number) if number.is_integer() and "." not in text else number


def _parse_choice(value: Any, field: Field) -> Any:
    if value is None or value == "":
        return None
    if not any(option.value == value for option in field.options or []):
        raise FieldValueError(f"{field.display_label}: choose one of the options")
    return value


_YES, _NO = ("true", "on", "yes", "1"), ("false", "off", "no", "0", "")


def _parse_bool(value: Any, field: Field) -> Any:
    """A box is ticked or not: the page sends real booleans (a script may write "true"/"false").
    Anything else is refused rather than quietly sent as ``False`` (and never echoed: it may be a secret)."""
    if value is None or isinstance(value, bool):
        return value is True
    if isinstance(value, str) and value.strip().lower() in _YES + _NO:
        return value.strip().lower() in _YES
    raise FieldValueError(f"{field.display_label} must be ticked or not (true or false)")


RULES: tuple[Rule, ...] = (
    Rule("choice", lambda f: bool(f.options), "dropdown", _parse_choice),
    Rule("boolean", lambda f: f.type == "boolean", "checkbox", _parse_bool),
    Rule("secret number", lambda f: f.type == "number" and is_secret(f), "masked", _parse_number),
    Rule("number", lambda f: f.type == "number", "number", _parse_number),
    Rule("secret", is_secret, "masked", _parse_text),
    Rule("text", lambda f: True, "text", _parse_text),  # string, and any type no client knows
)


def rule_for(field: Field) -> Rule:
    return next(rule for rule in RULES if rule.matches(field))


def control(field: Field) -> dict[str, Any]:
    """What the page needs to draw one field: never a value."""
    rule = rule_for(field)
    described: dict[str, Any] = {
        "name": field.name,
        "kind": rule.kind,
        "label": field.display_label,
        "masked": rule.kind == "masked",
        "numeric": field.type == "number",
        "required": field.required and rule.kind != "checkbox",  # an unticked box is an answer
        "placeholder": "" if field.type in ("string", "boolean") or field.options else field.type,
    }
    if rule.kind == "dropdown":
        described["options"] = [{"label": o.label or str(o.value), "value": o.value} for o in field.options or []]
    return described


def check_answer(fields: Iterable[Field], typed: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the inputs to send, a complaint per field name): the inputs count only when no complaint."""
    inputs: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        rule = rule_for(field)
        try:
            value = rule.parse(typed.get(field.name), field)
        except FieldValueError as exc:
            errors[field.name] = str(exc)
            continue
        if value is None:
            if field.required:
                errors[field.name] = f"{field.display_label} is required"
            continue
        inputs[field.name] = value
    return inputs, errors


def attempts_note(message: str | None, attempts_remaining: int | None) -> str:
    """ "2 attempts left", said once: empty when unknown or when the source's message already says it."""
    if attempts_remaining is None or "attempt" in (message or "").lower():
        return ""
    return f"{attempts_remaining} attempt{'' if attempts_remaining == 1 else 's'} left"
