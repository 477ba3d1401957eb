"""The shared core of Deck and AsyncDeck: request building, retry decisions, backoff, response
parsing and observation. Only the send loops (in ``_client.py``) exist twice; the error a response
means is in ``_answers.py``, the waiting plan in ``_waiting.py``."""

from __future__ import annotations

import json
import logging
import platform
import random
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from tenacity import RetryCallState, retry_if_exception, stop_after_attempt

from deck_nb import _clock
from deck_nb._observers import default_observers
from deck_nb._version import __version__

from . import _errors as errors
from ._answers import secrets_in, status_error, unreadable
from ._call import Call
from ._config import mask, resolve
from ._flight import BodyReader, CallState
from ._pacer import Pacer
from ._prompts import PromptMemory
from ._waiting import FETCH, wait_plan  # noqa: F401  (re-exported: the shells import them here)

log = logging.getLogger("deck_nb.client")

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RETRIES = 8  # with the backoff, at most ~40 s of waiting inside the 120 s deadline
DEFAULT_DEADLINE_S = 120.0
DEFAULT_RATE_LIMIT = (200, 10.0)
DEFAULT_MAX_RESPONSE_BYTES = 20 * 1024 * 1024  # a hostile or broken server cannot exhaust memory


@dataclass
class Stats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class Observer:
    """Hooks the history journal (or anyone) can implement; the client calls them as it goes."""

    def on_object(self, obj: Any, call: Call) -> None:
        """Every object (or page) a call answered."""

    def on_error(self, error: errors.DeckError, call: Call) -> None:
        """Every error a call ended with."""

    def on_submission(self, kind: str, id: str, field_names: tuple[str, ...], error: Any) -> None:
        """Every answer sent: its field names only, never values; ``error`` is None when accepted."""


