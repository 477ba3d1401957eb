"""Cursor pagination as Deck documents it: opaque cursors tied to one endpoint and filter set."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from ._errors import ApiError, invalid

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def parse_limit(params: Mapping[str, str]) -> int:
    raw = params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise invalid("limit", f"`limit` must be an integer from 1 to {MAX_LIMIT}.") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", f"`limit` must be an integer from 1 to {MAX_LIMIT}.")
    return limit


def _scope(endpoint: str, filters: Mapping[str, str]) -> str:
    raw = json.dumps([endpoint, sorted(filters.items())])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _encode(scope: str, after: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"s": scope, "a": after}).encode()).decode().rstrip("=")


def _decode(cursor: str, scope: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after = data["a"]
        ok = data["s"] == scope and isinstance(after, int)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        ok = False
    if not ok:
        raise ApiError(400, "request", "cursor_invalid", "The cursor is invalid for this list.", "cursor")
    return after


def paginate(
    items: Iterable[T],
    seq: Callable[[T], int],
    render: Callable[[T], dict[str, Any]],
    endpoint: str,
    filters: Mapping[str, str],
    params: Mapping[str, str],
) -> dict[str, Any]:
    """One page of ``items`` (already filtered, oldest first)."""
    limit = parse_limit(params)
    scope = _scope(endpoint, filters)
    cursor = params.get("cursor")
    after = _decode(cursor, scope) if cursor else 0
    page: list[T] = []
    has_more = False
    for item in items:
        if seq(item) <= after:
            continue
        if len(page) == limit:
            has_more = True
            break
        page.append(item)
    next_cursor = _encode(scope, seq(page[-1])) if has_more and page else None
    return {"data": [render(i) for i in page], "has_more": has_more, "next_cursor": next_cursor}
