"""One exchange as a recording keeps it, and back: request keys, body kinds, resource and epoch.

Shared by the recorder and the replayer, so both cut requests into the same keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

KEEP_HEADERS = ("content-type", "retry-after", "x-request-id", "content-encoding", "location")
READS = ("GET", "HEAD", "OPTIONS")


def query_of(url: httpx.URL) -> str:
    """The query with its parameters sorted: the same question, the same key."""
    return urlencode(sorted(parse_qsl(url.query.decode("ascii", "replace"), keep_blank_values=True)))


def resource_of(path: str) -> str:
    """The object a request is about (``/v2/task-runs/trun_1`` for its GETs, answers and cancel)."""
    return "/".join(path.split("/")[:4])


def shape(obj: Any) -> Any:
    """A body's keys and nesting without its values: what a create or an answer is matched on."""
    if isinstance(obj, dict):
        return {k: shape(v) for k, v in sorted(obj.items())}
    if isinstance(obj, list):
        return [shape(v) for v in obj[:1]]
    return type(obj).__name__


def request_json(request: httpx.Request) -> Any:
    content = request.content
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return {"_unparsed_bytes": len(content)}


def response_body(content: bytes, headers: httpx.Headers, as_file: bool, full: bool) -> dict[str, Any]:
    """The body as kept: JSON when it is JSON, else text, else base64; a file as size and sha256."""
    if as_file:
        body: dict[str, Any] = {"file": {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}}
        if full:
            body["file"]["base64"] = base64.b64encode(content).decode("ascii")
        return body
    if not content:
        return {}
    if not headers.get("content-encoding"):
        try:
            return {"json": json.loads(content)}
        except ValueError:
            pass
        try:
            return {"text": content.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"base64": base64.b64encode(content).decode("ascii")}


def content_of(response: dict[str, Any]) -> bytes:
    """The bytes a replay answers with (a file kept as a digest has none: an error answer's body)."""
    if "json" in response:
        return json.dumps(response["json"], ensure_ascii=False).encode("utf-8")
    if "text" in response:
        return response["text"].encode("utf-8")
    if "base64" in response:
        return base64.b64decode(response["base64"])
    if "file" in response:
        file = response["file"]
        return base64.b64decode(file["base64"]) if "base64" in file else b""
    return b""


def kept_headers(headers: httpx.Headers) -> dict[str, str]:
    return {name: headers[name] for name in KEEP_HEADERS if name in headers}
