"""The recorder: sends each request on, keeps the exchange redacted, and saves after a scan.

It sits at deck_nb's transport seam (``deck_nb._wire``), so it sees every request of every client,
sync or async, the notebook helpers' and batches' included. A request sent without the API key is a
signed-URL download: its URL is a secret and its body is kept as size and sha256 (``files="full"``:
the bytes too).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from deck_nb._version import __version__

from . import _exchange as ex
from ._format import FORMAT, VERSION, RecordingError, dumps, write
from ._redact import Redactor


class Recorder:
    """Keeps every exchange that passes the seam while it is active (``dn.record`` activates it)."""

    replays = False

    def __init__(
        self, path: str | Path, *, overwrite: bool = False, files: str = "digest", redact=(), redact_fields=()
    ) -> None:
        self.path = Path(path)
        if files not in ("digest", "full"):
            raise ValueError(f"files= takes 'digest' (size and sha256, the default) or 'full', not {files!r}")
        _check_writable(self.path)
        if self.path.exists() and not overwrite:
            raise RecordingError(f"{self.path} exists: pass overwrite=True to record over it")
        self.redactor = Redactor([str(v) for v in redact], [str(f) for f in redact_fields])
        self.files = files
        self.entries: list[dict[str, Any]] = []
        self.writes: dict[str, int] = {}
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.started_at = datetime.now(UTC)
        self.saved = False

    # -- the seam ------------------------------------------------------------------------------

    def handle(self, request: httpx.Request, send: Any) -> httpx.Response:
        entry, as_file = self._begin(request)
        try:
            response = send(request)
        except httpx.TransportError as exc:
            self._fail(entry, exc)
            raise
        return self._tee(entry, request, response, as_file, _SyncTee)

    async def handle_async(self, request: httpx.Request, send: Any) -> httpx.Response:
        entry, as_file = self._begin(request)
        try:
            response = await send(request)
        except httpx.TransportError as exc:
            self._fail(entry, exc)
            raise
        return self._tee(entry, request, response, as_file, _AsyncTee)

    def _begin(self, request: httpx.Request) -> tuple[dict[str, Any], bool]:
        authorization = request.headers.get("authorization")
        as_file = authorization is None  # signed URLs are fetched without the key (a capability of their own)
        request.headers["accept-encoding"] = "identity"  # readable bodies in the recording
        method = request.method
        with self.lock:
            self.redactor.api_key(authorization)
            if as_file:
                path = self.redactor.url(str(request.url)).removeprefix(_signed_host())
                query = ""
            else:
                path, query = request.url.path, ex.query_of(request.url)
            resource = ex.resource_of(path)
            entry = {
                "n": len(self.entries),
                "t": round(time.monotonic() - self.started, 4),
                "method": method,
                "path": path,
                "query": query,
                "resource": resource,
                "epoch": self.writes.get(resource, 0),
                "request": self.redactor.request_body(method, path, ex.request_json(request)),
            }
            if method not in ex.READS:
                self.writes[resource] = self.writes.get(resource, 0) + 1
            self.entries.append(entry)
        return entry, as_file

    def _fail(self, entry: dict[str, Any], exc: Exception) -> None:
        with self.lock:
            entry["error"] = type(exc).__name__

    def _tee(self, entry, request, response: httpx.Response, as_file: bool, tee: type) -> httpx.Response:
        def done(content: bytes, complete: bool) -> None:
            self._finish(entry, response, content, as_file, complete)

        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=tee(response.stream, done, as_file and self.files == "digest"),
            extensions=response.extensions,
            request=request,
        )

    def _finish(self, entry, response: httpx.Response, content: bytes, as_file: bool, complete: bool) -> None:
        headers = ex.kept_headers(response.headers)
        with self.lock:
            for cookie in response.headers.get_list("set-cookie"):
                headers.setdefault("set-cookie", self.redactor.secret(cookie, "Set-Cookie header", "cookie"))
            body = ex.response_body(content, response.headers, as_file, self.files == "full")
            if "json" in body:
                body["json"] = self.redactor.body(body["json"], response=True)
            entry["response"] = {"status": response.status_code, "headers": headers, **body}
            if not complete:
                entry["response"]["incomplete"] = True

    # -- saving --------------------------------------------------------------------------------

    def save(self) -> Path:
        """Write the recording, or refuse (``RecordingError``) if a known secret would reach the disk."""
        with self.lock:
            entries = [self.redactor.scrub(_settled(e)) for e in self.entries]
            header = {
                "format": FORMAT,
                "version": VERSION,
                "recorded_at": self.started_at.isoformat(),
                "deck_nb": __version__,
                "base_path": _base_path(entries),
                "files": self.files,
                "exchanges": len(entries),
            }
            identities = self.redactor.header()
            if identities:
                header["identities"] = identities
            lines = [dumps(e) for e in entries]
            leaks = self.redactor.leaks(lines, _kept_bytes(entries))
            if leaks:
                rule, where = leaks[0]
                raise RecordingError(
                    f"not writing {self.path}: a secret the session knows (found by the rule {rule!r}) is still "
                    f"in it, at {where}: no placeholder rule covered that spot, so nothing was written"
                )
            write(self.path, header, entries)
            self.saved = True
        return self.path


def _check_writable(path: Path) -> None:
    """Refuse, before any traffic, a path no save could write (the session would be lost at the end)."""
    if path.is_dir():
        example = path / "session.deckrec"
        raise RecordingError(f"{path} is a folder, not a recording file: name a file in it, e.g. {example}")
    folder = next((p for p in path.parents if p.exists()), None)
    if folder is not None and not folder.is_dir():
        raise RecordingError(f"{path}: {folder} is a file, not a folder, so the recording cannot be saved there")


def _kept_bytes(entries: list[dict[str, Any]]) -> list[tuple[int, bytes]]:
    """The bytes a recording keeps encoded (files="full", binary bodies), with their line numbers."""
    kept = []
    for number, entry in enumerate(entries, 2):
        response = entry.get("response", {})
        encoded = response.get("base64") or response.get("file", {}).get("base64")
        if encoded:
            kept.append((number, base64.b64decode(encoded)))
    return kept


def _settled(entry: dict[str, Any]) -> dict[str, Any]:
    if "response" in entry or "error" in entry:
        return entry
    return {**entry, "error": "NoResponse"}  # still in flight when saved


def _base_path(entries: list[dict[str, Any]]) -> str:
    for entry in entries:
        parts = entry["path"].split("/")
        if len(parts) > 2 and parts[1] and not entry["path"].startswith("/signed-url/"):
            return "/" + parts[1]
    return "/v2"


def _signed_host() -> str:
    from ._redact import SIGNED_HOST

    return SIGNED_HOST


class _SyncTee(httpx.SyncByteStream):
    """Passes the body through and hands what it saw to the recorder when closed."""

    def __init__(self, inner, done, digest_only: bool) -> None:
        self.inner, self.done, self.chunks, self.complete = inner, done, [], False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            self.chunks.append(chunk)
            yield chunk
        self.complete = True

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.done(b"".join(self.chunks), self.complete)


class _AsyncTee(httpx.AsyncByteStream):
    def __init__(self, inner, done, digest_only: bool) -> None:
        self.inner, self.done, self.chunks, self.complete = inner, done, [], False

    async def __aiter__(self):
        async for chunk in self.inner:
            self.chunks.append(chunk)
            yield chunk
        self.complete = True

    async def aclose(self) -> None:
        try:
            await self.inner.aclose()
        finally:
            self.done(b"".join(self.chunks), self.complete)
