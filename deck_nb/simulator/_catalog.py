"""What the simulated world contains: sources, tasks, the prompts they raise, and task outputs.

Everything here is data or a pure function: outputs depend only on task, source, username, input
and chosen account, never on ids or the clock, so notebooks can assert on them across restarts.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

CATALOG_TIMESTAMP = "2026-01-01T00:00:00Z"
MFA_CODE = "123456"
SECURITY_ANSWER = "rex"
BAD_PASSWORD = "pass_bad"
LOCKED_USERNAME = "user_locked"
ATTEMPTS_PER_PROMPT = 3
OUTPUT_ANCHOR = date(2026, 10, 1)

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


def _rng(*parts: Any) -> random.Random:
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def accounts_for(username: str) -> list[dict[str, str]]:
    """The three accounts a Riverside Bank user holds (a pure function of the username)."""
    rng = _rng("accounts", username)
    kinds = [("chk", "Checking"), ("sav", "Savings"), ("crd", "Credit card")]
    accounts = []
    for short, label in kinds:
        last4 = f"{rng.randrange(10000):04d}"
        accounts.append({"id": f"acct_{short}_{last4}", "label": f"{label} ••{last4}"})
    return accounts


def account_number(source_id: str, username: str) -> str:
    return f"{_rng('account_number', source_id, username).randrange(10**9, 10**10)}"


def _month_back(anchor: date, months: int) -> date:
    year, month = divmod(anchor.year * 12 + anchor.month - 1 - months, 12)
    return date(year, month + 1, 28)


def task_output(
    task_id: str, source_id: str, username: str, inputs: dict[str, Any], account_id: str | None
) -> dict[str, Any]:
    """The data a task run returns: deterministic in its arguments."""
    rng = _rng(task_id, source_id, username, inputs, account_id)
    if task_id == "task_sim_bills":
        number = account_number(source_id, username)
        bills = []
        for i in range(inputs["months"]):
            usage = rng.randint(280, 1100)
            bills.append(
                {
                    "statement_date": _month_back(OUTPUT_ANCHOR, i).isoformat(),
                    "amount_due": round(12.5 + usage * 0.1425, 2),
                    "currency": "USD",
                    "usage_kwh": usage,
                    "account_number": number,
                }
            )
        return {"bills": bills}
    if task_id == "task_sim_statements":
        account = account_id or f"acct_main_{account_number(source_id, username)[-4:]}"
        merchants = ["Grocer", "Fuel Stop", "Coffee Bar", "Bookshop", "Pharmacy", "Hardware"]
        balance = round(rng.uniform(2500, 6000), 2)
        rows = []
        for i in range(20):
            day = OUTPUT_ANCHOR - timedelta(days=2 * i)
            if i % 7 == 3:
                description, amount = "Salary", round(rng.uniform(2500, 4200), 2)
            elif i % 15 == 1:
                description, amount = "Rent", -1450.0
            else:
                description, amount = rng.choice(merchants), -round(rng.uniform(3, 180), 2)
            rows.append(
                {
                    "date": day.isoformat(),
                    "description": description,
                    "amount": amount,
                    "currency": "USD",
                    "balance": balance,
                }
            )
            balance = round(balance - amount, 2)  # walking back in time
        return {"account_id": account, "transactions": rows}
    if task_id == "task_sim_usage":
        unit = {"src_sim_mobile": "MB", "src_sim_bank": "transactions"}.get(source_id, "kWh")
        hi = {"MB": 2500, "transactions": 12}.get(unit, 40)
        usage = [
            {
                "date": (OUTPUT_ANCHOR - timedelta(days=i)).isoformat(),
                "quantity": round(rng.uniform(0, hi), 1) if unit != "transactions" else rng.randint(0, hi),
                "unit": unit,
            }
            for i in range(inputs["days"])
        ]
        return {"usage": usage}
    if task_id == "task_sim_pay_bill":
        return {"confirmation": f"PAY-{rng.getrandbits(32):08x}", "amount": inputs["amount"]}
    raise KeyError(task_id)
