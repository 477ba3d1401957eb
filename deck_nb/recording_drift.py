"""``deck-nb recording check FILE``: a recording read against today's client models, so an analyst
sees when Deck moved under an old recording — fields the models do not know, statuses the client
has no meaning for, fields the client shows that the answers no longer carry, objects that no
longer fit. A report, not a verdict: the models are permissive and replay still works.

Above both the recording package and the client (it imports the two; neither imports it).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from deck_nb.client import _models as models
from deck_nb.recording import load

ID = re.compile(r"^[a-z]+_[A-Za-z0-9_]+$")
ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"/tasks/\{id\}/run$"), "TaskRun"),
    (re.compile(r"/task-runs(/\{id\}(/(cancel|interaction))?)?$"), "TaskRun"),
    (re.compile(r"/connections(/\{id\}(/(interaction|disconnect))?)?$"), "Connection"),
    (re.compile(r"/credentials(/\{id\})?$"), "Credential"),
    (re.compile(r"/sessions/\{id\}(/end)?$"), "Session"),
    (re.compile(r"/sources(/\{id\})?$"), "Source"),
    (re.compile(r"/tasks(/\{id\})?$"), "Task"),
    (re.compile(r"/events(/\{id\})?$"), "Event"),
    (re.compile(r"/event-destinations(/\{id\})?$"), "EventDestination"),
]
# Statuses the client gives a meaning to: each model's terminal ones, the two that settle a wait
# (``is_settled``), and the in-flight ones the lifecycles pass through (docs: deck-api lifecycles).
IN_FLIGHT = {
    "TaskRun": {"queued", "running", "interaction_required", models.TaskRun.REVIEW, "cancelling"},
    "Connection": {"connecting", "interaction_required"},
    "Credential": {"unverified", "verified", "invalid", "deleted"},
    "Session": {"queued", "running", "idle", "completing", "active"},
}
PAGE_KEYS = {"data", "has_more", "next_cursor", "request_id", "object", "url"}


@dataclass
class Drift:
    """What one model met in the recording."""

    objects: int = 0
    unknown_fields: Counter = field(default_factory=Counter)
    unknown_statuses: Counter = field(default_factory=Counter)
    missing_fields: Counter = field(default_factory=Counter)
    unfit: list[str] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        """Unknown fields are listed but tolerated (the models keep them); the rest changes behaviour."""
        return bool(self.unknown_statuses or self.missing_fields or self.unfit)


def template(path: str) -> str:
    return "/".join("{id}" if ID.match(part) else part for part in path.split("/"))


def model_for(path: str) -> str | None:
    shape = template(path)
    return next((name for pattern, name in ROUTES if pattern.search(shape)), None)


def check(path: str) -> tuple[dict[str, Any], dict[str, Drift]]:
    """The recording's header and, per model, what does not match today's models."""
    header, entries = load(path)
    found: dict[str, Drift] = {}
    for entry in entries:
        body = entry.get("response", {}).get("json")
        status = entry.get("response", {}).get("status", 0)
        name = model_for(entry["path"])
        if name is None or not isinstance(body, dict) or status >= 400:
            continue
        items = body["data"] if isinstance(body.get("data"), list) and "id" not in body else [body]
        for item in items:
            if isinstance(item, dict):
                _check_object(found.setdefault(name, Drift()), name, item, entry["n"] + 2)
    return header, found


def _check_object(drift: Drift, name: str, obj: dict[str, Any], line: int) -> None:
    model = getattr(models, name)
    drift.objects += 1
    known = set(model.model_fields) | {f.alias for f in model.model_fields.values() if f.alias}
    for key in obj:
        if key not in known and key != "request_id":
            drift.unknown_fields[key] += 1
    shown = set(model.REPR_FIELDS or ())  # what the client shows (one with an empty default may be left out)
    for key, spec in model.model_fields.items():
        if key not in obj and (spec.is_required() or (key in shown and spec.default in (None, "unknown"))):
            drift.missing_fields[key] += 1
    status = obj.get("status")
    if isinstance(status, str) and "status" in model.model_fields:
        meaningful = set(getattr(model, "TERMINAL", ())) | IN_FLIGHT.get(name, set()) | {"canceling"}
        if status not in meaningful:
            drift.unknown_statuses[status] += 1
    try:
        model.model_validate(obj)
    except Exception as exc:  # pydantic's ValidationError: the object no longer fits
        drift.unfit.append(f"line {line}: {str(exc).splitlines()[0]}")


def report(path: str) -> tuple[str, bool]:
    """The report's text, and whether anything moved."""
    header, found = check(path)
    lines = [f"{path}: recorded {header.get('recorded_at', '?')} by deck_nb {header.get('deck_nb', '?')}"]
    moved = False
    for name, drift in sorted(found.items()):
        lines.append(f"  {name}: {drift.objects} object{'s' if drift.objects != 1 else ''}")
        for label, counts in (
            ("unknown fields (kept, not read by the client)", drift.unknown_fields),
            ("unknown statuses", drift.unknown_statuses),
            ("missing fields", drift.missing_fields),
        ):
            if counts:
                lines.append(f"    {label}: " + ", ".join(f"{k} ({n}×)" for k, n in counts.most_common()))
        lines += [f"    does not fit: {text}" for text in drift.unfit[:5]]
        moved = moved or drift.moved
    lines.append(
        "drift found: statuses or fields this client relies on changed" if moved else "no drift the client relies on"
    )
    return "\n".join(lines), moved
