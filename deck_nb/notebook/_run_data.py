"""What a run's card shows of its data once it ends, read by the plan like any other request: a
completed run's files (one page of ``task_runs.files``, and only when its task keeps storage — a task
without storage costs its runs nothing but one read of the task per client every 5 minutes), a failed run's last
screenshot and reasoning (``deck_nb.files.last_screenshot``: the bytes, never the signed URL). Not in
a batch: its dashboard has no cards, and ``BatchResult.download`` / ``.extractions`` read the files."""

from __future__ import annotations

import asyncio
import contextlib
import html
import threading
import time
import weakref
from collections.abc import Generator
from typing import Any

from deck_nb.client import AsyncDeck, DeckError

from .machine import Call

FILES_PAGE = 100  # the files one card read brings; a run with more says "more than 100"
DATA_ERRORS = (DeckError, OSError, LookupError)  # a card without its data line, never a failed job


class TaskStorage:
    """Whether each task keeps storage, per client: read from ``GET /v2/tasks/{id}`` at most once
    every ``TTL_S`` (a task's storage may be turned on meanwhile: its later runs then list files)."""

    TTL_S = 300.0

    def __init__(self) -> None:
        self._known: weakref.WeakKeyDictionary[Any, dict[str, tuple[bool, float]]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def keeps(self, deck: Any, task_id: str) -> bool | None:
        """True or False when read lately; None when it is to be read (again)."""
        with self._lock:
            try:
                known = self._known.get(deck, {}).get(task_id)
            except TypeError:  # a client that cannot be weakly referenced is not remembered
                return None
        if known is None or time.monotonic() - known[1] > self.TTL_S:
            return None
        return known[0]

    def saw(self, deck: Any, task_id: str, task: Any) -> bool | None:
        """Remember what ``task`` says (None: it shows no storage config, so nothing is known)."""
        keeps = storage_enabled(task)
        if keeps is not None:
            with self._lock, contextlib.suppress(TypeError):
                self._known.setdefault(deck, {})[task_id] = (keeps, time.monotonic())
        return keeps


def storage_enabled(task: Any) -> bool | None:
    """A task's ``storage.enabled``: None when the task object has no ``storage`` field at all (an
    older revision: then the run's files are looked for); False when it is null or off."""
    extra = getattr(task, "__pydantic_extra__", None) or {}
    if "storage" not in extra:
        return None
    config = extra["storage"]
    return bool(config.get("enabled")) if isinstance(config, dict) else False


TASK_STORAGE = TaskStorage()


def read_run_data(job: Any, obj: Any) -> Generator[Any, Any, None]:
    """Once a run ended: its files when it completed, its last screenshot when it failed."""
    if getattr(job, "_fed_by_events", False):
        return
    if obj.status == "completed":
        yield from _read_files(job, obj)
    elif obj.status == "failed":
        yield from _read_screenshot(job)


def _read_files(job: Any, obj: Any) -> Generator[Any, Any, None]:
    task_id = obj.task_id or job.task_id
    keeps = TASK_STORAGE.keeps(job._deck, task_id)
    if keeps is None:
        try:
            task = yield Call(lambda deck: deck.tasks.retrieve(task_id), "read the task's storage", DATA_ERRORS)
        except DATA_ERRORS:
            return  # the task cannot be read now: the card lists no files (dn.download still reads them)
        keeps = TASK_STORAGE.saw(job._deck, task_id, task)
    if keeps is False:
        return
    try:
        items, more = yield Call(lambda deck: _first_page(deck, obj.id), "read the run's files", DATA_ERRORS)
    except DATA_ERRORS as exc:
        job.machine.saw_files(None, error=type(exc).__name__)
        return
    job.machine.saw_files(items, more=more)


def _first_page(deck: Any, run_id: str) -> Any:
    """(the items, whether there are more) of the run's first page of files."""
    pager = deck.task_runs.files(run_id, limit=FILES_PAGE)
    if isinstance(deck, AsyncDeck):
        return _first_page_async(pager)
    page = next(iter(pager.pages()))
    return page.data, page.has_more


async def _first_page_async(pager: Any) -> tuple[list[Any], bool]:
    pages = pager.pages()
    try:
        page = await pages.__anext__()
    finally:
        await pages.aclose()
    return page.data, page.has_more


def _read_screenshot(job: Any) -> Generator[Any, Any, None]:
    try:
        shot, image = yield Call(lambda deck: _last_screenshot(deck, job), "read the last screenshot", DATA_ERRORS)
    except DATA_ERRORS:
        return
    if shot is not None:
        job.machine.saw_screenshot(shot, image)


def _last_screenshot(deck: Any, job: Any) -> Any:
    """``deck_nb.files.last_screenshot`` with the job's sync client; from the async shell in a
    thread, so the kernel's loop (and every other card) goes on meanwhile."""
    from deck_nb.files import last_screenshot

    if isinstance(deck, AsyncDeck):
        return asyncio.to_thread(last_screenshot, job)
    return last_screenshot(job, deck=deck)


def card_details(machine: Any) -> tuple[list[str], str]:
    """The lines under a run's card (text, HTML) from what the machine read: its files, or why they
    could not be read; a failed run's last screenshot."""
    from deck_nb.widgets import _files

    text, page = [], ""
    if machine.files is not None:
        text += _files.files_text(machine.files, machine.files_more)
        page += _files.files_html(machine.files, machine.files_more)
    elif machine.files_error is not None:
        words = f"its files could not be read ({machine.files_error}); dn.download(job) reads them again"
        text.append(words)
        page += f"<div class='deck-nb-files'>{html.escape(words)}</div>"
    if machine.screenshot is not None:
        shot = _as_shown(machine)
        text.append(_files.screenshot_text(shot))
        page += _files.screenshot_html(shot, machine.screenshot_image)
    return text, page


RESTATED = "where the agent stopped (why: see above)"


def _as_shown(machine: Any) -> Any:
    """The last screenshot as the card tells it. Its reasoning may only restate an error the card
    put in truer words (a lockout is not "credentials rejected": a new password would not help);
    the card then does not repeat the source's sentence. ``job.screenshots()`` keeps it as said."""
    shot = machine.screenshot
    reasoning = getattr(shot, "reasoning", None) or ""
    replaced = [e.message for e in machine.errors if e.message and e.message not in machine.note]
    if not any(message in reasoning for message in replaced) or not hasattr(shot, "model_copy"):
        return shot
    return shot.model_copy(update={"reasoning": RESTATED})
