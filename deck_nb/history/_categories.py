"""The values Deck documents for each categorical column (both APIs), so frames from different
histories share their categories and ``pd.concat`` keeps them.

A frame's categories are the known set, in lifecycle order, followed by any value a newer Deck sent
that is not in it (sorted): nothing observed is ever dropped, and two histories that saw the same
values have equal categories whichever order they saw them in."""

from __future__ import annotations

from collections.abc import Iterable

from . import outcomes

RUN_STATUSES = (
    "queued",
    "running",
    "interaction_required",
    "review_required",
    "cancelling",
    "completed",
    "failed",
    "canceled",
)
CONNECTION_STATUSES = ("connecting", "interaction_required", "connected", "invalid", "disconnected")
CREDENTIAL_STATUSES = ("unverified", "verified", "invalid", "deleted")
SESSION_STATUSES = ("queued", "running", "idle", "completing", "completed", "failed")
RESULTS = ("success", "failure", "unknown")
APIS = ("connections", "credentials")
# every error ``type`` and ``code`` the specs document (deck-api.md, deck-api-current.md, deck-api-storage.md)
ERROR_TYPES = (
    "api",
    "auth",
    "connection",
    "source",
    "request",
    "interaction",
    "idempotency",
    "rate_limit",
    "task",
    "session",
)
ERROR_CODES = (
    # deck-api.md section 1: Deck's documented codes
    "api_error",
    "timeout",
    "blocked",
    "source_error",
    "source_not_available",
    "source_not_found",
    "source_invalid",
    "source_blocked",
    "input_missing",
    "input_invalid",
    "cursor_invalid",
    "api_key_invalid",
    "auth_invalid",
    "interaction_timeout",
    "mfa_timeout",  # interaction_timeout's older spelling on some of Deck's pages
    "interaction_not_required",
    "interaction_input_invalid",
    "rate_limit_exceeded",
    "idempotency_error",
    "idempotency_key_error",
    # deck-api.md sections 4-5: a run's checks, cancel, and request/<resource>_not_found per id prefix
    "connection_not_connected",
    "task_run_not_cancelable",
    "task_not_found",
    "connection_not_found",
    "task_run_not_found",
    "event_not_found",
    "event_destination_not_found",
    # deck-api-current.md: credentials and sessions
    "session_limit_exceeded",
    "credential_not_found",
    "session_not_found",
    "credential_deleted",
    "session_not_active",
    "session_mismatch",
    "review_rejected",
    "not_found",  # a path of the API the server does not serve
    # deck-api-storage.md: an unknown stor_ id
    "storage_not_found",
)
# ``device_confirmation``: the simulator's novel source (deck-api.md section 5), a type no client builds for
INTERACTION_TYPES = ("mfa", "security_question", "account_selection", "device_confirmation", "credentials")
OUTCOMES = (
    outcomes.PENDING,
    outcomes.ACCEPTED,
    outcomes.REJECTED,
    outcomes.TIMED_OUT,
    outcomes.UNANSWERED,
    outcomes.CANCELED,
    outcomes.UNKNOWN,
)
RESOURCE_KINDS = ("connection", "task_run", "credential", "session")
ORIGINS = ("api", "client", "resource")
METHODS = ("GET", "POST", "PATCH", "DELETE")
EVENT_KINDS = ("status", "interaction", "answer", "result", "error")
BATCH_KINDS = ("connect", "runtask", "pull")


def _union(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for group in groups for value in group))


ANY_STATUS = _union(RUN_STATUSES, CONNECTION_STATUSES, CREDENTIAL_STATUSES, SESSION_STATUSES)
BATCH_STATUSES = _union(("starting",), CONNECTION_STATUSES, CREDENTIAL_STATUSES, RUN_STATUSES, ("error",))


def categories(known: tuple[str, ...], observed: Iterable[object]) -> list[str]:
    """The known values, then every other (non-null) value observed, as text, sorted."""
    have = set(known)
    extra = sorted({str(v) for v in observed} - have)
    return [*known, *extra]
