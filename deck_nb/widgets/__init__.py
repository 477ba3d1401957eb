"""Widgets: the form built from an interaction's fields, and the live status card."""

from ._fields import RULES, FieldValueError, is_secret, rule_for
from .card import CardState, StatusCard, tone
from .dashboard import Dashboard
from .form import FormExpired, InteractionForm, InteractionFormError

__all__ = [
    "RULES",
    "CardState",
    "Dashboard",
    "FieldValueError",
    "FormExpired",
    "InteractionForm",
    "InteractionFormError",
    "StatusCard",
    "is_secret",
    "rule_for",
    "tone",
]
