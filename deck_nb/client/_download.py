"""Fetching a stored file: a fresh signed URL from ``GET /v2/storage/{id}``, the bytes streamed to a
temporary file beside the destination and renamed into place only when complete and exactly
``file_size`` long. A 403 (expired URL) gets one fresh URL; a body that outgrows ``file_size``, a
broken or stalled stream, a 404 (past retention) end with a typed ``DownloadError`` and no file.
Written once: ``Transfer`` holds every decision, the sync and async loops only move bytes.

The observers (the history journal) hear of a download once: ``on_files_saved`` with the item (its
fields, never its URL, are what the journal keeps) when the file is on disk (``dn.download`` tells
them of its files in batches, one journal transaction each), or ``on_object`` with
the item and ``on_error`` when it fails — not the URL's retrieve as well: one journal transaction
per file at most, and no observer is handed a signed URL it did not need. The bytes are hashed as they
stream (one ``sha256.update`` per chunk, no second read) and the rename is ``os.replace`` without
an fsync: the journal and the folder's manifest say which files are whole, and a file cut short by
a crash is caught by its size and sha256 on the next run. A temporary file names its item and its
process (``.<name>.<item>.<pid>-<n>.part``): a later download of the item removes those a killed
process left (see ``clear_stale_parts``)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from . import _storage_errors as errors
from ._deadline import call_deadline
from ._errors import DeckError
from ._names import inside, safe_name
from ._parts import budget_of, clear_stale_parts, part_owner
from ._signed import remember

_PARTS = itertools.count(1)  # temporary names: pid and a counter (opened with "x", never over a file)
log = logging.getLogger("deck_nb.client")

# where a whole file goes: (temporary file, wanted path, size, sha256) -> the path it now has
Place = Callable[[Path, Path, int, str], Path]


@dataclass
class Fetched:
    """A file now on disk: where, how many bytes, their sha256, and the item it came from."""

    path: Path
    size: int
    sha256: str
    item: Any


class _Refused(Exception):
    """The signed URL answered 403: worth one fresh URL."""


def destination(dest: str | os.PathLike[str], item: Any) -> Path:
    """``dest`` itself, or a safe name from the item's ``file_name`` when ``dest`` is a folder."""
    path = Path(dest)
    if path.is_dir():
        return inside(path, safe_name(item.file_name, item.id))
    return path


