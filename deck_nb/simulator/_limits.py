"""Request admission: Deck's organization rate limit and the injected faults."""

from __future__ import annotations

import math
import random
import re
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from ._errors import ApiError


def parse_rate_limit(spec: str | None) -> tuple[int, float] | None:
    """``"200/10s"`` → ``(200, 10.0)``; ``"off"``/None → no limit."""
    if spec is None or str(spec).lower() in ("off", "none", "0"):
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*", str(spec))
    if not match or int(match.group(1)) < 1 or float(match.group(2)) <= 0:
        raise ValueError(f"rate limit must look like '200/10s' or 'off', not {spec!r}")
    return int(match.group(1)), float(match.group(2))


class RateLimiter:
    """Sliding window on the wall clock: refuse when ``limit`` were accepted in the last ``window`` s."""

    def __init__(self, limit: tuple[int, float] | None) -> None:
        self.limit = limit
        self.accepted: deque[float] = deque()
        self.refused = 0

    def admit(self) -> None:
        if self.limit is None:
            return
        count, window = self.limit
        now = time.monotonic()
        while self.accepted and self.accepted[0] <= now - window:
            self.accepted.popleft()
        if len(self.accepted) >= count:
            self.refused += 1
            retry_after = max(1, math.ceil(self.accepted[0] + window - now))
            raise ApiError(
                429,
                "rate_limit",
                "rate_limit_exceeded",
                "Too many requests.",
                headers={"Retry-After": str(retry_after)},
            )
        self.accepted.append(now)


@dataclass
class Faults:
    """Rates (0..1) of injected failures and added latency, set through ``POST /_sim/faults``."""

    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    drop_rate: float = 0.0
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "rate_limit_rate", "drop_rate"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number from 0 to 1")
        for name in ("latency_ms", "latency_jitter_ms"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
        self.rng = random.Random(self.seed)
        self.injected = {"errors": 0, "rate_limits": 0, "drops": 0}

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Faults:
        known = {k: v for k, v in body.items() if k in cls.__dataclass_fields__}
        unknown = sorted(set(body) - set(known))
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}")
        return cls(**known)

    def describe(self) -> dict[str, Any]:
        return {**asdict(self), "injected": dict(self.injected)}

    def delay(self) -> float:
        if not self.latency_ms and not self.latency_jitter_ms:
            return 0.0
        jitter = self.rng.uniform(-self.latency_jitter_ms, self.latency_jitter_ms)
        return max(0.0, self.latency_ms + jitter) / 1000

    def before_error(self) -> None:
        """An injected 500 before the request is handled (nothing happens on the server)."""
        if self.error_rate and self.rng.random() < self.error_rate:
            self.injected["errors"] += 1
            raise ApiError(500, "api", "api_error", "An internal error occurred (injected).")

    def before_rate_limit(self) -> None:
        """An injected 429, as if the organization's limit had been reached."""
        if self.rate_limit_rate and self.rng.random() < self.rate_limit_rate:
            self.injected["rate_limits"] += 1
            raise ApiError(
                429, "rate_limit", "rate_limit_exceeded", "Too many requests (injected).", headers={"Retry-After": "1"}
            )

    def drop_after(self) -> bool:
        """Whether to drop the connection after handling (the work is done, the answer is lost)."""
        if self.drop_rate and self.rng.random() < self.drop_rate:
            self.injected["drops"] += 1
            return True
        return False


def parse_session_limit(spec: int | str | None) -> int | None:
    """``25`` or ``"25"`` → 25; ``"off"``/None → no limit on concurrent sessions."""
    if spec is None or str(spec).strip().lower() in ("off", "none"):
        return None
    try:
        limit = int(str(spec).strip())
    except ValueError:
        limit = 0
    if isinstance(spec, bool) or limit < 1:
        raise ValueError(f"session limit must be a whole number of at least 1, or 'off', not {spec!r}")
    return limit
