"""What carries ``dn.download``'s transfers: an event loop of its own thread, or threads.

The loop (``LoopEngine``): one thread runs an asyncio loop, where an ``AsyncDeck`` twin of the
client (same key, pacer, observers, replay) lists the runs and streams up to ``concurrency`` files
at once. Eight threads streaming at once spend much of their time handing Python's lock to each
other; one loop does not, and measured faster on the same work (``bench/download.py``). Its own
thread, so it runs the same in a kernel (whose loop is busy running the cell) and a script. One
loop per client, made by its first download and kept, with the twin's connections, for the next
ones, as the client keeps its own pool; ``Deck.close()`` ends it. Each download is a ``Batch`` on
it, with its own bound, and an interrupt stops that download's transfers only.

The threads (``ThreadEngine``): a client built on the user's own ``http_client`` keeps it for
every call; an async twin could not, so such a client gets threads over that very client.

Both answer ``concurrent.futures`` futures, so ``dn.download`` waits on either the same way; the
journal and the manifest are written by its own thread, never by the transfers."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

STOP_S = 30.0  # cancelled transfers end at their next chunk; a loop that does not stop in this is stuck
_LOOPS: weakref.WeakKeyDictionary[Any, LoopEngine] = weakref.WeakKeyDictionary()
_MAKING = threading.Lock()


def engine_for(client: Any, concurrency: int) -> ThreadEngine | Batch:
    """This download's transfers: threads over the user's own HTTP client, else a batch on the
    client's loop (made now if it has none)."""
    if getattr(getattr(client, "_http", None), "is_closed", False):
        raise RuntimeError("this Deck was closed (deck.close()); make a new one to download with")
    if getattr(client, "_users_http", False):
        return ThreadEngine(client, concurrency)
    with _MAKING:
        engine = _LOOPS.get(client)
        if engine is None or engine.closed:
            engine = _LOOPS[client] = LoopEngine(client)
            client._at_close.append(engine.close)
            weakref.finalize(client, engine.close).atexit = False  # a client dropped unclosed
    return Batch(engine, concurrency)


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
    """An event loop in a thread of its own and the ``AsyncDeck`` twin that works on it."""

    def __init__(self, client: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.twin = client.to_async()
        self.closed = False
        self.futures: set[Future] = set()  # every submitted work not yet ended
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.loop.run_forever, name="deck-nb-download", daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, Any]) -> Future:
        with self.lock:
            if self.closed:
                work.close()
                raise RuntimeError("this Deck was closed (deck.close()) during the download")
            future = asyncio.run_coroutine_threadsafe(work, self.loop)
            self.futures.add(future)
        future.add_done_callback(self.futures.discard)
        return future

    def close(self) -> None:
        """Stop every transfer still running (a download on another thread gets its rows' errors,
        never a wait without end), close the twin's connections, end the loop and its thread."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
        if threading.current_thread() is self.thread:  # collected on the loop itself: it cannot wait for itself
            self.loop.stop()
            return

        async def end() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=STOP_S)
            await self.twin.close()

        try:
            asyncio.run_coroutine_threadsafe(end(), self.loop).result(STOP_S)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(STOP_S)
            for future in list(self.futures):  # any the loop never started: nobody waits for ever
                future.cancel()
            if not self.thread.is_alive():
                self.loop.close()


class Batch:
    """One download's transfers on a ``LoopEngine``: at most ``concurrency`` at once, granted first
    come, first served (the largest files, submitted first, start first)."""

    def __init__(self, engine: LoopEngine, concurrency: int) -> None:
        self.engine, self.concurrency = engine, concurrency
        self.slots: asyncio.Semaphore | None = None  # made on the loop
        self.tasks: set[asyncio.Task] = set()

    def listing(self, run_id: str) -> Future:
        async def listing() -> list[Any]:
            return [item async for item in self.engine.twin.task_runs.files(run_id, limit=100)]

        return self._submit(listing)

    def fetch(self, storage_id: str, path: Path, place: Any) -> Future:
        return self._submit(lambda: self.engine.twin.storage._fetch_file(storage_id, path, place))

    def _submit(self, work: Callable[[], Awaitable[Any]]) -> Future:
        async def bounded() -> Any:
            task = asyncio.current_task()
            self.tasks.add(task)  # type: ignore[arg-type]
            try:
                if self.slots is None:
                    self.slots = asyncio.Semaphore(self.concurrency)
                async with self.slots:
                    return await work()
            finally:
                self.tasks.discard(task)  # type: ignore[arg-type]

        return self.engine.run(bounded())

    def close(self, cancel: bool = False) -> None:
        """Wait for this download's transfers to end (``cancel``: stop them; each removes its
        part). The loop stays for the client's next download (``Deck.close()`` has ended them all
        if it was called meanwhile)."""
        if self.engine.closed:
            return

        async def end() -> None:
            if cancel:
                for task in list(self.tasks):
                    task.cancel()
            while self.tasks:
                await asyncio.wait(list(self.tasks))

        try:
            self.engine.run(end()).result(STOP_S)
        except (RuntimeError, CancelledError):  # the client was closed meanwhile: nothing left to wait for
            pass
