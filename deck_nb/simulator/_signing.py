"""Signed download URLs: an expiry and an HMAC over the id and that expiry, keyed by a secret that
only this simulator holds. The URL is a capability of its own: no API key is needed or checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

FILES_PATH = "/_files"


class UrlSigner:
    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def _signature(self, id_: str, expires_ms: int) -> str:
        mac = hmac.new(self._secret, f"{id_}\n{expires_ms}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def url(self, root: str, id_: str, expires_at: float) -> str:
        """``root`` is the server's own origin; ``expires_at`` a clock reading (seconds)."""
        expires_ms = int(expires_at * 1000)
        return f"{root}{FILES_PATH}/{id_}?expires={expires_ms}&signature={self._signature(id_, expires_ms)}"

    def verify(self, id_: str, expires: str | None, signature: str | None) -> int | None:
        """The expiry (ms) when the signature is genuine, else None (tampered or missing)."""
        if not expires or not signature or not expires.isdigit() or len(expires) > 16:
            return None
        expected = self._signature(id_, int(expires))
        return int(expires) if hmac.compare_digest(expected.encode(), signature.encode()) else None
