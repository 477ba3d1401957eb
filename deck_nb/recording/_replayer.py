"""The replayer: answers every request from a recording, never from the network.

Order-aware per resource: the GETs of one run are answered in recorded order, and once its answers
are used up the last one (the terminal state) repeats; writes (a create, an answer, a cancel) are
matched per endpoint by what they ask (``_match``: the same non-secret values, the same account),
then by order; one that asks what was never recorded is a ``ReplayMiss``. Each answer
belongs to an *epoch* of its resource (how many writes it had seen), so a poller that asks more or
fewer times than at recording time still meets the answer that followed each write; concurrent runs
of a batch match by resource and sequence, not by global order.

A ``GET`` of one object that was never asked at recording time (a waiter that re-read its run where
the recorded one heard of it on the event feed) is answered with that object as the replay last
served it, in any answer (a create, an event, a list); an object the replay never served is a miss.
"""

from __future__ import annotations

import difflib
import threading
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from . import _exchange as ex
from . import _match
from ._format import load
from ._redact import SIGNED_HOST, Redactor


class ReplayMiss(LookupError):
    """The replay was asked something its recording never saw (no request reached the network)."""


class FileNotKept(ReplayMiss):
    """A download whose recording kept the file's size and sha256 only (``files="digest"``, the
    default): the replay has no bytes to give, and says so rather than answering other bytes."""


_ERRORS = {"ConnectError": httpx.ConnectError, "ConnectTimeout": httpx.ConnectTimeout, "ReadTimeout": httpx.ReadTimeout}


