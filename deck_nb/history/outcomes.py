"""How an answered interaction turned out, judged from the next state the resource reached.

One place for the rule, used by jobs (to show it) and by the journal (to record it)."""

from __future__ import annotations

from typing import Any

ACCEPTED = "accepted"
REJECTED = "rejected"
TIMED_OUT = "timed_out"
PENDING = "pending"
UNANSWERED = "unanswered"
CANCELED = "canceled"
UNKNOWN = "unknown"

SUCCESS_STATUSES = {"connected", "completed", "running"}


def _codes(obj: dict[str, Any]) -> set[str]:
    return {e.get("code") for e in obj.get("errors") or [] if isinstance(e, dict)}


def same_prompt(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """A retry shows the same kind of prompt for the same fields (the message may change)."""
    if not a or not b:
        return False
    names = lambda i: [f.get("name") for f in i.get("fields") or [] if isinstance(f, dict)]  # noqa: E731
    return a.get("type") == b.get("type") and names(a) == names(b)


def judge(answered: dict[str, Any], after: dict[str, Any]) -> str | None:
    """The outcome of an answer to ``answered`` given the next settled object, or None if too early."""
    status = after.get("status")
    if status == "interaction_required":
        return REJECTED if same_prompt(answered, after.get("interaction")) else ACCEPTED
    if status in ("connecting", "running", "queued"):
        return None
    codes = _codes(after)
    if "auth_invalid" in codes:
        return REJECTED
    if status in SUCCESS_STATUSES:
        return ACCEPTED
    if status == "canceled":
        return CANCELED
    if "interaction_timeout" in codes:
        return TIMED_OUT
    return UNKNOWN if status not in ("failed", "invalid", "disconnected") else ACCEPTED


def unanswered(after: dict[str, Any]) -> str | None:
    """The outcome of a prompt nobody answered, once the resource left it."""
    status = after.get("status")
    if status == "interaction_required":
        return None
    if "interaction_timeout" in _codes(after):
        return TIMED_OUT
    if status == "canceled":
        return CANCELED
    return UNANSWERED


def settle(prompt: dict[str, Any], answered: bool, after: dict[str, Any]) -> str | None:
    """The outcome of a pending ``prompt`` once its resource reached ``after``; None while still open."""
    if after.get("status") == "interaction_required" and after.get("interaction") == prompt:
        return None
    verdict = judge(prompt, after) if answered else unanswered(after)
    if verdict is None and after.get("status") == "interaction_required":
        return UNKNOWN  # another prompt replaced it before anyone could tell how it went
    return verdict
