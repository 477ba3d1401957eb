"""What a job saw: one record per prompt shown (never the values sent), each judged accepted,
rejected or expired by ``history.outcomes.settle`` as later states arrive."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deck_nb.history import outcomes


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class InteractionRecord:
    """One prompt the job saw: what was asked, when, and how the answer turned out (no values)."""

    type: str
    message: str | None
    field_names: list[str]
    attempts_remaining: int | None
    shown_at: datetime
    answered_at: datetime | None = None
    outcome: str = outcomes.PENDING
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def record(records: list[InteractionRecord], obj: Any) -> bool:
    """Judge the last pending record by the new state ``obj``, and add a record when ``obj`` shows a
    new prompt. Returns whether ``obj`` is waiting for input."""
    interaction = getattr(obj, "interaction", None)  # a credential has none
    raw = interaction.model_dump(mode="json") if interaction is not None else None
    prompting = obj.status == "interaction_required" and raw is not None
    last = records[-1] if records else None
    if last is not None and last.outcome == outcomes.PENDING:
        last.outcome = outcomes.settle(last.raw, last.answered_at is not None, obj.to_dict()) or outcomes.PENDING
    if prompting and (last is None or last.raw != raw or last.outcome != outcomes.PENDING):
        records.append(
            InteractionRecord(
                interaction.type,
                interaction.message,
                interaction.field_names,
                interaction.attempts_remaining,
                utc_now(),
                raw=raw,
            )
        )
    return prompting
