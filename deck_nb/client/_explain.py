"""Short errors in notebooks: a DeckError shows as one block (class, message, code, field, request id,
the call and what to do) through IPython's ``_render_traceback_`` hook, instead of ~80 lines of
tenacity and httpx frames that say nothing to an analyst.

The full traceback stays one command away: ``%tb verbose`` (for the last error) or ``%xmode verbose``
(for every error from then on); ``DECK_NB_TRACEBACK=full`` in the environment turns the short form off.
Only the error's own fields are shown — never a source line, which could hold a typed password.
"""

from __future__ import annotations

import os
import traceback
from typing import Any

# What to do, by Deck error code first, then by class (walking the class's MRO).
CODE_HINTS = {
    "interaction_timeout": "The window to answer closed: open a new connection or start a new run.",
    "interaction_not_required": "Nothing is waiting for input any more (answered elsewhere, canceled or "
    "expired): read the object's status before answering again.",
    "interaction_input_invalid": "Answer every field of the current interaction, with the field named above "
    "corrected; no attempt was used up.",
    "auth_invalid": "The source rejected the credentials or locked the account: check them with the account "
    "holder before trying again.",
    "connection_not_connected": "Connect first: a run needs a `connected` connection (await dn.connect(...)).",
    "api_key_invalid": "Check DECK_API_KEY (or api_key=): the key is missing, wrong or revoked.",
    "source_not_found": "Check the source id: deck.sources.list() shows the ones available.",
    "idempotency_error": "An Idempotency-Key was reused with different parameters: let deck_nb choose keys.",
    "task_run_not_cancelable": "The run has already finished: read its status and result instead.",
    "cursor_invalid": "The cursor is stale or from another list: list again from the start.",
}
CLASS_HINTS = {
    "ResponseTooLargeError": "The answer was over the size cap: pass max_response_bytes= to Deck(...) if "
    "answers this large are expected.",
    "APIResponseValidationError": "Deck's answer could not be read; quote the request id if you report it.",
    "APITimeoutError": "No answer in time: try again, or raise timeout= / deadline= on Deck(...) for a slow network.",
    "APIConnectionError": "No answer from Deck (deck_nb already retried): check the network and the base URL.",
    "RateLimitError": "The organization's 200 requests per 10 s are used up (deck_nb already waited and "
    "retried): slow down or try again in a few seconds.",
    "AuthenticationError": "Check DECK_API_KEY (or api_key=): the key is missing, wrong or revoked.",
    "PermissionDeniedError": "This API key may not do that: check the key's organization and permissions.",
    "NotFoundError": "Check the id: nothing with that id exists for this API key.",
    "InternalServerError": "Deck had a problem on its side (deck_nb already retried): try again later, and "
    "quote the request id to support.",
    "ConflictError": "Deck was busy with the same request: try again in a moment.",
    "BadRequestError": "Check the arguments: the message (and field) above name the problem.",
    "InvalidRequestError": "Check the argument named above; nothing was sent.",
    "WaitTimeout": "It did not get there in time: wait longer (timeout=) or look at the object's status.",
    "WebhookPayloadError": "The sender holds the secret but sent something that is not a Deck event.",
    "WebhookVerificationError": "Check the destination's secret and that the sender's clock is right.",
    "JobFailed": "The job ended in a failure status: `.errors` has Deck's details; fix the cause, then start "
    "a new one.",
    "NeedsAwait": "In a notebook, write `await job` (or pass respond=... for a headless answer).",
    "NoAnswer": "Answer it one of the ways the message names (a required field left empty counts as no answer).",
    "InteractionFormError": "Correct the field named above, then submit again.",
}
DEFAULT_HINT = "The message above names the problem."


def _code(error: BaseException) -> tuple[str | None, str | None]:
    """(type, code) of the error, or of the first of its ``errors`` (a failed job carries Deck's)."""
    code, kind = getattr(error, "code", None), getattr(error, "type", None)
    details = getattr(error, "errors", None)
    if not code and isinstance(details, list) and details:
        first = details[0]
        code = first.get("code") if isinstance(first, dict) else getattr(first, "code", None)
        kind = first.get("type") if isinstance(first, dict) else getattr(first, "type", None)
    return (kind if isinstance(kind, str) else None), (code if isinstance(code, str) else None)


