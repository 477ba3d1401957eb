"""What carries ``dn.download``'s transfers: an event loop of its own, or threads.

The loop (``LoopEngine``): one thread runs an asyncio loop, where an ``AsyncDeck`` twin of the
client (same key, pacer, observers, replay) lists the runs and streams up to ``concurrency`` files
at once. Eight threads streaming at once spend much of their time handing Python's lock to each
other; one loop does not, and measured a quarter faster on the same work (``bench/download.py``).
Its own thread, so it runs the same in a kernel (whose loop is busy running the cell) and a script.

The threads (``ThreadEngine``): a client built on the user's own ``http_client`` keeps it for
every call; an async twin could not, so such a client gets a thread per transfer instead.

Both answer ``concurrent.futures`` futures, so ``dn.download`` waits on either the same way; the
journal and the manifest are written by its own thread, never by the transfers."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

STOP_S = 30.0  # cancelled transfers end at their next chunk; a loop that does not stop in this is stuck


def engine_for(client: Any, concurrency: int) -> ThreadEngine | LoopEngine:
    if getattr(client, "_users_http", False):
        return ThreadEngine(client, concurrency)
    return LoopEngine(client, concurrency)


class ThreadEngine:
    """Transfers on threads over the sync client itself."""

    def __init__(self, client: Any, concurrency: int) -> None:
        self.client = client
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="deck-nb-download")

    def listing(self, run_id: str) -> Future:
        return self.pool.submit(lambda: list(self.client.task_runs.files(run_id, limit=100)))

    def fetch(self, storage_id: str, path: Path, place: Any) -> Future:
        return self.pool.submit(self.client.storage._fetch_file, storage_id, path, place)

    def close(self, cancel: bool = False) -> None:
        """Wait for the transfers running (``cancel``: those not started never start)."""
        self.pool.shutdown(wait=True, cancel_futures=cancel)


class LoopEngine:
    """Transfers on an event loop in a thread of their own, through an ``AsyncDeck`` twin."""

    def __init__(self, client: Any, concurrency: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.twin = client.to_async()
        self.concurrency = concurrency
        self.slots: asyncio.Semaphore | None = None  # made on the loop, in the order work comes
        self.tasks: set[asyncio.Task] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, name="deck-nb-download", daemon=True)
        self.thread.start()

    def listing(self, run_id: str) -> Future:
        async def listing() -> list[Any]:
            return [item async for item in self.twin.task_runs.files(run_id, limit=100)]

        return self._submit(listing)

    def fetch(self, storage_id: str, path: Path, place: Any) -> Future:
        return self._submit(lambda: self.twin.storage._fetch_file(storage_id, path, place))

    def _submit(self, work: Any) -> Future:
        """``work()`` on the loop once a slot is free (slots are granted first come, first served:
        the largest files, submitted first, start first)."""

        async def bounded() -> Any:
            task = asyncio.current_task()
            self.tasks.add(task)
            try:
                if self.slots is None:
                    self.slots = asyncio.Semaphore(self.concurrency)
                async with self.slots:
                    return await work()
            finally:
                self.tasks.discard(task)

        return asyncio.run_coroutine_threadsafe(bounded(), self.loop)

    def close(self, cancel: bool = False) -> None:
        """Wait for the transfers (``cancel``: stop them; each removes its part), close the twin's
        connections, and end the loop and its thread."""

        async def end() -> None:
            if cancel:
                for task in list(self.tasks):
                    task.cancel()
            while self.tasks:
                await asyncio.wait(list(self.tasks))
            await self.twin.close()

        try:
            asyncio.run_coroutine_threadsafe(end(), self.loop).result(STOP_S)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(STOP_S)
            if not self.thread.is_alive():
                self.loop.close()
