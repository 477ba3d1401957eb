"""What a download folder holds (``.deck_nb-files.json``): storage id → local name, size, sha256.

The manifest says which files deck_nb wrote whole, so a later ``dn.download`` skips them; a name
it lists whose file is no longer those bytes (edited by hand, replaced, a link) is somebody else's
now and never written over. Several downloads may share a folder at once (threads, kernels): each
saves by merging its own entries into the manifest as it is on disk, under a lock on the folder,
through a temporary file of its own."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from deck_nb.client._names import inside, safe_name, unique_name

try:
    import fcntl
except ImportError:  # Windows: the threads of one process still wait for each other
    fcntl = None  # type: ignore[assignment]

MANIFEST = ".deck_nb-files.json"
LOCK_WAIT_S = 10.0  # a manifest save takes milliseconds; a lock held longer is a stuck process
_TEMPS = itertools.count(1)
_THREADS = threading.Lock()
log = logging.getLogger("deck_nb.files")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _plain_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def whole(path: Path, size: Any, sha256: Any) -> bool:
    """Whether ``path`` is a plain file (not a link) of exactly these size and sha256."""
    if not isinstance(size, int) or not isinstance(sha256, str):
        return False
    try:
        st = os.lstat(path)
        return stat.S_ISREG(st.st_mode) and st.st_size == size and sha256_of(path) == sha256
    except OSError:
        return False


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's lock (``flock`` on the folder itself: no lock file is left behind), waiting
    at most ``LOCK_WAIT_S``; where the system or share has no locks, only this process's threads
    wait for each other (a save still never fails: it merges what it reads)."""
    with _THREADS:
        fd = _lock(folder)
        try:
            yield
        finally:
            if fd is not None:
                os.close(fd)  # closing the folder's descriptor releases its lock


def _lock(folder: Path) -> int | None:
    if fcntl is None:
        return None
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return None
    until = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() < until:
                time.sleep(0.01)
                continue
            log.warning("%s stayed locked for %.0fs; saving its manifest without the lock", folder, LOCK_WAIT_S)
        except OSError:  # a file system without locks
            pass
        os.close(fd)
        return None


def _load(path: Path) -> dict[str, dict[str, Any]]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    files = loaded.get("files") if isinstance(loaded, dict) else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(v, dict) and isinstance(v.get("name"), str)}


class Manifest:
    """The folder's manifest as one download sees it. The folder is resolved and listed once, so
    naming a new file costs no system call; ``planned`` (casefolded) holds the names given out,
    ``taken`` every name in use."""

    def __init__(self, folder: Path) -> None:
        self.root = folder.resolve()
        self.path = self.root / MANIFEST
        self.files = _load(self.path)
        self.listing = os.listdir(self.root)
        # names given out: the manifest's and this download's, each item its own
        self.planned = {entry["name"].casefold() for entry in self.files.values()} | {MANIFEST.casefold()}
        # names in use, which a whole file never takes (``_claim.py``): those and every file there
        self.taken = self.planned | {name.casefold() for name in self.listing}
        self.saved_now: dict[str, dict[str, Any]] = {}

    def plan(self, item: Any) -> tuple[Path, str | None]:
        """The item's local path, and its sha256 when its file is already there whole. The name
        it was saved under before is kept when that file is still what was saved (then it is not
        fetched again) or is gone; any other file there is not deck_nb's: a new name is chosen."""
        entry = self.files.get(item.id)
        name = entry["name"] if entry is not None else None
        if name is not None and safe_name(name) == name:
            path = self.root / name
            if not os.path.lexists(path):  # a new file, or one deleted since: free (and reserved)
                return path, None
            size = entry.get("size")
            unchanged = not isinstance(item.file_size, int) or item.file_size == size
            if unchanged and whole(path, size, entry.get("sha256")):
                return path, entry["sha256"]
        # a file already there under this name (the manifest never heard of it: a download cut
        # short, a manifest that could not be saved, the user's own) is not skipped: the new file
        # takes the name only if it holds the very same bytes, else the next free one (_claim.py)
        safe = safe_name(item.file_name, item.id)
        name = unique_name(safe, self.planned, folded=True)
        if name.casefold() in self.taken and not _plain_file(self.root / name):  # a link, a folder: never
            name = unique_name(safe, self.taken, folded=True)
        self.planned.add(name.casefold())
        self.taken.add(name.casefold())
        return inside(self.root, name, resolved=True), None

    def record(self, storage_id: str, path: Path, size: int, sha256: str) -> None:
        self.saved_now[storage_id] = self.files[storage_id] = {"name": path.name, "size": size, "sha256": sha256}

    def save(self) -> None:
        """Merge this download's files into the manifest on disk (another download may have saved
        its own meanwhile) and write it through a temporary file of this call's own."""
        with folder_lock(self.root):
            files = {**_load(self.path), **self.saved_now}
            tmp = self.path.with_name(f"{MANIFEST}.{os.getpid()}-{next(_TEMPS)}.tmp")
            try:
                tmp.write_text(json.dumps({"version": 1, "files": files}, indent=1))
                os.replace(tmp, self.path)
            finally:
                tmp.unlink(missing_ok=True)
