"""Deck's Idempotency-Key semantics: replay a stored success, refuse a reused key with other params."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ._errors import ApiError

MAX_KEY_LENGTH = 256
TTL_S = 24 * 3600


@dataclass
class Stored:
    fingerprint: str
    status: int
    body: dict[str, Any]
    stored_at: float


class IdempotencyStore:
    def __init__(self) -> None:
        self._entries: dict[str, Stored] = {}

    def clear(self) -> None:
        self._entries.clear()

    @staticmethod
    def check_key(key: str) -> None:
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError(
                400,
                "idempotency",
                "idempotency_key_error",
                f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters.",
            )

    @staticmethod
    def fingerprint(method: str, path: str, body: Any) -> str:
        raw = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(raw.encode()).hexdigest()

    def lookup(self, key: str, fingerprint: str, now: float) -> Stored | None:
        entry = self._entries.get(key)
        if entry is None or now - entry.stored_at > TTL_S:
            self._entries.pop(key, None)
            return None
        if entry.fingerprint != fingerprint:
            raise ApiError(
                409,
                "idempotency",
                "idempotency_error",
                "Idempotency key has already been used with different parameters.",
            )
        return entry

    def store(self, key: str, fingerprint: str, status: int, body: dict[str, Any], now: float) -> None:
        if 200 <= status < 300:
            self._entries[key] = Stored(fingerprint, status, body, now)
