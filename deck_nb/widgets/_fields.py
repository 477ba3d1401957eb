"""The tested mapping table from an interaction field to a widget, and from widget value to answer.

Built from ``fields`` alone, never from the interaction's ``type``: sources add verification methods
at any time. Rules are ordered and exclusive; the first that matches wins.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deck_nb.client import Field

PASSWORD_LIKE = re.compile(r"pass(word|code|phrase)?|pin|secret|otp|cvv|ssn", re.IGNORECASE)


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
    widget: str  # the ipywidgets class name
    parse: Callable[[Any, Field], Any]


def _parse_text(value: Any, field: Field) -> Any:
    text = "" if value is None else str(value)
    return text.strip() or None


def _parse_number(value: Any, field: Field) -> Any:
    text = _parse_text(value, field)
    if text is None:
        return None
    try:
        number = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise FieldValueError(f"{field.display_label} must be a number") from None
    if not math.isfinite(number):
        raise FieldValueError(f"{field.display_label} must be a finite number")
    return int(number) if number.is_integer() and "." not in text else number


def _parse_choice(value: Any, field: Field) -> Any:
    return value


def _parse_bool(value: Any, field: Field) -> Any:
    return bool(value)


RULES: tuple[Rule, ...] = (
    Rule("choice", lambda f: bool(f.options), "Dropdown", _parse_choice),
    Rule("boolean", lambda f: f.type == "boolean", "Checkbox", _parse_bool),
    Rule("secret number", lambda f: f.type == "number" and is_secret(f), "Password", _parse_number),
    Rule("number", lambda f: f.type == "number", "Text", _parse_number),
    Rule("secret", is_secret, "Password", _parse_text),
    Rule("text", lambda f: True, "Text", _parse_text),  # string, and any type no client knows
)


def rule_for(field: Field) -> Rule:
    return next(rule for rule in RULES if rule.matches(field))