class Transfer:
    """One attempt at one item's bytes into ``tmp``; ``finish`` moves them to ``dest``."""

    def __init__(self, item: Any, dest: Path, deadline_s: float) -> None:
        self.item, self.dest = item, dest
        self.expected = item.file_size if isinstance(item.file_size, int) and item.file_size >= 0 else None
        self.tmp = self._part_name()
        budget = budget_of(item, deadline_s)
        self.until = time.monotonic() + budget
        self.budget = budget
        self.size = 0
        self.hasher = hashlib.sha256()
        self.file: Any = None

    def what(self) -> str:
        return f"storage item {self.item.id} ({self.item.file_name!r})"

    def error(self, cls: type[errors.DownloadError], text: str, status: int | None = None) -> errors.DownloadError:
        return cls(f"{self.what()}: {text}", storage_id=self.item.id, status_code=status)

    def start(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 403:
            raise _Refused
        if status in (404, 410):
            raise self.error(errors.FileGone, "the file is no longer kept (past its retention)", status)
        if status >= 300:
            raise self.error(errors.DownloadError, f"the download answered HTTP {status}", status)
        declared = response.headers.get("content-length", "")
        if self.expected is not None and declared.isdigit() and int(declared) > self.expected:
            raise self.error(errors.DownloadTooLarge, f"the server announced {declared} bytes, not {self.expected}")
        self.file = self._open_part()

    def _part_name(self) -> Path:
        short = self.dest.name.encode()[:60].decode("utf-8", "ignore")  # bytes: a name has at most 255
        return self.dest.parent / f".{short}.{part_owner(self.item.id)}.{os.getpid()}-{next(_PARTS)}.part"

    def _open_part(self) -> Any:
        """The temporary file, made new ("x"): the folder is there nearly always, so no mkdir (nor
        its stat) unless it is missing; a leftover of the same name is skipped, never reused."""
        for _ in range(100):
            try:
                return open(self.tmp, "xb")
            except FileNotFoundError:
                self.dest.parent.mkdir(parents=True, exist_ok=True)
            except FileExistsError:
                self.tmp = self._part_name()
        return open(self.tmp, "xb")

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.expected is not None and self.size > self.expected:
            raise self.error(errors.DownloadTooLarge, f"the body outgrew its file_size of {self.expected} bytes")
        if time.monotonic() > self.until:
            raise self.stalled()
        self.hasher.update(chunk)
        self.file.write(chunk)

    def stalled(self) -> errors.DownloadError:
        return self.error(errors.DownloadIncomplete, f"the download did not finish in {self.budget:.0f}s")

    def broken(self, exc: BaseException) -> errors.DownloadError:
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            return self.stalled()
        return self.error(errors.DownloadIncomplete, f"the stream broke after {self.size} bytes ({type(exc).__name__})")

    def finish(self, place: Place | None = None) -> Fetched:
        """The whole file renamed onto ``dest`` (replacing what is there), or given its name by
        ``place`` (``dn.download``: never over another file)."""
        self.file.close()
        if self.expected is not None and self.size != self.expected:
            raise self.error(errors.DownloadIncomplete, f"the body ended at {self.size} of {self.expected} bytes")
        digest = self.hasher.hexdigest()
        try:
            if place is None:
                os.replace(self.tmp, self.dest)
            else:
                self.dest = place(self.tmp, self.dest, self.size, digest)
        except OSError as exc:
            text = f"could not be saved as {self.dest.name!r} ({exc.strerror or type(exc).__name__})"
            raise self.error(errors.DownloadError, text) from None
        return Fetched(self.dest, self.size, digest, self.item)

    def discard(self) -> None:
        """Remove the part (there may be none, nor even its folder: the attempt's error is what counts)."""
        if self.file is not None:
            self.file.close()
        with contextlib.suppress(OSError):
            self.tmp.unlink()

    def outcome(self, exc: BaseException, attempt: int) -> BaseException | None:
        """What an attempt that raised ``exc`` ends with, its part removed: None for a first 403
        (worth one fresh URL), the typed error for a refused, broken or stalled transfer, and
        anything else (an interrupt, a cancel) as it came."""
        self.discard()
        if isinstance(exc, _Refused):
            return _expired(self.item) if attempt else None
        if isinstance(exc, httpx.HTTPError | httpx.InvalidURL | TimeoutError):
            return self.broken(exc)
        if isinstance(exc, OSError):  # the disk, not the stream (httpx turns socket errors into its own)
            text = f"could not be written in {self.dest.parent} ({exc.strerror or type(exc).__name__})"
            return self.error(errors.DownloadError, text)
        return exc


def _clear_beside(deck: Any, fetched: Fetched) -> None:
    """After a ``deck.storage.download``: the item's stale parts beside the file (one listing)."""
    folder = fetched.path.parent
    try:
        names = os.listdir(folder)
    except OSError:
        return
    clear_stale_parts(folder, fetched.item, names, deck.deadline)


def announce(deck: Any, saved: list[Fetched]) -> None:
    """Tell the client's observers that have an ``on_files_saved`` hook (the history journal) where
    files now are; an observer's failure never fails the download."""
    if not saved:
        return
    for observer in list(getattr(deck, "observers", [])):
        hook = getattr(observer, "on_files_saved", None)
        if hook is not None:
            try:
                hook(saved)
            except Exception:
                log.exception("observer %r failed in on_files_saved", observer)


def _url(item: Any) -> str:
    if not isinstance(item.url, str) or not item.url:
        raise errors.DownloadError(f"storage item {item.id} came without a download URL", storage_id=item.id)
    return remember(item.url)


def _expired(item: Any) -> errors.FileExpired:
    return errors.FileExpired(
        f"storage item {item.id} ({item.file_name!r}): the signed URL was refused (403) twice, with a fresh one",
        storage_id=item.id,
        status_code=403,
    )


def _failed(deck: Any, storage_id: str, error: DeckError, seen: list[Any]) -> None:
    """The client's observers (the journal) hear a failed download like any failed call: the item
    as it was answered (if it was), then the error."""
    from ._core import Call

    notify = getattr(deck, "_notify", None)
    if notify is not None:
        call = Call("GET", f"/storage/{storage_id}")
        if seen:
            notify("on_object", seen[-1], call)
        notify("on_error", error, call)


def fetch_sync(
    deck: Any, http: httpx.Client, storage_id: str, dest: Any, *, to_file: bool = False, place: Place | None = None
) -> Fetched:
    """Deck's loop: retrieve (fresh URL), stream, and once more on a 403. ``to_file=True`` (what
    ``dn.download`` asks): ``dest`` is the file's wanted path, ``place`` gives the whole file its
    name, and the caller announces the saved file and clears stale parts (from one thread: a
    download's transfers never queue for the journal)."""
    seen: list[Any] = []
    try:
        for attempt in range(2):
            item = deck.storage._for_download(storage_id)
            seen.append(item)
            transfer = Transfer(item, _target(dest, item, to_file), deck.deadline)
            try:  # the socket waits end by the deadline (_deadline.py), the chunks are checked too
                with call_deadline(transfer.until), http.stream("GET", _url(item)) as response:
                    transfer.start(response)
                    for chunk in response.iter_bytes():
                        transfer.feed(chunk)
                return _saved(deck, transfer.finish(place), to_file)
            except BaseException as exc:
                if (error := transfer.outcome(exc, attempt)) is not None:
                    raise error from None
        raise AssertionError("unreachable")
    except DeckError as error:  # a DownloadError, or the retrieve's own API error
        _failed(deck, storage_id, error, seen)
        raise


async def fetch_async(
    deck: Any, http: httpx.AsyncClient, storage_id: str, dest: Any, *, to_file: bool = False, place: Place | None = None
) -> Fetched:
    """AsyncDeck's loop: the same steps and outcomes (``Transfer`` decides), the whole attempt
    under one timer."""
    seen: list[Any] = []
    try:
        for attempt in range(2):
            item = await deck.storage._for_download(storage_id)
            seen.append(item)
            transfer = Transfer(item, _target(dest, item, to_file), deck.deadline)
            try:
                async with asyncio.timeout(transfer.budget), http.stream("GET", _url(item)) as response:
                    transfer.start(response)
                    async for chunk in response.aiter_bytes():
                        transfer.feed(chunk)
                return _saved(deck, transfer.finish(place), to_file)
            except BaseException as exc:
                if (error := transfer.outcome(exc, attempt)) is not None:
                    raise error from None
        raise AssertionError("unreachable")
    except DeckError as error:
        _failed(deck, storage_id, error, seen)
        raise


def _target(dest: Any, item: Any, to_file: bool) -> Path:
    return Path(dest) if to_file else destination(dest, item)


def _saved(deck: Any, fetched: Fetched, to_file: bool) -> Fetched:
    """A ``deck.storage.download`` clears the item's stale parts and tells the observers itself;
    ``dn.download`` (``to_file``) does both for all its files."""
    if not to_file:
        _clear_beside(deck, fetched)
        announce(deck, [fetched])
    return fetched
