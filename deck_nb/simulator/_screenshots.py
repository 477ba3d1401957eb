"""What the agent saw: one small PNG with the agent's reasoning at each step a run takes.

Screenshots are read off the run's own events (every status change is one), so they need no
bookkeeping of their own and come out in order; a failed run's last one says why it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import _catalog as catalog
from ._models import TaskRun
from ._render import png

WIDTH, HEIGHT = 96, 60
ANSWERED = {
    "mfa": "Entered the MFA code",
    "security_question": "Answered the security question",
    "account_selection": "Selected the account",
    "device_confirmation": "Confirmed the device",
}
ASKED = {
    "mfa": "The portal asked for a verification code",
    "security_question": "The portal asked a security question",
    "account_selection": "The portal asked which account to use",
    "device_confirmation": "The portal asked to confirm this device",
}


@dataclass(frozen=True)
class Screenshot:
    id: str
    run_id: str
    number: int
    created: float
    created_at: str
    reasoning: str
    seed: str

    @property
    def file_name(self) -> str:
        return f"screenshot_{self.number:03d}.png"

    def image(self) -> bytes:
        return png(WIDTH, HEIGHT, self.seed)

    def public(self, url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "screenshot",
            "file_name": self.file_name,
            "file_type": "image/png",
            "file_size": len(self.image()),
            "created_at": self.created_at,
            "url": url,
            "reasoning": self.reasoning,
            "task_run_id": self.run_id,
        }


def screenshot_id(run_id: str, number: int) -> str:
    return f"scr_{number}_{run_id.removeprefix('trun_')}"


def parse_id(id_: str) -> tuple[str, int] | None:
    parts = id_.split("_", 2)
    if len(parts) != 3 or parts[0] != "scr" or not parts[1].isdigit():
        return None
    return f"trun_{parts[2]}", int(parts[1])


def _reasoning(run: TaskRun, data: dict[str, Any], previous: dict[str, Any] | None, files: int) -> str | None:
    status = data["status"]
    source = catalog.SOURCES[run.source_id].name
    if status == "running":
        asked = (previous or {}).get("interaction") or {}
        if previous is not None and previous["status"] == "interaction_required":
            return ANSWERED.get(asked.get("type", ""), "Answered the portal's question")
        return "Opened the login page" if run.logs_in else f"Opened {source}, already logged in"
    if status == "interaction_required":
        interaction = data.get("interaction") or {}
        if str(interaction.get("message", "")).startswith("That answer was not accepted"):
            return "The portal did not accept the answer and asked again"
        return ASKED.get(interaction.get("type", ""), f"The portal asked: {interaction.get('message', '')}")
    if status == "review_required":
        return "Waiting for a person to approve the payment"
    if status == "completed":
        if run.task_id == "task_sim_pay_bill":
            return "Submitted the payment and read the confirmation"
        return f"Downloaded {files} new file{'s' if files != 1 else ''}" if files else "Found no new files to download"
    if status == "failed":
        error = (data.get("errors") or [{}])[0]
        return f"Stopped: {error.get('message', 'the run failed')} ({error.get('code', 'unknown')})"
    if status == "canceled":
        return "Stopped: the run was canceled"
    return None


def screenshots(run: TaskRun, events: list[dict[str, Any]], files: int) -> list[Screenshot]:
    """The run's screenshots, oldest first."""
    shots: list[Screenshot] = []
    previous = None
    for event in events:
        data = event["data"]
        if not event["type"].startswith("task_run.") or data.get("id") != run.id:
            continue
        reasoning = _reasoning(run, data, previous, files)
        previous = data
        if reasoning is None:
            continue
        number = len(shots) + 1
        seed = f"{run.task_id}:{run.source_id}:{number}:{reasoning}"
        created = event["_micros"] / 1e6
        shots.append(
            Screenshot(screenshot_id(run.id, number), run.id, number, created, event["created_at"], reasoning, seed)
        )
    return shots
