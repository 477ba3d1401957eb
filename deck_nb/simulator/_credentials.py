"""Credentials (Deck's current API): stored, never logged in by themselves; their status follows
the runs that log in with them: unverified → verified | invalid → unverified (new secret); deleted."""

from __future__ import annotations

import re
from typing import Any

from ._connections import check_external_id, source_of
from ._errors import ApiError, invalid, missing
from ._models import Credential, new_id
from ._state import WorldCore

AUTH_METHODS = ("username_password", "none")
SOURCE_FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_SOURCE_FIELDS = 10


def deleted_error(cred: Credential) -> ApiError:
    return ApiError(400, "request", "credential_deleted", f"Credential `{cred.id}` was deleted; store a new one.")


def _secret(creds: dict[str, Any], key: str, required: bool) -> str | None:
    value = creds.get(key)
    if value in (None, ""):
        if required:
            raise missing(f"auth_credentials.{key}")
        return None
    if not isinstance(value, str):
        raise invalid(f"auth_credentials.{key}", f"`auth_credentials.{key}` must be a string.")
    return value


def _source_fields(creds: dict[str, Any]) -> dict[str, Any] | None:
    fields = creds.get("source_fields")
    if fields is None:
        return None
    name = "auth_credentials.source_fields"
    if not isinstance(fields, dict) or len(fields) > MAX_SOURCE_FIELDS:
        raise invalid(name, f"`{name}` must be an object of at most {MAX_SOURCE_FIELDS} entries.")
    for key, value in fields.items():
        if not SOURCE_FIELD_KEY.match(key) or key in ("username", "password"):
            raise invalid(f"{name}.{key}", f"`{key}` is not a valid source field name.")
        if not isinstance(value, (str, int, float, bool)):
            raise invalid(f"{name}.{key}", f"`{name}.{key}` must be a string, number or boolean.")
    return dict(fields)


def _auth_credentials(body: dict[str, Any], method: str, partial: bool = False) -> dict[str, Any]:
    creds = body.get("auth_credentials")
    if creds is None and (partial or method == "none"):
        return {}
    if not isinstance(creds, dict):
        raise (
            missing("auth_credentials")
            if creds is None
            else invalid("auth_credentials", "`auth_credentials` must be an object.")
        )
    required = method == "username_password" and not partial
    found = {key: _secret(creds, key, required) for key in ("username", "password")}
    found = {k: v for k, v in found.items() if v is not None}
    fields = _source_fields(creds)
    if fields is not None:
        found["source_fields"] = fields
    return found


class Credentials(WorldCore):
    def create_credential(self, body: dict[str, Any]) -> Credential:
        source = source_of(body.get("source_id"))
        method = body.get("auth_method") or "none"
        if method not in AUTH_METHODS:
            raise invalid("auth_method", "`auth_method` must be `username_password` or `none`.")
        creds = _auth_credentials(body, method)
        external_id = check_external_id(body)
        now = self.clock.now()
        cred = Credential(
            id=new_id("cred"),
            seq=self.next_seq(),
            created=now,
            updated=now,
            status="unverified",
            source_id=source.id,
            auth_method=method,
            external_id=external_id,
            username=creds.get("username"),
            password=creds.get("password"),
            source_fields=creds.get("source_fields"),
        )
        self.credentials[cred.id] = cred
        self._emit("credential.created", cred.public())
        return cred

    def update_credential(self, id_: str, body: dict[str, Any]) -> Credential:
        """A new secret sends a verified or invalid credential back to ``unverified``."""
        cred = self.get_credential(id_)
        if cred.status == "deleted":
            raise deleted_error(cred)
        for fixed in ("source_id", "auth_method"):
            if fixed in body:
                raise invalid(fixed, f"`{fixed}` cannot be changed; store a new credential instead.")
        changes = _auth_credentials(body, cred.auth_method, partial=True) if "auth_credentials" in body else None
        external_id = check_external_id(body) if "external_id" in body else cred.external_id
        cred.external_id = external_id
        if changes is not None:
            cred.username = changes.get("username", cred.username)
            cred.password = changes.get("password", cred.password)
            cred.source_fields = changes.get("source_fields", cred.source_fields)
        cred.updated = self.clock.now()
        if changes is not None and cred.status in ("verified", "invalid"):
            self._set_status(cred, "unverified")
        return cred

    def delete_credential(self, id_: str) -> Credential:
        """Forget the secret for good; the credential stays readable as ``deleted``."""
        cred = self.get_credential(id_)
        if cred.status != "deleted":
            cred.password = None
            self._set_status(cred, "deleted")
        return cred

    def _credential_logged_in(self, id_: str | None) -> None:
        cred = self.credentials.get(id_ or "")
        if cred is not None and cred.status in ("unverified", "invalid"):
            self._set_status(cred, "verified")

    def _credential_refused(self, id_: str | None) -> None:
        cred = self.credentials.get(id_ or "")
        if cred is not None and cred.status in ("unverified", "verified"):
            self._set_status(cred, "invalid")
