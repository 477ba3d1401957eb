"""Payload encryption as Deck's Enterprise plan shows it: a run's ``input`` and ``output`` become
``enc_`` + base64url strings, applied when a response is written (so old runs too); every other
field is unchanged.

The layout follows Deck's page (1 byte format version, 1 byte key-id length, the key id, then the
sealed payload: a 12-byte nonce, the ciphertext and a 16-byte tag). The cipher is a stand-in built
from the standard library (a SHA-256 keystream and an HMAC tag), not AES-GCM: no client may decrypt
it, which is the point; it only has to look and behave like an opaque, deterministic string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

FORMAT_VERSION = 1
KEY_ID = b"key_sim_1"
_KEY = hashlib.sha256(b"deck simulator payload key").digest()
SEALED_FIELDS = ("input", "output")


def _keystream(nonce: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(_KEY + nonce + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:length])


def seal_value(value: Any) -> str:
    plain = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    nonce = hmac.new(_KEY, plain, hashlib.sha256).digest()[:12]
    cipher = bytes(a ^ b for a, b in zip(plain, _keystream(nonce, len(plain)), strict=True))
    tag = hmac.new(_KEY, nonce + cipher, hashlib.sha256).digest()[:16]
    blob = bytes((FORMAT_VERSION, len(KEY_ID))) + KEY_ID + nonce + cipher + tag
    return "enc_" + base64.urlsafe_b64encode(blob).decode().rstrip("=")


def _seal_run(obj: dict[str, Any]) -> dict[str, Any]:
    sealed = dict(obj)
    for name in SEALED_FIELDS:
        if sealed.get(name) is not None and not str(sealed[name]).startswith("enc_"):
            sealed[name] = seal_value(sealed[name])
    return sealed


def seal(payload: Any) -> Any:
    """Seal every task run in a response body: one run, a page of runs, an event or a page of events."""
    if not isinstance(payload, dict):
        return payload
    if payload.get("object") == "task_run":
        return _seal_run(payload)
    if payload.get("object") == "event" and isinstance(payload.get("data"), dict):
        return {**payload, "data": seal(payload["data"])}
    if isinstance(payload.get("data"), list):
        return {**payload, "data": [seal(item) for item in payload["data"]]}
    return payload
