"""``screenshots(run)``: what the agent saw, as a frame (one row per screenshot, oldest first, with
its reasoning); the images only on demand (``image(frame_row)`` / ``fetch_image``), fetched over
the plain client from a fresh listing — the signed URLs stay out of the frame."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pandas as pd

from ._runs import resolve

COLUMNS = ["run_id", "index", "screenshot_id", "created_at", "reasoning", "file_name", "file_type", "file_size"]
MAX_IMAGE_BYTES = 10 * 1024 * 1024


def screenshots(runs: Any, *, deck: Any = None) -> pd.DataFrame:
    """One row per screenshot of ``runs`` (a job, runs, ids): when, and what the agent reasoned."""
    refs, client = resolve(runs, deck)
    rows = []
    for ref in refs:
        for index, shot in enumerate(client.task_runs.screenshots(ref.id)):
            rows.append(
                {
                    "run_id": ref.id,
                    "index": index,
                    "screenshot_id": shot.id,
                    "created_at": shot.created_at,
                    "reasoning": shot.reasoning,
                    "file_name": shot.file_name,
                    "file_type": shot.file_type,
                    "file_size": shot.file_size,
                }
            )
    frame = pd.DataFrame.from_records(rows, columns=COLUMNS)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    for name in ("run_id", "screenshot_id", "reasoning", "file_name", "file_type"):
        frame[name] = frame[name].astype("string")
    frame["file_size"] = frame["file_size"].astype("Int64")
    return frame


def fetch_image(run_id: str, index: int = -1, *, deck: Any = None) -> tuple[bytes, Any]:
    """The bytes of one screenshot (default: the last) and its Screenshot model, read now."""
    refs, client = resolve(run_id, deck)
    shots = list(client.task_runs.screenshots(refs[0].id))
    if not shots:
        raise LookupError(f"run {refs[0].id} has no screenshots (Deck keeps them 15 days)")
    shot = shots[index]
    return screenshot_bytes(client, shot), shot


def last_screenshot(run: Any, *, deck: Any = None) -> tuple[Any, bytes | None]:
    """A failed run's card's picture: (its last Screenshot or None, the PNG bytes or None). Never
    raises for a missing or unreadable image: the card then shows the reasoning alone."""
    from deck_nb.client import DeckError

    try:
        refs, client = resolve(run, deck)
        shots = list(client.task_runs.screenshots(refs[0].id)) if refs else []
    except DeckError:
        return None, None
    if not shots:
        return None, None
    try:
        return shots[-1], screenshot_bytes(client, shots[-1])
    except (LookupError, OSError, DeckError, httpx.HTTPError):
        return shots[-1], None


def screenshot_bytes(client: Any, shot: Any) -> bytes:
    """One screenshot's bytes over the plain client (no Deck header), at most ``MAX_IMAGE_BYTES``."""
    from deck_nb.client._deadline import call_deadline
    from deck_nb.client._signed import remember

    http = client.storage._plain(False)
    if not shot.url:
        raise LookupError("this screenshot came without a URL")
    chunks, size = [], 0
    until = time.monotonic() + client.deadline  # a trickling server ends at the client's deadline
    with call_deadline(until), http.stream("GET", remember(shot.url)) as response:
        if response.status_code != 200:
            raise LookupError(f"the screenshot answered HTTP {response.status_code}")
        for chunk in response.iter_bytes():
            size += len(chunk)
            if time.monotonic() > until:
                raise LookupError("the screenshot did not arrive in time")
            if size > MAX_IMAGE_BYTES:
                raise LookupError("the screenshot is larger than 10 MB")
            chunks.append(chunk)
    return b"".join(chunks)