class Replayer:
    replays = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.header, self.entries = load(self.path)
        self.started_at = datetime.fromisoformat(self.header["recorded_at"])
        self.base_path = self.header.get("base_path", "/v2")
        self.reads: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self.writes: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for entry in self.entries:
            if entry["method"] in ex.READS:
                self.reads.setdefault((entry["method"], entry["path"], entry["query"]), []).append(entry)
            else:
                self.writes.setdefault((entry["method"], entry["path"]), []).append(entry)
        self.served: set[int] = set()
        self.epochs: dict[str, int] = {}
        self.lock = threading.Lock()
        identities = self.header.get("identities")
        self.redactor = Redactor(identities=identities if isinstance(identities, dict) else {})
        self.accounts = set(self.redactor.recorded.values())  # login-name placeholders it can tell apart
        self.latest: dict[str, dict[str, Any]] = {}  # object id -> as last served (see the docstring)
        self.files = _stored_files(self.entries)  # signed-URL placeholder -> the item it fetches, for misses

    # -- the seam ------------------------------------------------------------------------------

    def handle(self, request: httpx.Request, send: Any = None) -> httpx.Response:
        return self._answer(request)

    async def handle_async(self, request: httpx.Request, send: Any = None) -> httpx.Response:
        return self._answer(request)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        method, path, query = request.method, request.url.path, ex.query_of(request.url)
        if request.url.host == "redacted.deck-nb.invalid":
            query = ""
        with self.lock:
            entry = self._read(method, path, query) if method in ex.READS else self._write(method, path, request)
        if "error" in entry:
            raise _ERRORS.get(entry["error"], httpx.ReadError)(f"{entry['error']} (as recorded)", request=request)
        response = entry["response"]
        file = response.get("file")
        if isinstance(file, dict) and "base64" not in file and 200 <= response["status"] < 300:
            raise self._not_kept(entry)
        if "json" in response:
            with self.lock:
                _remember(response["json"], self.latest)
        return self._response(request, response)

    def _response(self, request: httpx.Request, response: dict[str, Any]) -> httpx.Response:
        headers = dict(response.get("headers", {}))
        headers.pop("content-encoding", None) if "base64" not in response else None
        return httpx.Response(response["status"], headers=headers, content=ex.content_of(response), request=request)

    def _read(self, method: str, path: str, query: str) -> dict[str, Any]:
        found = self.reads.get((method, path, query)) or self._nearby(method, path, query)
        if not found:
            seen = self.latest.get(path.rsplit("/", 1)[-1]) if method == "GET" and not query else None
            if seen is None:
                raise self._miss(method, path, query)
            ok = {"status": 200, "headers": {"content-type": "application/json"}, "json": seen}
            return {"n": -1, "response": ok}
        epoch = self.epochs.get(ex.resource_of(path), 0)
        same = [e for e in found if e["epoch"] == epoch]
        if not same:  # the client wrote more (or fewer) times than recorded: the nearest epoch's answers
            earlier = [e for e in found if e["epoch"] < epoch]
            same = [earlier[-1]] if earlier else [e for e in found if e["epoch"] == found[0]["epoch"]]
        for entry in same:
            if entry["n"] not in self.served:
                self.served.add(entry["n"])
                return entry
        return same[-1]  # used up: the last (terminal) answer repeats

    def _nearby(self, method: str, path: str, query: str) -> list[dict[str, Any]] | None:
        """An event-feed page asked from another cursor (``created_after``) than recorded: the answers
        recorded for the nearest earlier cursor (the feed dedupes by id and drops older events)."""
        asked = dict(parse_qsl(query))
        cursor = asked.pop("created_after", None)
        if cursor is None:
            return None
        best: tuple[str, list[dict[str, Any]]] | None = None
        for (m, p, q), entries in self.reads.items():
            recorded = dict(parse_qsl(q))
            theirs = recorded.pop("created_after", None)
            if m != method or p != path or recorded != asked or theirs is None:
                continue
            if best is None or (theirs <= cursor and (best[0] > cursor or theirs > best[0])):
                best = (theirs, entries)
        return best[1] if best else None

    def _write(self, method: str, path: str, request: httpx.Request) -> dict[str, Any]:
        recorded = self.writes.get((method, path), [])
        if not recorded:
            raise self._miss(method, path, "")
        body = self.redactor.request_body(method, path, ex.request_json(request))
        left = [e for e in recorded if e["n"] not in self.served]
        pick = _match.choose(body, left, self.accounts)
        if pick is None:
            raise self._unmatched(method, path, body, recorded, left)
        self.served.add(pick["n"])
        resource = ex.resource_of(path)
        self.epochs[resource] = self.epochs.get(resource, 0) + 1
        return pick

    def _unmatched(self, method: str, path: str, body: Any, recorded: list, left: list) -> ReplayMiss:
        times = len([e for e in recorded if _match.choose(body, [e], self.accounts) is not None])
        if times:
            return ReplayMiss(
                f"replay of {self.path}: {method} {path} was sent more often than recorded with this body "
                f"({times} time{'s' if times != 1 else ''}); the recording has no answer left"
            )
        entry, found = _match.nearest(body, left or recorded, self.accounts)
        return ReplayMiss(
            f"replay of {self.path}: no recorded answer for {method} {path} with this body; the nearest "
            f"recorded one (line {entry['n'] + 2}) differs at {'; '.join(found[:3])} (nothing was sent)"
        )

    def _not_kept(self, entry: dict[str, Any]) -> FileNotKept:
        file = entry["response"]["file"]
        item = self.files.get(SIGNED_HOST + entry["path"], "a downloaded file")
        return FileNotKept(
            f"replay of {self.path}: the recording kept only the size ({file['size']} bytes) and sha256 "
            f'({file["sha256"][:12]}…) of {item}, not its bytes: record with files="full" to replay '
            "downloads (nothing was sent)"
        )

    def _miss(self, method: str, path: str, query: str) -> ReplayMiss:
        asked = f"{method} {path}" + (f"?{query}" if query else "")
        known = sorted({f"{e['method']} {e['path']}" + (f"?{e['query']}" if e["query"] else "") for e in self.entries})
        nearest = difflib.get_close_matches(asked, known, n=1, cutoff=0.0)
        hint = f"; the nearest recorded request is {nearest[0]}" if nearest else "; the recording is empty"
        return ReplayMiss(f"replay of {self.path}: no recorded answer for {asked}{hint} (nothing was sent)")


def _remember(body: Any, latest: dict[str, dict[str, Any]], depth: int = 0) -> None:
    """Every object in an answer (itself, a page's items, an event's data) under its id."""
    if depth > 3:
        return
    if isinstance(body, list):
        for item in body:
            _remember(item, latest, depth + 1)
    elif isinstance(body, dict):
        if isinstance(body.get("id"), str) and "status" in body:
            latest[body["id"]] = body
        for key in ("data",):
            if key in body:
                _remember(body[key], latest, depth + 1)


def _stored_files(entries: list[dict[str, Any]]) -> dict[str, str]:
    """Each recorded signed URL (a placeholder) named by the storage item that answered it."""
    named = {}
    for entry in entries:
        body = entry.get("response", {}).get("json")
        items = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), list) else [body]
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("url"), str) and isinstance(item.get("id"), str):
                named[item["url"]] = f"storage item {item['id']} ({item.get('file_name')!r})"
    return named
