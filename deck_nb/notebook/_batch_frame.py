"""``BatchResult.frame``: one typed row per batch item, in the history's column names, naming the
account each item used (user name and external id as the analyst gave them; never a secret), so a
failed account is found by name, not by position."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deck_nb.history import _categories as K

from ._batch_specs import RunTask

if TYPE_CHECKING:
    import pandas as pd


FRAME_COLUMNS = [
    "index",
    "kind",
    "api",
    "source_id",
    "task_id",
    "username",
    "external_id",
    "connection_id",
    "credential_id",
    "run_id",
    "status",
    "ok",
    "duration_s",
    "error_code",
    "error",
]
_CATEGORIES = {
    "kind": K.BATCH_KINDS,
    "api": K.APIS,
    "status": K.BATCH_STATUSES,
    "error_code": K.ERROR_CODES,
}
_TEXT = ("source_id", "task_id", "username", "external_id", "connection_id", "credential_id", "run_id", "error")


def batch_frame(outcomes: list[Any]) -> pd.DataFrame:
    import pandas as pd

    from deck_nb.history.frames import as_category

    frame = pd.DataFrame([_row(o) for o in outcomes], columns=FRAME_COLUMNS)
    frame["index"] = frame["index"].astype("Int64")
    for name in _TEXT:
        frame[name] = frame[name].astype("string")
    for name, known in _CATEGORIES.items():
        frame[name] = as_category(frame[name], known)
    frame["ok"] = frame["ok"].astype("boolean")
    frame["duration_s"] = frame["duration_s"].astype("float64")
    return frame


def _row(o: Any) -> dict[str, Any]:
    spec = o.spec
    linked = spec.connection if isinstance(spec, RunTask) else o.connection
    run = o.run.resource if o.run is not None else None
    login = _login_ids(linked, run)
    described = o.describe()
    return {
        "index": o.index,
        "kind": type(spec).__name__.lower(),
        "api": "credentials" if login[1] else "connections" if login[0] else None,
        "source_id": described["source"] or None,
        "task_id": described["task"] or None,
        "username": getattr(spec, "username", None) or _username_of(linked),
        "external_id": getattr(spec, "external_id", None) or _external_of(linked),
        "connection_id": login[0],
        "credential_id": login[1],
        "run_id": o.run.id if o.run is not None else None,
        "status": o.status,
        "ok": o.ok,
        "duration_s": o.seconds,
        "error_code": o.error_code,
        "error": o.error or "; ".join(str(e) for e in (o.job.errors if o.job else [])) or None,
    }


def _login_ids(linked: Any, run: Any) -> tuple[str | None, str | None]:
    """(connection id, credential id): from the run when there is one, else from the login."""
    if run is not None and (run.connection_id or run.credential_id):
        return run.connection_id, run.credential_id
    resource = getattr(linked, "resource", linked)  # a ConnectJob carries its Connection or Credential
    kind = getattr(resource, "object", None)
    ident = getattr(resource, "id", None) if resource is not None else None
    if isinstance(linked, str):
        kind, ident = ("credential" if linked.startswith("cred_") else "connection"), linked
    if not ident:
        return None, None
    return (None, ident) if kind == "credential" else (ident, None)


def _username_of(linked: Any) -> str | None:
    name = getattr(linked, "_username", None)  # a ConnectJob: as the analyst gave it
    if name:
        return name
    summary = getattr(getattr(linked, "resource", linked), "auth_credentials", None)
    return summary.get("username") if isinstance(summary, dict) else None


def _external_of(linked: Any) -> str | None:
    external = getattr(linked, "_external_id", None)
    resource = getattr(linked, "resource", linked)
    return external or getattr(resource, "external_id", None)
