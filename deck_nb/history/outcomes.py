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
CANCELING = {"canceled", "cancelling", "canceling"}  # Deck spells the cancelling state both ways


def _codes(obj: dict[str, Any]) -> set[str]:
    return {e.get("code") for e in obj.get("errors") or [] if isinstance(e, dict)}


def same_prompt(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """A retry shows the same kind of prompt for the same fields (the message may change)."""
    if not a or not b:
        return False
    names = lambda i: [f.get("name") for f in i.get("fields") or [] if isinstance(f, dict)]  # noqa: E731
    return a.get("type") == b.get("type") and names(a) == names(b)


def shown_again(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """The very same prompt seen twice — whether it came as a model (defaults filled in) or as a raw
    dict from a page or an event (keys absent): equal type, message, fields, expiry and attempts."""
    return a is not None and b is not None and _key(a) == _key(b)


def _key(interaction: dict[str, Any]) -> tuple:
    fields = [f for f in interaction.get("fields") or [] if isinstance(f, dict)]
    expires = interaction.get("expires_at")
    return (
        interaction.get("type"),
        interaction.get("message"),
        tuple((f.get("name"), f.get("type"), f.get("label")) for f in fields),
        expires.isoformat().replace("+00:00", "Z") if hasattr(expires, "isoformat") else expires,
        interaction.get("attempts_remaining"),
    )


def judge(answered: dict[str, Any], after: dict[str, Any]) -> str | None:
    """The outcome of an answer to ``answered`` given the next settled object, or None if too early."""
    status = after.get("status")
    if status == "interaction_required":
        return REJECTED if same_prompt(answered, after.get("interaction")) else ACCEPTED
    if status in ("connecting", "running", "queued"):
        return None
    if status == "review_required":  # past the prompt: the run's work is done, awaiting approval
        return ACCEPTED
    codes = _codes(after)
    if "auth_invalid" in codes:
        return REJECTED
    if status in SUCCESS_STATUSES:
        return ACCEPTED
    if status in CANCELING:
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
    if status in CANCELING:
        return CANCELED
    return UNANSWERED


def settle(prompt: dict[str, Any], answered: bool, after: dict[str, Any]) -> str | None:
    """The outcome of a pending ``prompt`` once its resource reached ``after``; None while still open."""
    if after.get("status") == "interaction_required" and shown_again(after.get("interaction"), prompt):
        return None
    verdict = judge(prompt, after) if answered else unanswered(after)
    if verdict is None and after.get("status") == "interaction_required":
        return UNKNOWN  # another prompt replaced it before anyone could tell how it went
    return verdict
