"""The current API's credentials (stored logins, ``cred_``) and sessions (``sess_``): written once for
both clients, like every resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._endpoints import ClientT, lists, returns
from ._models import Credential, Session
from ._resources import _id, _Resource

if TYPE_CHECKING:
    from ._pagination import SyncPager


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # "not passed", so that an explicit None can mean "clear it"


def _auth_credentials(
    username: str | None, password: str | None, auth_credentials: Mapping[str, Any] | None
) -> dict[str, Any]:
    if auth_credentials is not None and not isinstance(auth_credentials, Mapping):
        raise TypeError(f"auth_credentials must be a mapping, not {type(auth_credentials).__name__}")
    creds = dict(auth_credentials or {})
    if username is not None:
        creds["username"] = username
    if password is not None:
        creds["password"] = password
    return creds


class Credentials(_Resource[ClientT]):
    """Stored logins (``deck.credentials``, the credentials API): stored, not logged in — a task run
    logs in with one, and its first successful login marks it ``verified``."""

    @returns
    def create(
        self,
        source_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        auth_credentials: Mapping[str, Any] | None = None,
        auth_method: str | None = None,
        external_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Credential:
        """Store a login for a source; answers ``status="unverified"`` (no login happens yet).

        ``auth_method`` defaults to ``username_password`` when a username or password is given, and
        is left to Deck (``none``) otherwise."""
        creds = _auth_credentials(username, password, auth_credentials)
        method = auth_method or ("username_password" if creds else None)
        if method == "username_password":
            missing = [k for k in ("username", "password") if not creds.get(k)]
            if missing:
                raise ValueError(f"missing credential(s): {', '.join(missing)}")
        body: dict[str, Any] = {"source_id": _id(source_id, "source_id")}
        if method is not None:
            body["auth_method"] = method
        if creds:
            body["auth_credentials"] = creds
        if external_id is not None:
            body["external_id"] = external_id
        return self._do("POST", "/credentials", Credential, body=body, idempotency_key=idempotency_key)

    @lists
    def list(
        self,
        *,
        source_id: str | None = None,
        status: str | None = None,
        external_id: str | None = None,
        limit: int | None = None,
    ) -> SyncPager[Credential]:
        """Credentials, filtered by source, status (``unverified|verified|invalid|deleted``) or external id."""
        params = {"source_id": source_id, "status": status, "external_id": external_id, "limit": limit}
        return self._list("/credentials", Credential, params)

    @returns
    def retrieve(self, credential_id: str) -> Credential:
        """One credential by id (a summary: the password is never returned)."""
        return self._do("GET", f"/credentials/{_id(credential_id, 'credential_id')}", Credential)

    @returns
    def update(
        self,
        credential_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        auth_credentials: Mapping[str, Any] | None = None,
        external_id: str | None = UNSET,
        idempotency_key: str | None = None,
    ) -> Credential:
        """Change the secret and/or ``external_id`` (``external_id=None`` passed explicitly clears it).

        A changed secret sends a ``verified`` or ``invalid`` credential back to ``unverified``."""
        body: dict[str, Any] = {}
        creds = _auth_credentials(username, password, auth_credentials)
        if creds:
            body["auth_credentials"] = creds
        if external_id is not UNSET:
            body["external_id"] = external_id
        if not body:
            raise ValueError("nothing to update: pass username=, password=, auth_credentials= or external_id=")
        path = f"/credentials/{_id(credential_id, 'credential_id')}"
        return self._do("PATCH", path, Credential, body=body, idempotency_key=idempotency_key)

    @returns
    def delete(self, credential_id: str, *, idempotency_key: str | None = None) -> Credential:
        """Delete the secret for good; the credential stays readable with ``status="deleted"``."""
        path = f"/credentials/{_id(credential_id, 'credential_id')}"
        return self._do("DELETE", path, Credential, idempotency_key=idempotency_key)


class Sessions(_Resource[ClientT]):
    """Logged-in browser sessions made by runs (``deck.sessions``, the credentials API). A run that
    names none makes one; a later run naming it skips the login. Deck has no list and no create."""

    @returns
    def retrieve(self, session_id: str) -> Session:
        """One session by id, with the runs it served."""
        return self._do("GET", f"/sessions/{_id(session_id, 'session_id')}", Session)

    @returns
    def end(self, session_id: str, *, idempotency_key: str | None = None) -> Session:
        """End a session now: its unfinished runs are canceled; it goes ``completing`` → ``completed``."""
        path = f"/sessions/{_id(session_id, 'session_id')}/end"
        return self._do("POST", path, Session, idempotency_key=idempotency_key)
