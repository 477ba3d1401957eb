"""What each task stores: its storage config (as ``GET /v2/tasks/{id}`` shows it) and the files a
completed run captures, with their extractions.

Pure functions of the task, source, username, input and account (through the run's output, which is
one already): the same run gives the same bytes and the same extraction, across restarts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from . import _catalog as catalog
from ._render import Pdf, padded_text

DATE = {"type": "string", "format": "date"}
MONEY = {"type": "number"}
TEXT = {"type": "string"}


def _schema(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties)}


BILL_SCHEMA = _schema(
    {
        "account_number": TEXT,
        "billing_period_start": DATE,
        "billing_period_end": DATE,
        "billing_date": DATE,
        "due_date": DATE,
        "total_due": MONEY,
        "currency": TEXT,
    }
)
STATEMENT_SCHEMA = _schema(
    {
        "account_id": TEXT,
        "statement_period_start": DATE,
        "statement_period_end": DATE,
        "opening_balance": MONEY,
        "closing_balance": MONEY,
        "transaction_count": {"type": "integer"},
        "currency": TEXT,
    }
)

STORAGE_CONFIG: dict[str, dict[str, Any]] = {
    "task_sim_bills": {
        "enabled": True,
        "extraction": True,
        "extraction_schema": BILL_SCHEMA,
        "extraction_prompt": "Read the account number, billing period, billing and due dates, total due and currency.",
        "deduplication": True,
        "deduplication_schema": _schema({"account_number": TEXT, "billing_period_start": DATE}),
    },
    "task_sim_statements": {
        "enabled": True,
        "extraction": True,
        "extraction_schema": STATEMENT_SCHEMA,
        "extraction_prompt": "Read the account, statement period, opening and closing balances and the currency.",
        "deduplication": True,
        "deduplication_schema": _schema({"account_id": TEXT, "statement_period_start": DATE}),
    },
    "task_sim_usage": {
        "enabled": True,
        "extraction": False,
        "extraction_schema": None,
        "extraction_prompt": None,
        "deduplication": False,
        "deduplication_schema": None,
    },
}

# The count each task's output names beside what it holds (Deck's own example: ``bill_count``).
COUNT_FIELD = {"task_sim_bills": "bill_count", "task_sim_statements": "statement_count", "task_sim_usage": "file_count"}


def storage_config(task_id: str) -> dict[str, Any] | None:
    config = STORAGE_CONFIG.get(task_id)
    return None if config is None else {k: (dict(v) if isinstance(v, dict) else v) for k, v in config.items()}


@dataclass(frozen=True)
class Capture:
    """One file a run captured: its name, type, extraction (if any) and how to write its bytes."""

    file_name: str
    file_type: str
    extraction: dict[str, Any] | None
    lines: tuple[str, ...] = ()  # a PDF's text
    text: bytes = b""  # a CSV's bytes
    seed: str = ""

    def dedup_key(self, fields: list[str] | None) -> tuple[Any, ...]:
        if fields and self.extraction is not None:
            return tuple(self.extraction.get(f) for f in fields)
        return (self.file_name, self.lines, self.text)

    def body(self, size: int | None = None) -> tuple[int, Iterator[bytes]]:
        """The file's size and its bytes in chunks; ``size`` pads it to that many bytes."""
        if self.file_type == "application/pdf":
            pdf = Pdf(list(self.lines), size, self.seed)
            return pdf.size, pdf.chunks()
        return padded_text(self.text, size)


def _bill(source: catalog.SourceSpec, bill: dict[str, Any]) -> Capture:
    billed = date.fromisoformat(bill["statement_date"])
    end = billed - timedelta(days=3)
    start = (end.replace(day=1) - timedelta(days=1)).replace(day=end.day) + timedelta(days=1)
    extraction = {
        "account_number": bill["account_number"],
        "billing_period_start": start.isoformat(),
        "billing_period_end": end.isoformat(),
        "billing_date": billed.isoformat(),
        "due_date": (billed + timedelta(days=21)).isoformat(),
        "total_due": bill["amount_due"],
        "currency": bill["currency"],
    }
    lines = (
        f"{source.name} - Electricity bill",
        f"Account number: {extraction['account_number']}",
        f"Billing period: {extraction['billing_period_start']} to {extraction['billing_period_end']}",
        f"Billing date: {extraction['billing_date']}",
        f"Usage: {bill['usage_kwh']} kWh",
        f"Due date: {extraction['due_date']}",
        f"Total due: {bill['amount_due']:.2f} {bill['currency']}",
    )
    name = f"bill_{billed.strftime('%Y-%m')}.pdf"
    return Capture(name, "application/pdf", extraction, lines, seed=f"{source.id}:{name}")


def _statements(source: catalog.SourceSpec, output: dict[str, Any]) -> list[Capture]:
    months: dict[str, list[dict[str, Any]]] = {}
    for row in reversed(output["transactions"]):  # oldest first
        months.setdefault(row["date"][:7], []).append(row)
    captures = []
    for month, rows in months.items():
        first = date.fromisoformat(month + "-01")
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        opening = round(rows[0]["balance"] - rows[0]["amount"], 2)
        closing = rows[-1]["balance"]
        extraction = {
            "account_id": output["account_id"],
            "statement_period_start": first.isoformat(),
            "statement_period_end": last.isoformat(),
            "opening_balance": opening,
            "closing_balance": closing,
            "transaction_count": len(rows),
            "currency": rows[0]["currency"],
        }
        lines = [
            f"{source.name} - Account statement",
            f"Account: {output['account_id']}",
            f"Period: {first.isoformat()} to {last.isoformat()}",
            f"Opening balance: {opening:.2f} USD",
        ]
        lines += [f"{r['date']}  {r['description']}  {r['amount']:.2f}" for r in rows]
        lines.append(f"Closing balance: {closing:.2f} USD")
        name = f"statement_{month}.pdf"
        captures.append(Capture(name, "application/pdf", extraction, tuple(lines), seed=f"{source.id}:{name}"))
    return list(reversed(captures))  # newest first, like the output


def _usage_csv(output: dict[str, Any]) -> Capture:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["date", "quantity", "unit"])
    for row in output["usage"]:
        writer.writerow([row["date"], row["quantity"], row["unit"]])
    dates = [row["date"] for row in output["usage"]]
    name = f"usage_{min(dates)}_{max(dates)}.csv"
    return Capture(name, "text/csv", None, text=buffer.getvalue().encode())


def captures(task_id: str, source_id: str, output: dict[str, Any]) -> list[Capture]:
    """The files a completed run captures (before deduplication), in the order the agent found them."""
    source = catalog.SOURCES[source_id]
    if task_id == "task_sim_bills":
        return [_bill(source, bill) for bill in output["bills"]]
    if task_id == "task_sim_statements":
        return _statements(source, output)
    if task_id == "task_sim_usage":
        return [_usage_csv(output)]
    return []