class BaseClient:
    """What Deck and AsyncDeck share. The bounds: ``timeout`` caps each network wait; ``deadline``
    caps a whole call — every attempt, the backoff between them and each body read included, so a
    server that trickles a byte at a time ends the call with ``APITimeoutError`` at the deadline;
    ``max_response_bytes`` (20 MB) caps each response body (``ResponseTooLargeError``, checked
    before and while reading, after decompression); ``max_retries`` caps the attempts."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
        deadline: float = DEFAULT_DEADLINE_S,
        rate_limit: tuple[int, float] | None = DEFAULT_RATE_LIMIT,
        observers: list[Observer] | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        for name, seconds in (("timeout", timeout), ("deadline", deadline)):
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise TypeError(f"{name} must be a number of seconds, not {type(seconds).__name__}")
            if not seconds > 0:
                raise ValueError(f"{name} must be a positive number of seconds, not {seconds!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be a whole number, 0 or more, not {max_retries!r}")
        if not isinstance(max_response_bytes, int) or max_response_bytes <= 0:
            raise ValueError("max_response_bytes must be a positive number of bytes")
        self.max_response_bytes = max_response_bytes
        self.prompts = PromptMemory()
        self.api_key, self.base_url, self.embedded = resolve(api_key, base_url)
        self.timeout = timeout
        self.max_retries = max_retries
        self.deadline = deadline
        self.pacer = Pacer(*rate_limit) if rate_limit else None
        defaults = default_observers()  # e.g. the session journal: see deck_nb/_observers.py
        self.observers: list[Observer] = [*defaults, *(o for o in observers or [] if o not in defaults)]
        self.stats = Stats()

    def __repr__(self) -> str:
        embedded = ", embedded simulator" if self.embedded else ""
        api = getattr(self, "api", None)
        shown = f", api={api!r}" if api else ""
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={mask(self.api_key)!r}{shown}{embedded})"

    def _twin(self, cls: type) -> Any:
        twin = cls(
            api_key=self.api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
            deadline=self.deadline,
            rate_limit=None,
            max_response_bytes=self.max_response_bytes,
            replay=getattr(self, "_replayer", None),  # a replaying client's twin replays the same recording
        )
        twin.pacer = self.pacer
        twin.prompts = self.prompts
        twin.observers = self.observers
        twin.embedded = self.embedded
        twin._api = getattr(self, "_api", None)  # one API choice (and one detection) for both twins
        return twin

    def add_observer(self, observer: Observer) -> None:
        if observer not in self.observers:
            self.observers.append(observer)

    # -- building ----------------------------------------------------------------------------

    @property
    def user_agent(self) -> str:
        return f"deck_nb/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"

    def _default_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.api_key}",
            "User-Agent": self.user_agent,
            "Accept": "application/json",
        }

    @staticmethod
    def _prepare(call: Call) -> Call:
        """Give every POST, PATCH and DELETE one idempotency key before the retry loop, so retries never
        duplicate (the current API honours keys on all three)."""
        if call.method in ("POST", "PATCH", "DELETE") and call.idempotency_key is None:
            return replace(call, idempotency_key=f"deck-nb-{uuid.uuid4()}")
        return call

    def _begin(self, call: Call, until: float | None) -> CallState:
        """A call in flight; a call made on behalf of another (a pre-read) shares its deadline."""
        call = self._prepare(call)
        return CallState(self, call, until if until is not None else _clock.monotonic() + self.deadline)

    def _remaining(self, call: Call, until: float) -> float:
        remaining = until - _clock.monotonic()
        if remaining <= 0:
            raise self._deadline_error(call)
        return remaining

    def _attempt_until(self, flight: CallState) -> float:
        """When one attempt must end: ``timeout`` after it starts (connecting, headers and the whole
        body), and never after the call's deadline. A trickling answer is cut there and retried while
        the deadline allows, instead of holding the call until the deadline."""
        return min(flight.until, _clock.monotonic() + self.timeout)

    def _deadline_error(self, call: Call) -> errors.APITimeoutError:
        return errors.APITimeoutError(
            f"{call.describe()} did not finish in time ({self.timeout:g}s per attempt, {self.deadline:g}s deadline "
            "per call, body read included)",
            method=call.method,
            path=call.path,
        )

    def _request_kwargs(self, call: Call, until: float) -> dict[str, Any]:
        headers = {}
        if call.idempotency_key:
            headers["Idempotency-Key"] = call.idempotency_key
        kwargs: dict[str, Any] = {
            "method": call.method,
            "url": self.base_url + call.path,
            "headers": headers,
            "timeout": min(self.timeout, self._remaining(call, until)),
        }
        if call.params:
            kwargs["params"] = {k: v for k, v in call.params.items() if v is not None}
        if call.body is not None:
            kwargs["json"] = call.body
        return kwargs

    # -- retry policy (tenacity) -------------------------------------------------------------

    def _retry_policy(self, flight: CallState) -> dict[str, Any]:
        def past_deadline(state: RetryCallState) -> bool:
            return _clock.monotonic() + (state.upcoming_sleep or 0.0) >= flight.until

        return {
            "stop": stop_after_attempt(self.max_retries + 1) | past_deadline,
            "wait": self._backoff,
            "retry": retry_if_exception(self._should_retry),
            "reraise": True,
            "before_sleep": lambda state: self._before_sleep(flight, state),
        }

    @staticmethod
    def _should_retry(exc: BaseException) -> bool:
        if isinstance(exc, errors.APIConnectionError):
            return True
        if isinstance(exc, errors.InteractionTimeout | errors.IdempotencyConflict):
            return False  # semantic answers, not transient ones
        return isinstance(
            exc,
            errors.RateLimitError | errors.InternalServerError | errors.ConflictError | errors.RequestTimeoutError,
        )

    @staticmethod
    def _backoff(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        n = state.attempt_number - 1
        if isinstance(exc, errors.RateLimitError):
            if exc.retry_after is not None:
                return exc.retry_after + random.uniform(0, 0.25)
            return min(30.0, 2.0**n) * (1 - 0.25 * random.random())  # Deck's advice: 1 s · 2ⁿ, capped at 30 s
        return min(8.0, 0.5 * 2.0**n) * (1 - 0.25 * random.random())

    def _before_sleep(self, flight: CallState, state: RetryCallState) -> None:
        call = flight.call
        self.stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        flight.last_error = exc
        # the org's request rate: hold every send; too many sessions open holds only this create
        org_limit = isinstance(exc, errors.RateLimitError) and not isinstance(exc, errors.SessionLimitExceeded)
        if org_limit and self.pacer is not None:
            self.pacer.block_for(state.upcoming_sleep)
        log.info(
            "retrying %s in %.2fs after %s (attempt %d of %d)",
            call.describe(),
            state.upcoming_sleep,
            type(exc).__name__,
            state.attempt_number + 1,
            self.max_retries + 1,
        )

    # -- responses ---------------------------------------------------------------------------

    def _httpx_error(self, exc: Exception, call: Call, until: float) -> errors.DeckError:
        """Every httpx failure as a DeckError naming the call (never the URL's query or a body)."""
        if isinstance(exc, httpx.InvalidURL):
            return errors.InvalidRequestError(f"{call.describe()} cannot be sent: the URL is invalid ({exc})"[:300])
        if isinstance(exc, httpx.DecodingError):
            return errors.APIResponseValidationError(
                f"{call.describe()} answered with a body that cannot be decoded", method=call.method, path=call.path
            )
        if isinstance(exc, httpx.TimeoutException) and _clock.monotonic() >= until - 0.05:
            return self._deadline_error(call)
        kind = errors.APITimeoutError if isinstance(exc, httpx.TimeoutException) else errors.APIConnectionError
        what = "timed out" if kind is errors.APITimeoutError else f"failed ({type(exc).__name__})"
        return kind(f"{call.describe()} {what}", method=call.method, path=call.path)

    def _reader(self, call: Call, response: httpx.Response, until: float) -> BodyReader:
        return BodyReader(self, call, response, until)

    def _process(self, call: Call, response: httpx.Response, content: bytes) -> Any:
        """Parse a response into a model, or raise the mapped error."""
        self.stats.requests += 1
        self.stats.by_status[response.status_code] = self.stats.by_status.get(response.status_code, 0) + 1
        request_id = response.headers.get("x-request-id")
        too_deep = False
        try:
            body = json.loads(content) if content else None
        except ValueError:
            body = None
        except RecursionError:
            body, too_deep = None, True
        if isinstance(body, dict):
            request_id = body.get("request_id") if isinstance(body.get("request_id"), str) else request_id
        log.debug("%s -> %s %s", call.describe(), response.status_code, request_id or "")
        if response.status_code >= 400:
            raise self._status_error(call, response, body, request_id)
        if too_deep:
            raise unreadable(call, response, request_id, "JSON nested too deeply to read")
        if not isinstance(body, dict):
            ctype = response.headers.get("content-type", "?")
            raise unreadable(call, response, request_id, f"a non-JSON or non-object body ({ctype})")
        self.prompts.remember(body)
        if not call.cast:
            return body
        from pydantic import ValidationError  # loaded already: a cast is a model

        try:
            return call.cast(body)
        except ValidationError as exc:  # messages name fields and rules, never the values
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))[:60]}: {e['msg']}" for e in exc.errors()[:3])
            raise unreadable(call, response, request_id, f"an object deck_nb cannot read ({problems})") from None
        except RecursionError:
            raise unreadable(call, response, request_id, "an object nested too deeply to read") from None

    def _status_error(self, call: Call, response: httpx.Response, body: Any, request_id: str | None):
        error = status_error(call, response, body, request_id, secrets_in(call, self.api_key))
        if isinstance(error, errors.RateLimitError):
            self.stats.rate_limited += 1
        return error

    # -- observation -------------------------------------------------------------------------

    def _observe(self, call: Call, result: Any) -> None:
        if not call.observe:
            return
        if call.submission:
            kind, id_, names = call.submission
            self._notify("on_submission", kind, id_, names, None)
        self._notify("on_object", result, call)

    def _observe_error(self, call: Call, error: errors.DeckError) -> None:
        if not call.observe:
            return
        self._notify("on_error", error, call)
        if call.submission:
            kind, id_, names = call.submission
            self._notify("on_submission", kind, id_, names, error)

    def _notify(self, hook: str, *args: Any) -> None:
        for observer in self.observers:
            try:
                getattr(observer, hook)(*args)
            except Exception:  # an observer must never break the call it watches
                log.exception("observer %r failed in %s", observer, hook)
