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


class AnswerLoop(DeckError):
    """A headless responder was stopped: the source kept asking after its answers were accepted."""


class JobInterrupted(DeckError):
    """Interrupt stopped a job in a notebook; ``await job`` (or ``job.wait()``) resumes it on the
    same connection or run. Shown as one line, not a traceback."""

    def __init__(self, message: str, job: object = None) -> None:
        super().__init__(message)
        self.job = job
        if job is not None:
            STOPPED.append(job)  # ``dn.resume()``: the cell's ``x = await ...`` never bound x
            del STOPPED[:-1]

    def _render_traceback_(self) -> list[str]:  # IPython's hook: one short block instead of a traceback
        return [f"{type(self).__name__}: {self}"]


STOPPED: list[object] = []  # the job an Interrupt stopped last


class JobPending(DeckError):
    """``job.result`` of a job that has not finished (a form still waits for a person)."""
