"""What the journal reads from API objects of both of Deck's APIs (the seed's connections, the
current credentials and sessions), whether they come as client models, dicts, pages or events.
Unknown objects are skipped, never crashed on."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

KINDS = ("connection", "task_run", "credential", "session")
# statuses after which a resource changes no more (a credential's `invalid` is not: a PATCH revives it)
TERMINAL: dict[str, frozenset[str]] = {
    "connection": frozenset({"connected", "invalid", "disconnected"}),
    "task_run": frozenset({"completed", "failed", "canceled"}),
    "session": frozenset({"completed", "failed"}),
    "credential": frozenset({"deleted"}),
}
# one spelling per status: Deck's pages spell the cancelling state both ways
SPELLINGS = {"canceling": "cancelling"}


def ts(value: Any) -> float | None:
    """An API timestamp (ISO text or datetime) as epoch seconds; None when absent or unreadable."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def finished_at(data: dict[str, Any]) -> float | None:
    """When a resource ended: its completed/canceled/ended time, else its last update once terminal."""
    ended = ts(data.get("completed_at") or data.get("canceled_at") or data.get("ended_at"))
    terminal = TERMINAL.get(str(data.get("object")), frozenset())
    return ended or (ts(data.get("updated_at")) if data.get("status") in terminal else None)


def plain(obj: Any) -> dict[str, Any] | None:
    """A model or dict as a dict (None for anything else)."""
    for method in ("to_dict", "model_dump"):
        if hasattr(obj, method):
            try:
                obj = getattr(obj, method)()
            except Exception:  # an exotic object: not ours to journal
                return None
            break
    return obj if isinstance(obj, dict) else None


def normalized(data: dict[str, Any]) -> dict[str, Any]:
    status = data.get("status")
    if status in SPELLINGS:
        return {**data, "status": SPELLINGS[status]}
    return data


def resources_in(obj: Any) -> list[dict[str, Any]]:
    """The journaled resources inside a response: a model, a dict, a page, or an event."""
    data = plain(obj)
    if data is None:
        return []
    if isinstance(data.get("data"), list):  # a page
        found: list[dict[str, Any]] = []
        for item in data["data"]:
            found.extend(resources_in(item))
        return found
    if data.get("object") == "event" and isinstance(data.get("data"), dict):
        return resources_in(data["data"])
    return [normalized(data)] if data.get("object") in KINDS and isinstance(data.get("id"), str) else []


def links_of(data: dict[str, Any]) -> list[tuple[str, str | None, str | None, int | None]]:
    """(run id, session id, credential id, position in its session) for each run this object places."""
    if data.get("object") == "task_run" and (data.get("session_id") or data.get("credential_id")):
        return [(data["id"], _text(data.get("session_id")), _text(data.get("credential_id")), None)]
    if data.get("object") == "session":
        runs = [r for r in data.get("task_runs") or [] if isinstance(r, dict) and isinstance(r.get("id"), str)]
        return [(r["id"], data["id"], _text(r.get("credential_id")), i) for i, r in enumerate(runs)]
    return []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def as_text(value: Any) -> str | None:
    """Text columns hold text: an id, status or code of another type (a newer API?) is kept as text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)


def as_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


LOGIN_KINDS = ("connection", "credential")
_LOGIN_PATH = re.compile(r"^/(connections|credentials)(/[^/?]+)?/?$")


def username_in(data: dict[str, Any]) -> str | None:
    """A credential's own summary names its user (``auth_credentials: {username}``, never a secret)."""
    summary = data.get("auth_credentials")
    name = summary.get("username") if isinstance(summary, dict) else None
    return name if isinstance(name, str) and name else None


def username_sent(call: Any) -> str | None:
    """The user name a call creating or changing a login sent (Deck never echoes it on connections)."""
    if getattr(call, "method", None) not in ("POST", "PATCH") or not _LOGIN_PATH.match(getattr(call, "path", "")):
        return None
    body = getattr(call, "body", None)
    return username_in(body) if isinstance(body, dict) else None


def settled_resource(obj: Any) -> Any:
    """The resource of a job once it settled (``job.result``: an unfinished one raises ``JobPending``,
    so a frame of a run still waiting for a person is an error, not an empty table); anything else
    as it is. Duck-typed: the history sits below the notebook layer and imports nothing of it."""
    if hasattr(obj, "machine") and hasattr(obj, "done") and hasattr(obj, "resource"):
        return obj.result
    return getattr(obj, "resource", obj)
