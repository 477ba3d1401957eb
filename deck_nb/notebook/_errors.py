"""The notebook layer's typed errors (all ``DeckError``)."""

from __future__ import annotations

from deck_nb.client import DeckError, ErrorDetail


class JobFailed(DeckError):
    """A job ended in a failure status; ``.errors`` has Deck's error details."""

    def __init__(self, message: str, errors: list[ErrorDetail]) -> None:
        super().__init__(message)
        self.errors = errors


class NeedsAwait(DeckError, RuntimeError):
    """A synchronous wait cannot receive widget clicks inside a running kernel."""
