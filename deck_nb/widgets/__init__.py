"""Widgets: the form built from an interaction's fields, and the live status card.

Names load on first use (PEP 562), so ``deck_nb.widgets._fields`` and ``_card_state`` (pure rules
and text, no ipywidgets) can be imported by headless code without loading ipywidgets."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "RULES": "._fields",
    "FieldValueError": "._fields",
    "is_secret": "._fields",
    "rule_for": "._fields",
    "CardState": "._card_state",
    "tone": "._card_state",
    "StatusCard": ".card",
    "Dashboard": ".dashboard",
    "FormExpired": ".form",
    "InteractionForm": ".form",
    "InteractionFormError": ".form",
}

__all__ = ["Dashboard", "FormExpired", "InteractionForm", "InteractionFormError", "StatusCard"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
