"""What the simulated world contains: sources, tasks and the prompts they raise (what a run returns
is in ``_outputs``).

Everything here is data or a pure function of its arguments, never of ids or the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CATALOG_TIMESTAMP = "2026-01-01T00:00:00Z"
MFA_CODE = "123456"
SECURITY_ANSWER = "rex"
BAD_PASSWORD = "pass_bad"
LOCKED_USERNAME = "user_locked"
ATTEMPTS_PER_PROMPT = 3

# Documented error codes a run may be made to fail with, and their documented type.
FAILURE_CODES: dict[str, str] = {
    "api_error": "api",
    "timeout": "task",
    "blocked": "connection",
    "source_error": "source",
    "source_not_available": "source",
    "source_not_found": "source",
    "source_invalid": "source",
    "source_blocked": "source",
    "input_missing": "request",
    "auth_invalid": "auth",
    "interaction_timeout": "interaction",
    "interaction_not_required": "interaction",
    "interaction_input_invalid": "interaction",
}

FAILURE_MESSAGES: dict[str, str] = {
    "api_error": "An internal error occurred.",
    "timeout": "The task exceeded its timeout.",
    "blocked": "The source blocked the browser session.",
    "source_error": "The source returned an error.",
    "source_not_available": "The source is not available right now.",
    "source_not_found": "The source could not be found.",
    "source_invalid": "The source is invalid.",
    "source_blocked": "The source is blocked.",
    "input_missing": "A required input is missing.",
    "auth_invalid": "The credentials were rejected by the source.",
    "interaction_timeout": "No response was submitted before the interaction window closed.",
    "interaction_not_required": "No interaction was required.",
    "interaction_input_invalid": "The interaction input was invalid.",
}

# Why a run fails outside `fail_with` (a run cannot be asked to fail with these).
REVIEW_REJECTED = {"type": "task", "code": "review_rejected", "message": "The run was rejected at review."}


@dataclass(frozen=True)
class Challenge:
    """One prompt a source raises: the interaction shown, and how an answer is judged."""

    type: str
    message: str
    fields: tuple[dict[str, Any], ...]
    window_s: float
    accepts: Callable[[dict[str, Any]], bool]

    def interaction(self, attempts_remaining: int, retry: bool, expires_at: str) -> dict[str, Any]:
        message = self.message
        if retry:
            noun = "attempt" if attempts_remaining == 1 else "attempts"
            message = f"That answer was not accepted. {self.message} ({attempts_remaining} {noun} left)"
        return {
            "type": self.type,
            "message": message,
            "fields": [dict(f) for f in self.fields],
            "expires_at": expires_at,
            "attempts_remaining": attempts_remaining,
        }


def _field(name: str, type_: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "label": label, **extra}


MFA = Challenge(
    "mfa",
    "Enter the 6-digit code sent to your phone",
    (_field("code", "string", "Verification code"),),
    120.0,
    lambda inputs: str(inputs.get("code", "")).strip() == MFA_CODE,
)

SECURITY_QUESTION = Challenge(
    "security_question",
    "What was the name of your first pet?",
    (_field("answer", "string", "Answer"),),
    300.0,
    lambda inputs: str(inputs.get("answer", "")).strip().lower() == SECURITY_ANSWER,
)

DEVICE_CONFIRMATION = Challenge(
    "device_confirmation",
    "Confirm this device to continue",
    (
        _field("device_name", "string", "Device name"),
        _field("pin", "number", "Account PIN"),
        _field("remember_device", "boolean", "Remember this device"),
        _field(
            "delivery",
            "string",
            "Where should we send alerts?",
            options=[{"value": "sms", "label": "Text message"}, {"value": "email", "label": "Email"}],
        ),
        _field("passphrase", "string", "Passphrase", secret=True),
        _field("birth_date", "date", "Date of birth", required=False),
    ),
    300.0,
    lambda inputs: inputs.get("pin") == 123456,
)


def account_selection(accounts: list[dict[str, str]]) -> Challenge:
    options = [{"value": a["id"], "label": a["label"]} for a in accounts]
    values = {a["id"] for a in accounts}
    return Challenge(
        "account_selection",
        "Select an account",
        (_field("account_id", "string", "Account", options=options),),
        300.0,
        lambda inputs: inputs.get("account_id") in values,
    )


@dataclass(frozen=True)
class TaskSpec:
    id: str
    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    bounds: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # name -> (lo, hi, default)
    positive: tuple[str, ...] = ()  # required inputs that must be a number > 0
    review: bool = False  # in Deck's current API the run waits in `review_required` before completing


@dataclass(frozen=True)
class SourceSpec:
    id: str
    name: str
    website: str
    category: str
    login: tuple[Challenge, ...]
    runs_prompt: str | None  # "account_selection", "mfa" or None


SOURCES: dict[str, SourceSpec] = {
    s.id: s
    for s in (
        SourceSpec("src_sim_power", "Acme Power", "https://power.example", "utility", (MFA,), None),
        SourceSpec(
            "src_sim_bank",
            "Riverside Bank",
            "https://bank.example",
            "bank",
            (MFA, SECURITY_QUESTION),
            "account_selection",
        ),
        SourceSpec("src_sim_mobile", "Cloud Mobile", "https://mobile.example", "phone_carrier", (), "mfa"),
        SourceSpec("src_sim_novel", "Novel Auth Co", "https://novel.example", "utility", (DEVICE_CONFIRMATION,), None),
    )
}


def _int_schema(lo: int, hi: int, default: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": lo, "maximum": hi, "default": default}


TASKS: dict[str, TaskSpec] = {
    t.id: t
    for t in (
        TaskSpec(
            "task_sim_bills",
            "Fetch bills",
            "Download the most recent bills from the account.",
            {"type": "object", "properties": {"months": _int_schema(1, 24, 12)}},
            {"type": "object", "properties": {"bills": {"type": "array"}}},
            {"months": (1, 24, 12)},
        ),
        TaskSpec(
            "task_sim_statements",
            "Fetch statements",
            "Download the transactions of the chosen account.",
            {"type": "object", "properties": {}},
            {"type": "object", "properties": {"account_id": {"type": "string"}, "transactions": {"type": "array"}}},
        ),
        TaskSpec(
            "task_sim_usage",
            "Fetch usage",
            "Download daily usage.",
            {"type": "object", "properties": {"days": _int_schema(1, 90, 30)}},
            {"type": "object", "properties": {"usage": {"type": "array"}}},
            {"days": (1, 90, 30)},
        ),
        TaskSpec(
            "task_sim_pay_bill",
            "Pay a bill",
            "Pay the amount given; through Deck's current API a person approves the payment first.",
            {
                "type": "object",
                "properties": {"amount": {"type": "number", "exclusiveMinimum": 0}},
                "required": ["amount"],
            },
            {"type": "object", "properties": {"confirmation": {"type": "string"}, "amount": {"type": "number"}}},
            positive=("amount",),
            review=True,
        ),
    )
}


def source_object(spec: SourceSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "object": "source",
        "name": spec.name,
        "website": spec.website,
        "category": spec.category,
        "auth_methods": ["username_password"],
        "created_at": CATALOG_TIMESTAMP,
        "updated_at": CATALOG_TIMESTAMP,
    }


def task_object(spec: TaskSpec) -> dict[str, Any]:
    return {
        "id": spec.id,
        "object": "task",
        "name": spec.name,
        "description": spec.description,
        "input_schema": spec.input_schema,
        "output_schema": spec.output_schema,
        "created_at": CATALOG_TIMESTAMP,
        "updated_at": CATALOG_TIMESTAMP,
    }
