"""Run one test body against both Deck and AsyncDeck: the async client is driven on a private loop
and its pagers/awaitables are resolved, so both facades answer the same plain values."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from deck_nb.client import AsyncDeck, AsyncPager, Deck, SyncPager


class _Proxy:
    def __init__(self, target: Any, runner: Runner) -> None:
        self._target = target
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if callable(value):
            return lambda *a, **kw: self._runner.resolve(value(*a, **kw))
        if name in {
            "sources",
            "tasks",
            "connections",
            "credentials",
            "sessions",
            "task_runs",
            "events",
            "event_destinations",
        }:
            return _Proxy(value, self._runner)
        return value


class Runner:
    def __init__(self, mode: str, **options: Any) -> None:
        self.mode = mode
        if mode == "sync":
            self.raw = Deck(**options)
            self.loop = None
        else:
            self.loop = asyncio.new_event_loop()
            self.raw = self.loop.run_until_complete(self._make_async(options))
        self.deck = _Proxy(self.raw, self)

    @staticmethod
    async def _make_async(options):
        return AsyncDeck(**options)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, SyncPager):
            return list(value)
        if isinstance(value, AsyncPager):
            return self.loop.run_until_complete(value.to_list())
        if inspect.iscoroutine(value):
            return self.loop.run_until_complete(value)
        if inspect.isasyncgen(value):

            async def collect():
                return [item async for item in value]

            return self.loop.run_until_complete(collect())
        if inspect.isgenerator(value):
            return list(value)
        return value

    def close(self) -> None:
        if self.loop is None:
            self.raw.close()
        else:
            self.loop.run_until_complete(self.raw.close())
            self.loop.close()
