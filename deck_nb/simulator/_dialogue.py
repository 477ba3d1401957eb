"""The one piece of interaction logic both APIs share: prompts, attempts, windows and verdicts.

A connection's login (seed API), a run's login (current API) and a run's own prompts all go
through these methods; only what happens after a verdict differs, and that is the caller's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _catalog as catalog
from ._errors import ApiError
from ._interactions import validate_inputs
from ._models import Prompt, iso
from ._state import WorldCore

ACCEPTED, RETRY, LOCKED = "accepted", "retry", "locked"


class Dialogue(WorldCore):
    @staticmethod
    def _prompt(challenge: catalog.Challenge, username: str, *, at_login: bool = False) -> Prompt:
        """A fresh prompt: 3 attempts, or 1 for the user whose first wrong answer locks the account."""
        attempts = 1 if username == catalog.LOCKED_USERNAME else catalog.ATTEMPTS_PER_PROMPT
        return Prompt(challenge, attempts, at_login=at_login)

    def _ask(self, resource: Any, prompt: Prompt, on_timeout: Callable[[], None]) -> None:
        """Put ``prompt`` to the user, opening its window; ``on_timeout`` fires if nobody answers."""
        window = self.clock.scaled(prompt.challenge.window_s)
        expires_at = iso(self.clock.now() + window)
        resource.prompt = prompt
        resource.interaction = prompt.challenge.interaction(prompt.attempts, prompt.retry, expires_at)
        resource.window = self.clock.call_later(window, on_timeout)
        self._set_status(resource, "interaction_required")

    def _check_submission(self, resource: Any, inputs: Any, body_key: str = "inputs") -> Prompt:
        """Refuse an answer that comes too late, when none is asked, or that does not fit the fields."""
        if resource.timed_out:
            raise ApiError(
                408, "interaction", "interaction_timeout", "The interaction window closed before an answer arrived."
            )
        shown = resource.shown_interaction()
        if resource.status != "interaction_required" or shown is None or resource.prompt is None:
            noun = resource.kind.replace("_", " ")
            raise ApiError(
                400,
                "interaction",
                "interaction_not_required",
                f"This {noun} is not waiting for input (status `{resource.status}`).",
            )
        validate_inputs(shown, inputs, body_key)
        return resource.prompt

    def _take_answer(self, resource: Any, inputs: Any, resumed: str, body_key: str = "inputs") -> Prompt:
        """Accept one answer: close the window and resume (``connecting``/``running``) before replying."""
        prompt = self._check_submission(resource, inputs, body_key)
        self._stop_timers(resource)
        resource.interaction = None
        self._set_status(resource, resumed)
        return prompt

    @staticmethod
    def _judge(prompt: Prompt, inputs: dict[str, Any], username: str) -> str:
        """``accepted``, ``retry`` (prompt again, one attempt fewer) or ``locked``."""
        if prompt.challenge.accepts(inputs):
            return ACCEPTED
        if username == catalog.LOCKED_USERNAME or prompt.attempts <= 1:
            return LOCKED
        prompt.attempts -= 1
        prompt.retry = True
        return RETRY
