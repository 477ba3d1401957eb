"""Deck Storage (``deck.storage``) and the storage reads of a task run (``deck.task_runs.files`` /
``.screenshots``), written once for Deck and AsyncDeck like every resource."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._endpoints import AsyncShell, ClientT, lists, returns
from ._resources import _id, _Resource
from ._storage_models import Screenshot, StorageItem

if TYPE_CHECKING:
    from ._pagination import SyncPager

INCLUDES = ("input", "storage", "artifacts", "screenshots")


def include_param(include: Any) -> str | None:
    """``include=("storage", "artifacts")`` as Deck's comma list; unknown sections are refused."""
    if include is None or include == ():
        return None
    names = [include] if isinstance(include, str) else list(include)
    bad = [n for n in names if n not in INCLUDES]
    if bad:
        raise ValueError(f"include takes {', '.join(INCLUDES)}; not {bad[0]!r}")
    return ",".join(dict.fromkeys(names))


class RunStorage(_Resource[ClientT]):
    """What ``deck.task_runs`` reads of a run's files and screenshots (mixed into ``TaskRuns``)."""

    @lists
    def files(self, task_run_id: Any, *, limit: int | None = None) -> SyncPager[StorageItem]:
        """The files a run captured, every page (``url`` is None on these: ``deck.storage.retrieve``
        or ``deck.storage.download`` gets one)."""
        return self._list(f"/task-runs/{_id(task_run_id, 'task_run_id')}/storage", StorageItem, {"limit": limit})

    @lists
    def screenshots(self, task_run_id: Any, *, limit: int | None = None) -> SyncPager[Screenshot]:
        """What the agent saw, oldest first, with its reasoning (kept 15 days, then none)."""
        return self._list(f"/task-runs/{_id(task_run_id, 'task_run_id')}/screenshots", Screenshot, {"limit": limit})


class Storage(_Resource[ClientT]):
    """Deck Storage (``deck.storage``): one file's item with its signed URL, and its bytes on disk."""

    _http: Any = None
    _http_lock = threading.Lock()  # threads of one dn.download asking at once make one client

    @returns
    def retrieve(self, storage_id: Any) -> StorageItem:
        """One storage item with a fresh signed ``url`` (valid for minutes; never shown in reprs)."""
        return self._do("GET", f"/storage/{_id(storage_id, 'storage_id')}", StorageItem)

    def _for_download(self, storage_id: str) -> Any:
        """``retrieve`` inside a download: the observers are not told of the answer (it holds the
        signed URL, and the download tells them once, with ``on_files_saved``, or ``on_object`` and
        ``on_error`` when it fails: one journal transaction per file); see ``_download.py``."""
        return self._do("GET", f"/storage/{_id(storage_id, 'storage_id')}", StorageItem, observe=False)

    @returns
    def download(self, item: Any, dest: str | os.PathLike[str]) -> Path:
        """Fetch a file to ``dest`` (a path, or a folder: then a safe name from ``file_name``) and
        answer its path. A fresh URL is asked for; the bytes go to a temporary file beside ``dest``,
        renamed when complete and ``file_size`` long; a 403 gets one fresh URL. Ends with a
        ``DownloadError`` (``FileExpired``, ``FileGone``, ``DownloadIncomplete``,
        ``DownloadTooLarge``) and no file otherwise."""
        fetched = self.fetch(item, dest)
        if hasattr(fetched, "__await__"):
            return _path_of(fetched)  # type: ignore[return-value]
        return fetched.path

    def fetch(self, item: Any, dest: Any) -> Any:
        """``download``, answering a ``Fetched`` (path, size, sha256, item): what ``dn.download`` keeps."""
        return self._fetch(_id(item, "storage_id"), dest)

    def _fetch_file(self, storage_id: str, path: Path, place: Any = None) -> Any:
        """``fetch`` for ``dn.download``: ``path`` is the file's wanted path (no folder test),
        ``place`` gives the whole file its name (never over another file: see
        ``files/_claim.py``), and the caller tells the observers (``_download.announce``)."""
        return self._fetch(_id(storage_id, "storage_id"), path, to_file=True, place=place)

    def _fetch(self, storage_id: str, dest: Any, **options: Any) -> Any:
        from ._download import fetch_async, fetch_sync

        if _is_async(self._client):
            return fetch_async(self._client, self._plain(True), storage_id, dest, **options)
        return fetch_sync(self._client, self._plain(False), storage_id, dest, **options)

    def _plain(self, asynchronous: bool) -> Any:
        """This client's plain HTTP client for signed URLs, made once (see ``_signed.py``)."""
        if self._http is None:
            from . import _signed

            with self._http_lock:
                if self._http is None:
                    timeout, deck = self._client.timeout, self._client  # deck: its replay answers downloads
                    self._http = _signed.signed_url_client(asynchronous=asynchronous, read_timeout=timeout, deck=deck)
        return self._http


async def _path_of(fetched: Any) -> Path:
    return (await fetched).path


def _is_async(client: Any) -> bool:
    return isinstance(client, AsyncShell)
