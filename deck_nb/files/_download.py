"""``dn.download``: every file of some runs into one folder, as a frame of one row per file.

Bounded concurrency (an event loop of its own, or threads: ``_engines.py``; the same in a kernel
and a script),
a progress line, resumable (a file already saved there with its size and sha256 is not fetched
again: a manifest in the folder remembers what was saved under which name), and one failed file is
a row with its error. Names come from ``file_name`` made safe and unique in the folder: a download
never writes outside it nor over any file there (a whole file takes its name atomically, see
``_claim.py``), even with other downloads into the same folder at once."""

from __future__ import annotations

import logging
import os
import time
import warnings
from concurrent.futures import CancelledError, wait
from functools import partial
from pathlib import Path
from typing import Any

from deck_nb.client._download import Fetched, announce, clear_stale_parts

from ._claim import claim
from ._engines import engine_for
from ._frame import FilesFrame, files_frame
from ._manifest import Manifest
from ._progress import Progress
from ._runs import RunRef, resolve

DEFAULT_CONCURRENCY = 8
log = logging.getLogger("deck_nb.files")
TICK_S = 0.2  # how often this thread looks at the transfers that ended
FLUSH_S = 2.0  # the journal and the folder's manifest hear of saved files at least this often


def download(
    runs: Any,
    dir: str | os.PathLike[str] = "deck_files",
    *,
    deck: Any = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool | None = None,
) -> FilesFrame:
    """Fetch every file of ``runs`` (a job, a list, a BatchResult, a runs frame, run ids) into
    ``dir``: one row per file with its local ``path`` and ``sha256``, its extraction ``result``,
    and ``error`` for a file that could not be fetched (the others are fetched all the same)."""
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= 64:
        raise ValueError(f"concurrency must be a whole number from 1 to 64, not {concurrency!r}")
    refs, client = resolve(runs, deck)
    folder = Path(dir)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(folder)
    rows: list[dict[str, Any]] = []
    engine = engine_for(client, concurrency)
    saved = _Saved(client, manifest)
    jobs: list[Any] = []
    pending: dict[Any, dict[str, Any]] = {}
    try:
        jobs, bar = _plan(engine, client, refs, manifest, rows, progress, folder, saved)
        pending = {future: row for row, future in jobs if future is not None}
        try:
            for future in _ended(pending):
                _settle(future, pending[future], saved, bar)
        finally:
            bar.close()
    except BaseException:  # an interrupt: files not started are not started; those running end bounded
        engine.close(cancel=True)
        for future, row in pending.items():  # what ended whole before the stop is kept, and known
            if future.done() and not row["fetched"] and row["error"] is None:  # ended, not yet settled
                _settle(future, row, saved, None)
        saved.flush(last=False)
        raise
    else:
        engine.close()
        saved.flush()
    finally:
        if getattr(client, "_one_call", False):  # a sync twin of the caller's AsyncDeck, and its loop
            client.close()
    return files_frame(rows + [row for row, _ in jobs])


def _settle(future: Any, row: dict[str, Any], saved: _Saved, bar: Progress | None) -> None:
    """One ended transfer into its row: the file kept (the manifest and journal will hear of it),
    or its error (one failed file is a row, never the end of the others)."""
    try:
        fetched = future.result()
    except CancelledError:
        row.update(path=None, error="Stopped: the download ended before this file was fetched", fetched=False)
        failed = True
    except Exception as exc:
        row.update(path=None, error=_say(exc), fetched=False)
        failed = True
    else:
        row.update(path=str(fetched.path), sha256=fetched.sha256, fetched=True, file_size=fetched.size)
        saved.add(fetched)  # here, not in the transfers: they never wait for the journal
        failed = False
    if bar is not None:
        bar.advance(failed=failed, size=0 if failed else row["file_size"] or 0)


def _ended(futures: Any) -> Any:
    """The futures as they end, looked at every ``TICK_S`` rather than woken for each: this thread
    then takes Python's lock from the transfers a few times a second, not once per file (which
    measured a fifth slower), and the progress line still moves as files end."""
    waiting = set(futures)
    while waiting:
        done, waiting = wait(waiting, timeout=TICK_S)
        yield from done


