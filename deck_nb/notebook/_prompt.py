"""What every responder shares: the prompt it is given, the base class, and where we run. Both
``responders`` and ``widget_responder`` import this module, so neither imports the other's code
at load time (and headless code never loads widgets)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from deck_nb.client import APIError, DeckError, Interaction


class NoAnswer(DeckError):
    """A responder had nothing to answer a required field with (no value is ever shown)."""


@dataclass
class Prompt:
    """One request for input, as a responder sees it."""

    kind: str  # "connection" or "task_run"
    resource_id: str
    interaction: Interaction
    title: str = ""
    error: APIError | None = None  # the server refused the previous answer to this same prompt
    view: Any = field(default=None, repr=False)  # the job's widget view, when there is one


class Responder:
    """Who answers a job's interactions. Subclass and implement ``answer``; it may return the
    inputs or an awaitable of them (then the job must be awaited)."""

    needs_await = False  # True for responders that wait on a person through widgets

    def answer(self, prompt: Prompt) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        """The inputs for ``prompt.interaction``, keyed by field name."""
        raise NotImplementedError

    def closed(self, prompt: Prompt, note: str) -> None:
        """The prompt ended without this responder's answer (expired, or answered elsewhere)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def in_kernel() -> bool:
    """Whether we run inside a Jupyter kernel (where forms can be shown and answered)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except Exception:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


ENV_SWITCH = "DECK_NB_RESPONDER"
REPLAY_SWITCH = "DECK_NB_REPLAY"


def nobody_can_answer(prompt: Prompt, why: str = "") -> str:
    """What was asked, why nobody can answer here, and every way to answer it (never a value)."""
    where = f": {why}" if why else ""
    subject = prompt.title.removesuffix(" needs input") if prompt.title else prompt.kind.replace("_", " ")
    if prompt.resource_id and prompt.resource_id not in subject:
        subject += f" {prompt.resource_id}"
    return (
        f"{subject} needs input ({prompt.interaction.type}: "
        f"{', '.join(prompt.interaction.field_names)}) but nobody can answer here{where}; pass respond=... "
        f"(a dict, a callable, a Responder), set {ENV_SWITCH} (e.g. {ENV_SWITCH}=simulator on the simulator), "
        f"or replay a recording with {REPLAY_SWITCH}"
    )
