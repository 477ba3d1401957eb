"""Cursor pagination: iterate every item across pages (``for`` or ``async for``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any, Generic, TypeVar

from ._call import Call

T = TypeVar("T")


class Page(Generic[T]):
    """One page of a list: ``data``, ``has_more`` and the ``next_cursor`` to resume from."""

    def __init__(self, raw: dict[str, Any], cast: Callable[[Any], T]) -> None:
        data = raw.get("data")
        self.data: list[T] = [cast(item) for item in data] if isinstance(data, list) else []
        self.has_more = bool(raw.get("has_more"))
        self.next_cursor: str | None = raw.get("next_cursor")
        self.request_id: str | None = raw.get("request_id")

    def __repr__(self) -> str:
        return f"<Page of {len(self.data)}{', more' if self.has_more else ''}>"


def _page_call(call: Call, cursor: str | None) -> Call:
    params = dict(call.params or {})
    if cursor:
        params["cursor"] = cursor
    return replace(call, params=params, cast=None)


class SyncPager(Generic[T]):
    """Lazily walks every page of a list; ``for item in deck.connections.list(): ...``."""

    def __init__(self, request: Callable[[Call], Any], call: Call, cast: Callable[[Any], T]) -> None:
        self._request = request
        self._call = call
        self._cast = cast

    def pages(self, cursor: str | None = None) -> Iterator[Page[T]]:
        """Page by page; pass a saved ``next_cursor`` to resume a listing."""
        while True:
            page = Page(self._request(_page_call(self._call, cursor)), self._cast)
            yield page
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.data

    def to_list(self) -> list[T]:
        """Every item of every page, as a list."""
        return list(self)


class AsyncPager(Generic[T]):
    """``async for item in adeck.task_runs.list(): ...``; ``await pager.to_list()``."""

    def __init__(self, request: Callable[[Call], Any], call: Call, cast: Callable[[Any], T]) -> None:
        self._request = request
        self._call = call
        self._cast = cast

    async def pages(self, cursor: str | None = None) -> AsyncIterator[Page[T]]:
        """Page by page; pass a saved ``next_cursor`` to resume a listing."""
        while True:
            page = Page(await self._request(_page_call(self._call, cursor)), self._cast)
            yield page
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.data:
                yield item

    async def to_list(self) -> list[T]:
        """Every item of every page, as a list."""
        return [item async for item in self]
