"""A response as the typed error it means: an error status as the class its status and code name,
its message and details with every secret the call carried redacted (a server must never get to
echo a key or a submitted code into an error we keep) and ``Retry-After`` read; a body deck_nb
cannot read as ``APIResponseValidationError``."""

from __future__ import annotations

from typing import Any

import httpx

from . import _errors as errors
from ._call import Call

MIN_REDACTED_CHARS = 3  # shorter values ("1", "no") are masked by nothing: too common to find


def status_error(
    call: Call, response: httpx.Response, body: Any, request_id: str | None, secrets: list[str]
) -> errors.DeckError:
    details = body.get("errors") if isinstance(body, dict) else None
    first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
    code = first.get("code") if isinstance(first.get("code"), str) else None
    message = first.get("message") if isinstance(first.get("message"), str) else None
    if message is None:
        message = f"{call.describe()} failed with HTTP {response.status_code}"
    message = redact(message, secrets)
    if isinstance(details, list):
        details = [
            {**d, "message": redact(d["message"], secrets)} if isinstance(d.get("message"), str) else d
            for d in details
            if isinstance(d, dict)
        ]
    cls = errors.error_class(response.status_code, code)
    error = cls(
        message,
        status_code=response.status_code,
        type=first.get("type") if isinstance(first.get("type"), str) else None,
        code=code,
        field=first.get("field") if isinstance(first.get("field"), str) else None,
        request_id=request_id,
        errors=[d for d in details if isinstance(d, dict)] if isinstance(details, list) else [],
        method=call.method,
        path=call.path,
    )
    if isinstance(error, errors.RateLimitError):
        error.retry_after = retry_after(response.headers.get("retry-after"))
    return error


def secrets_in(call: Call, api_key: str | None) -> list[str]:
    """What a server must never get to echo into an error we keep: the API key and, for an answer,
    every value submitted (a source may quote the wrong code back: "got '000000'")."""
    secrets = [api_key] if api_key else []
    if call.submission and isinstance(call.body, dict):
        for answer in call.body.values():
            if isinstance(answer, dict):
                secrets += [
                    str(v) for v in answer.values() if isinstance(v, str | int | float) and not isinstance(v, bool)
                ]
    return [s for s in secrets if len(s) >= MIN_REDACTED_CHARS]


def unreadable(call: Call, response: httpx.Response, request_id: str | None, what: str):
    return errors.APIResponseValidationError(
        f"{call.describe()} answered {response.status_code} with {what}",
        status_code=response.status_code,
        request_id=request_id,
        method=call.method,
        path=call.path,
    )


def redact(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "•••")
    return text


def retry_after(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return seconds if 0 <= seconds <= 60 else None