class _Saved:
    """The files saved and not yet told: the journal (one transaction per batch) and the folder's
    manifest hear of them every ``FLUSH_S`` and when the download ends, however it ends."""

    def __init__(self, client: Any, manifest: Manifest) -> None:
        self.client, self.manifest = client, manifest
        self.waiting: list[Fetched] = []
        self.due = time.monotonic() + FLUSH_S

    def add(self, fetched: Fetched, kept: bool = False) -> None:
        if not kept:
            self.manifest.record(fetched.item.id, fetched.path, fetched.size, fetched.sha256)
        self.waiting.append(fetched)
        if time.monotonic() >= self.due:
            self.flush(last=False)

    def flush(self, last: bool = True) -> None:
        """Tell what is waiting. A manifest that cannot be written now is tried again later; at the
        end it is a warning, never the loss of the frame: the files are whole on disk, and a later
        download finds them by their bytes (``_claim.py``) rather than by the manifest."""
        waiting, self.waiting = self.waiting, []
        self.due = time.monotonic() + FLUSH_S
        announce(self.client, waiting)
        if not self.manifest.saved_now:
            return
        try:
            self.manifest.save()
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            if last:
                warnings.warn(
                    f"dn.download could not save its manifest {self.manifest.path} ({why}); the files "
                    "are whole, and the next download into this folder fetches them again to check",
                    RuntimeWarning,
                    stacklevel=4,
                )
            else:
                log.warning("could not save %s yet (%s); trying again", self.manifest.path.name, why)


def _plan(engine, client, refs, manifest, rows, progress, folder, saved) -> tuple[list, Progress]:
    """List every run's files, name each (while the later listings are still coming), and start the
    fetches of those not already on disk, the largest first: ``[[row, future or None], ...]`` (in
    the listings' order) and the progress line."""
    listings = [(ref, engine.listing(ref.id)) for ref in refs]
    jobs: list[Any] = []
    kept: list[tuple[Any, Path, str]] = []
    wanted: list[tuple[int, int, Any, Path]] = []
    for ref, listing in listings:
        try:
            items = listing.result()
        except Exception as exc:  # the run's listing failed: one row says so
            rows.append(_row(ref, None, error=_say(exc)))
            continue
        for item in items:
            row = _row(ref, item)
            path, sha256 = manifest.plan(item)
            row["path"] = str(path)
            if sha256 is not None:
                row.update(sha256=sha256, fetched=False)
                kept.append((item, path, sha256))
            else:
                wanted.append((len(jobs), _size_of(item), item, path))
            jobs.append([row, None])
    parts = [name for name in manifest.listing if name.endswith(".part")]
    bar = Progress(len(jobs), str(folder), progress)
    for item, path, sha256 in kept:
        saved.add(Fetched(path, item.file_size or 0, sha256, item), kept=True)
        bar.advance(size=item.file_size or 0, cached=True)
    if parts:  # what killed downloads of these files left behind
        for item in [k[0] for k in kept] + [w[2] for w in wanted]:
            clear_stale_parts(manifest.root, item, parts, client.deadline)
    place = partial(claim, taken=manifest.taken)
    # the largest first: a big file started last would stream alone at the end (the rows keep their order)
    for index, _, item, path in sorted(wanted, key=lambda w: -w[1]):
        jobs[index][1] = engine.fetch(item.id, path, place)
    return jobs, bar


def _size_of(item: Any) -> int:
    size = item.file_size
    return size if isinstance(size, int) and not isinstance(size, bool) else 0


def _row(ref: RunRef, item: Any, error: str | None = None) -> dict[str, Any]:
    return {
        "run_id": ref.id,
        "storage_id": getattr(item, "id", None),
        "file_name": getattr(item, "file_name", None),
        "file_type": getattr(item, "file_type", None),
        "file_size": getattr(item, "file_size", None),
        "path": None,
        "sha256": None,
        "result": getattr(item, "result", None),
        "error": error,
        "fetched": False,
    }


def _say(exc: BaseException) -> str:
    """An error as a row's text: its class and message (deck_nb's messages never hold a signed URL)."""
    return f"{type(exc).__name__}: {exc}"[:500]