def hint(error: BaseException) -> str:
    code = _code(error)[1]
    if isinstance(code, str) and code in CODE_HINTS:
        return CODE_HINTS[code]
    for cls in type(error).__mro__:
        if cls.__name__ in CLASS_HINTS:
            return CLASS_HINTS[cls.__name__]
    return DEFAULT_HINT


def short_block(error: BaseException) -> list[str]:
    """The lines IPython shows for a DeckError."""
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    red, bold, reset = "\x1b[0;31m", "\x1b[1m", "\x1b[0m"
    lines = [f"{red}{bold}{type(error).__name__}{reset}{red}: {message}{reset}"]
    facts = []
    kind, code = _code(error)
    if code:
        facts.append(f"code {kind}/{code}" if kind else f"code {code}")
    if getattr(error, "field", None):
        facts.append(f"field {error.field}")  # type: ignore[attr-defined]
    if getattr(error, "status_code", None):
        facts.append(f"HTTP {error.status_code}")  # type: ignore[attr-defined]
    if getattr(error, "request_id", None):
        facts.append(f"request {error.request_id}")  # type: ignore[attr-defined]
    if facts:
        lines.append("  " + " · ".join(facts))
    method, path = getattr(error, "method", None), getattr(error, "path", None)
    place = [f"call {method} {path if len(path) <= 80 else path[:79] + '…'}"] if method and path else []
    where = _user_line(error)
    if where:
        place.append(where)
    if place:
        lines.append("  " + " · ".join(place))
    lines.append(f"  → {hint(error)}")
    lines.append("  (deck_nb shortened this traceback: `%tb verbose` shows it in full)")
    return lines


def render(error: BaseException) -> list[str]:
    """Short unless the full traceback was asked for (``%tb verbose``, ``%xmode verbose`` or the env)."""
    shell = _shell()
    full = os.environ.get("DECK_NB_TRACEBACK", "").lower() == "full"
    if shell is not None and getattr(shell.InteractiveTB, "mode", "") == "Verbose":
        full = True
    if not full:
        return short_block(error)
    if shell is not None:
        return shell.InteractiveTB.structured_traceback(type(error), error, error.__traceback__)
    return traceback.format_exception(type(error), error, error.__traceback__)


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _user_line(error: BaseException) -> str | None:
    """Where the user's own code raised it: the last frame run as ``__main__`` (a notebook cell)."""
    tb, line = error.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__") == "__main__":
            line = tb.tb_lineno
        tb = tb.tb_next
    return f"raised at line {line} of your cell" if line else None


FIX_CREDENTIAL = (
    "fix it with deck.credentials.update(id, password=getpass.getpass()) (typed at a prompt, never in a cell)"
)
FIX_CONNECTION = "connect again with the right password"


def failure_words(errors: Any, *, answers: int = 0, fix: str = "") -> str:
    """What a card says about a job's errors: each sentence once, and the source's refusal of a login
    told apart. ``answers``: how many prompts were answered before it failed. A refusal after answers
    is a lockout (waiting or the source helps, a new password does not); one before any answer is a
    wrong username or password (``fix`` says how to store the right one)."""
    sentences: list[str] = []
    for error in errors or []:
        code = getattr(error, "code", None) or (error.get("code") if isinstance(error, dict) else None)
        message = getattr(error, "message", None) or (error.get("message") if isinstance(error, dict) else None)
        if code == "auth_invalid":
            sentences.append(_refused_login(answers, fix))
        elif message or code:
            sentences.append(str(message or code))
    return "; ".join(dict.fromkeys(s for s in sentences if s))


def _refused_login(answers: int, fix: str) -> str:
    if answers > 0:
        wrong = f"{answers} wrong answer{'s' if answers != 1 else ''}"
        return (
            f"locked out: the source refused the login after {wrong} (auth_invalid) — wait before trying "
            "again, or contact the source to unlock the account"
        )
    how = f" — {fix}" if fix else ""
    return f"the source rejected the username or password (auth_invalid){how}"
