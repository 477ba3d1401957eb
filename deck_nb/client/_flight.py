"""One call in flight: reading a response body within the call's deadline and size cap, and the
state a retried submission needs (so a lost answer is resent only to the prompt it was meant for)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, Protocol

import httpx

from deck_nb import _clock

from . import _errors as errors
from ._call import Call
from ._prompts import PromptMemory

log = logging.getLogger("deck_nb.client")


class FlightClient(Protocol):
    """What a call in flight reads of its client (``BaseClient`` in ``_core`` provides it): a protocol
    here, so the flight does not import the core that drives it."""

    max_response_bytes: int
    prompts: PromptMemory

    def _deadline_error(self, call: Call) -> errors.APITimeoutError: ...


class BodyReader:
    """Collects a response body chunk by chunk, within the size cap and the call's deadline: a server
    that trickles a byte every half second, or sends gigabytes, ends the call with a typed error."""

    def __init__(self, client: FlightClient, call: Call, response: httpx.Response, until: float) -> None:
        self.client, self.call, self.response, self.until = client, call, response, until
        self.cap = client.max_response_bytes
        self.chunks: list[bytes] = []
        self.size = 0
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.cap:
            raise self._too_large()

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)  # decoded bytes, so a compressed bomb is caught too
        if self.size > self.cap:
            raise self._too_large()
        if _clock.monotonic() > self.until:
            raise self.client._deadline_error(self.call)
        self.chunks.append(chunk)

    @property
    def content(self) -> bytes:
        return b"".join(self.chunks)

    def _too_large(self) -> errors.ResponseTooLargeError:
        return errors.ResponseTooLargeError(
            f"{self.call.describe()} answered with a body over the {_size(self.cap)} cap "
            "(raise it with max_response_bytes= if this is expected)",
            status_code=self.response.status_code,
            request_id=self.response.headers.get("x-request-id"),
            method=self.call.method,
            path=self.call.path,
        )


class CallState:
    """One call in flight: its absolute deadline, the error that ended the last attempt and, for a
    submission, the state of the prompt it answers (so a lost answer is resent only to that prompt)."""

    def __init__(self, client: FlightClient, call: Call, until: float) -> None:
        self.client, self.call, self.until = client, call, until
        self.last_error: BaseException | None = None
        self.answering = client.prompts.get(call.submission[1]) if call.submission else None

    @property
    def needs_prompt(self) -> bool:
        """A submission to a resource this client has not seen: read it first to know the prompt."""
        return self.call.submission is not None and self.answering is None

    def reading(self) -> Call:
        """The read of the resource a submission answers (its path without ``/interaction``)."""
        path = self.call.path.rsplit("/interaction", 1)[0]
        return replace(self.call, method="GET", path=path, body=None, idempotency_key=None, submission=None)

    def learn_prompt(self) -> None:
        assert self.call.submission is not None
        self.answering = self.client.prompts.get(self.call.submission[1]) or ("unknown",)

    @property
    def must_check(self) -> bool:
        """Before resending a submission whose answer may have landed (not one refused with 429)."""
        return (
            self.call.submission is not None
            and self.last_error is not None
            and not isinstance(self.last_error, errors.RateLimitError)
        )

    def delivered(self, fresh: Any) -> bool:
        """Whether the re-read shows the prompt answered (moved on): then the fresh object is the answer."""
        if fresh is None or self.call.submission is None:
            return False
        delivered = moved_on(self.answering, self.client.prompts.get(self.call.submission[1]))
        log.info(
            "%s lost its answer; the prompt %s",
            self.call.describe(),
            "moved on: counted as delivered" if delivered else "is still open: resending",
        )
        return delivered


def moved_on(answering: tuple | None, now: tuple | None) -> bool:
    """Delivered means: a different prompt is open where the one answered was — a resend would answer
    the next prompt. Anything else is resent with the same Idempotency-Key, as before: if the answer
    landed, the server replays its stored response (or refuses with interaction_not_required, which
    callers handle); if the client is unsure what it answered, resending is the safe side."""
    if now is None or answering is None or answering[0] != "interaction_required":
        return False
    return now[0] == "interaction_required" and now[2] != answering[2]  # the prompt, not the timestamp


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n} bytes"
