"""The DeckError tree: mapped from Deck's error ``code`` first and the HTTP status second.

Errors carry plain data only (no request, response or headers), so they pickle, and they can never
contain the API key or a submitted secret.
"""

from __future__ import annotations

from typing import Any


class DeckError(Exception):
    """Base of every error deck_nb raises."""

    def _render_traceback_(self) -> list[str]:
        """IPython's hook: a short block (message, code, request id, what to do) instead of the whole
        traceback; ``%tb verbose`` shows the full one."""
        from ._explain import render

        return render(self)

    def __reduce__(self):
        return (_rebuild, (type(self), self.__dict__.copy(), self.args))


def _rebuild(cls: type, state: dict[str, Any], args: tuple) -> DeckError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class APIError(DeckError):
    """An answer from Deck that is an error, or no usable answer at all."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        type: str | None = None,
        code: str | None = None,
        field: str | None = None,
        request_id: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.type = type
        self.code = code
        self.field = field
        self.request_id = request_id
        self.errors = errors or []
        self.method = method
        self.path = path

    def __str__(self) -> str:
        parts = [self.message]
        tags = [t for t in (f"{self.type}/{self.code}" if self.code else None, self.request_id) if t]
        if self.field:
            tags.insert(1, f"field {self.field}")
        if self.status_code:
            tags.insert(0, f"HTTP {self.status_code}")
        if tags:
            parts.append(f"({', '.join(tags)})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status_code}, {self.type!r}, {self.code!r}, field={self.field!r})"


class APIStatusError(APIError):
    """Deck answered with an error status."""


class BadRequestError(APIStatusError):
    """400: the request was refused as it stands (see ``code`` and ``field``)."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such resource (or, for a whole path, an API this server does not serve)."""


class RequestTimeoutError(APIStatusError):
    """408: Deck gave up waiting (e.g. an interaction window that closed)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's state; retried."""


class RateLimitError(APIStatusError):
    """429: the organization's 200 requests / 10 s were used up."""

    retry_after: float | None = None


class SessionLimitExceeded(RateLimitError):
    """429 ``session_limit_exceeded`` (current API): too many sessions open at once. Retried like any
    429 under the same idempotency key; a batch should treat it as back-pressure and reuse sessions."""


class InternalServerError(APIStatusError):
    """5xx: Deck failed; retried with backoff."""


class ServiceUnavailableError(InternalServerError):
    """503: Deck is unavailable for now; retried."""


class GatewayTimeoutError(InternalServerError):
    """504: a gateway timed out; retried."""


# Code-first classes: what a caller usually wants to catch.
class InteractionNotRequired(BadRequestError):
    """The connection or run is not waiting for input (already answered, canceled, disconnected)."""


class InteractionInputInvalid(BadRequestError):
    """A field was missing, unknown or of the wrong type; ``.field`` names it."""


class InteractionTimeout(RequestTimeoutError):
    """The interaction window closed: open a new connection or submit a new run."""


class InputInvalid(BadRequestError):
    """``input_invalid``: a value in the request is wrong (``field`` names it)."""


class InputMissing(BadRequestError):
    """``input_missing``: a required value is missing (``field`` names it)."""


class CursorInvalid(BadRequestError):
    """``cursor_invalid``: a saved page cursor is no longer valid; list again from the start."""


class ConnectionNotConnected(BadRequestError):
    """A run needs a ``connected`` connection."""


class TaskRunNotCancelable(BadRequestError):
    """``task_run_not_cancelable``: the run has finished or is already cancelling."""


class IdempotencyKeyError(BadRequestError):
    """``idempotency_key_error``: the Idempotency-Key header is malformed."""


class IdempotencyConflict(ConflictError):
    """The same Idempotency-Key was used with different parameters."""


class AuthInvalid(APIStatusError):
    """The source rejected the credentials or locked the account."""


class SourceNotFound(NotFoundError):
    """``source_not_found``: no source with that id."""


class APIConnectionError(APIError):
    """No answer: the connection failed or was dropped."""


class APITimeoutError(APIConnectionError):
    """No answer in time."""


class APIResponseValidationError(APIError):
    """Deck answered, but not with something deck_nb can read."""


class ResponseTooLargeError(APIResponseValidationError):
    """The response body was over the client's ``max_response_bytes`` cap; it was not read whole."""


class InvalidRequestError(DeckError, ValueError):
    """deck_nb refused to send a request that cannot be a valid URL or body (e.g. an id too long)."""


class WaitTimeout(DeckError, TimeoutError):
    """A wait for a status ended before the resource got there."""


class WebhookVerificationError(DeckError):
    """A webhook delivery failed signature, timestamp or format checks."""


class WebhookPayloadError(WebhookVerificationError):
    """A validly signed delivery whose body is not a Deck event (or is over the size limit)."""


RateLimited = RateLimitError
NotFound = NotFoundError

CODE_CLASSES: dict[str, type[APIStatusError]] = {
    "interaction_not_required": InteractionNotRequired,
    "interaction_input_invalid": InteractionInputInvalid,
    "interaction_timeout": InteractionTimeout,
    "mfa_timeout": InteractionTimeout,  # the older spelling on some of Deck's pages
    "input_invalid": InputInvalid,
    "input_missing": InputMissing,
    "cursor_invalid": CursorInvalid,
    "connection_not_connected": ConnectionNotConnected,
    "task_run_not_cancelable": TaskRunNotCancelable,
    "idempotency_key_error": IdempotencyKeyError,
    "idempotency_error": IdempotencyConflict,
    "auth_invalid": AuthInvalid,
    "rate_limit_exceeded": RateLimitError,
    "session_limit_exceeded": SessionLimitExceeded,
    "api_key_invalid": AuthenticationError,
    "source_not_found": SourceNotFound,
}

STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    429: RateLimitError,
    503: ServiceUnavailableError,
    504: GatewayTimeoutError,
}


def error_class(status: int, code: str | None) -> type[APIStatusError]:
    if code in CODE_CLASSES:
        return CODE_CLASSES[code]
    if code and code.endswith("_not_found"):
        return NotFoundError
    if status in STATUS_CLASSES:
        return STATUS_CLASSES[status]
    return InternalServerError if status >= 500 else APIStatusError


__all__ = [name for name, value in list(globals().items()) if isinstance(value, type) and issubclass(value, DeckError)]
