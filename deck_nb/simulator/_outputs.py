"""What a simulated task run returns, and the accounts a user holds: pure functions of task, source,
username, input and chosen account, never of ids or the clock, so notebooks can assert on them
across restarts."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import date, timedelta
from typing import Any

OUTPUT_ANCHOR = date(2026, 10, 1)


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
