"""Secrets out, stable placeholders in, before anything is kept.

Every secret gets one placeholder for the whole recording (the same value, the same placeholder), so
the shape of the traffic still replays: the API key, ``Authorization``, passwords, every answer typed
into a form (the body of an ``.../interaction`` POST), ``auth_credentials``, ``tk_`` tokens,
``whsec_`` secrets, signed URLs (the whole URL) and ``Set-Cookie``; ``redact=`` adds the user's own
values or field names. Each secret remembers the rule that found it, for the scan on save.

An account's login name (``username``, ``email`` in ``auth_credentials``) is a secret too, but a
replay must tell one account's requests from another's (a batch's pulls in another order): the
recording keeps, per such placeholder, a salted scrypt digest of the value (``identities``), never
the value, and a replay's redactor gives a live login name whose digest matches that placeholder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any
from urllib.parse import quote, quote_plus

from ._format import SIGNED_PREFIX

SECRET_KEYS = {"password", "passcode", "secret", "token", "auth_credentials", "api_key", "authorization", "otp"}
TOKEN = re.compile(r"\b(tk|whsec|sk_live|sk_test)_[A-Za-z0-9_\-]{6,}")
SIGNED_HOST = "https://redacted.deck-nb.invalid"
SUBSTRING_MIN = 8  # shorter secrets are replaced only where they are a whole value (a code "1234" in an id is not)
WHOLE_MIN = 4  # shorter still ("1", "yes"): only where a rule found them (a form's option values stay readable)
IDENTITY_KEYS = {"username", "email", "login", "user", "user_name"}  # inside auth_credentials: whose login
UNKNOWN_IDENTITY = "unknown_identity"  # a replay's placeholder kind for a login name the recording lacks


class Redactor:
    """One recording's secrets: value -> placeholder, value -> the rule that found it."""

    def __init__(self, values: list[str] = (), fields: list[str] = (), identities: Any = None) -> None:
        self.placeholders: dict[str, str] = {}
        self.rules: dict[str, str] = {}
        self.counts: dict[str, int] = {}
        self.fields = {f.lower() for f in fields} | SECRET_KEYS
        for value in values:
            self.secret(str(value), "redact= value", "value")
        known = identities if isinstance(identities, dict) else {}
        digests = known.get("digests") if isinstance(known.get("digests"), dict) else {}
        self.replaying = identities is not None
        try:  # a hand-edited salt matches no digest: accounts are then matched by order
            self.salt = bytes.fromhex(known["salt"])
        except (KeyError, TypeError, ValueError):
            self.salt = os.urandom(16)
        self.identities: dict[str, str] = {}  # placeholder -> digest (what a recording keeps)
        self.recorded: dict[str, str] = {d: p for p, d in digests.items() if isinstance(d, str)}  # digest -> it

    def identity(self, value: str, rule: str) -> str:
        """A login name's placeholder: at replay the recorded one whose digest matches, if any."""
        if value in self.placeholders or value in self.placeholders.values() or not value:
            return self.secret(value, rule, UNKNOWN_IDENTITY)
        if self.replaying and not self.recorded:  # a recording made before digests were kept
            return self.secret(value, rule, UNKNOWN_IDENTITY)
        digest = hashlib.scrypt(value.encode("utf-8"), salt=self.salt, n=2**14, r=8, p=1, dklen=16).hex()
        if self.replaying:
            placeholder = self.recorded.get(digest)
            if placeholder is None:
                return self.secret(value, rule, UNKNOWN_IDENTITY)
            self.placeholders[value], self.rules[value] = placeholder, rule
            return placeholder
        placeholder = self.secret(value, rule, "auth_credentials")
        self.identities[placeholder] = digest
        return placeholder

    def header(self) -> dict[str, Any]:
        """What a recording's header keeps to tell accounts apart at replay (no value, only digests)."""
        return {"salt": self.salt.hex(), "digests": dict(self.identities)} if self.identities else {}

    def secret(self, value: str, rule: str, kind: str) -> str:
        """The placeholder for ``value`` (made on first sight; ``kind`` shapes it)."""
        if value in self.placeholders:
            return self.placeholders[value]
        if value in self.placeholders.values() or not value:
            return value  # already a placeholder (a replayed placeholder URL, say)
        n = self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "url":
            placeholder = f"{SIGNED_HOST}{SIGNED_PREFIX}{n}"
        elif kind in ("tk", "whsec", "sk_live", "sk_test"):
            placeholder = f"{kind}_redacted_{n}"
        else:
            placeholder = f"<redacted:{kind}:{n}>"
        self.placeholders[value] = placeholder
        self.rules[value] = rule
        return placeholder

    # -- structural rules: by where a value sits ----------------------------------------------

    def leaves(self, obj: Any, rule: str, kind: str) -> Any:
        """Every leaf of ``obj`` replaced (keys and nesting kept: the shape replays)."""
        if isinstance(obj, dict):
            return {k: self.leaves(v, rule, kind) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.leaves(v, rule, kind) for v in obj]
        if obj is None or isinstance(obj, bool):
            return obj
        token = TOKEN.fullmatch(obj) if isinstance(obj, str) else None
        return self.secret(str(obj), rule, token.group(1) if token else kind)  # a token keeps its prefix

    def body(self, obj: Any, *, response: bool) -> Any:
        """Secret fields (by name) and tokens (by shape) anywhere in a JSON body."""
        if isinstance(obj, dict):
            out = {}
            for key, value in obj.items():
                name = key.lower()
                if name in self.fields:
                    rule = f"field {key!r}"
                    if name == "auth_credentials" and isinstance(value, dict):
                        for inner, login in value.items():
                            if inner.lower() in IDENTITY_KEYS and isinstance(login, str):
                                self.identity(login, rule)
                    out[key] = self.leaves(value, rule, name if name in SECRET_KEYS else "field")
                elif response and name == "url" and isinstance(value, str) and value:
                    out[key] = self.secret(value, "signed URL (a response's 'url')", "url")
                else:
                    out[key] = self.body(value, response=response)
            return out
        if isinstance(obj, list):
            return [self.body(v, response=response) for v in obj]
        if isinstance(obj, str):
            return TOKEN.sub(lambda m: self.secret(m.group(0), f"{m.group(1)}_ token", m.group(1)), obj)
        return obj

    def request_body(self, method: str, path: str, body: Any) -> Any:
        if method == "POST" and path.endswith("/interaction") and isinstance(body, dict):
            return self.leaves(body, "form answer (an interaction's input)", "answer")
        return self.body(body, response=False)

    def api_key(self, authorization: str | None) -> None:
        if authorization:
            self.secret(authorization, "Authorization header", "authorization")
            key = authorization.partition(" ")[2]
            if key:
                self.secret(key, "API key (Authorization header)", "api_key")

    def url(self, url: str) -> str:
        """A URL fetched without the API key is a signed URL: all of it is the secret."""
        return self.secret(url, "signed URL (a download's address)", "url")

    # -- the value rule: known secrets wherever they still appear ------------------------------

    def scrub(self, obj: Any) -> Any:
        """Known secret values replaced in every string (whole values; long ones inside text too)."""
        if isinstance(obj, dict):
            return {k: self.scrub(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.scrub(v) for v in obj]
        if isinstance(obj, str):
            if obj in self.placeholders and (len(obj) >= WHOLE_MIN or self.rules[obj] == "redact= value"):
                return self.placeholders[obj]
            for value in self._long():
                if value in obj:
                    obj = obj.replace(value, self.placeholders[value])
            return obj
        return obj

    def _long(self) -> list[str]:
        return sorted((v for v in self.placeholders if len(v) >= SUBSTRING_MIN), key=len, reverse=True)

    def leaks(self, lines: list[str], blobs: list[tuple[int, bytes]]) -> list[tuple[str, str]]:
        """(rule, where) for every known secret still in the lines to write — as text, URL-encoded or
        JSON-escaped — or inside kept bytes (a downloaded file): the scan before a save."""
        found = []
        for value, rule in self.rules.items():
            if len(value) < WHOLE_MIN:
                continue
            forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
            if len(value) < SUBSTRING_MIN:
                forms = {json.dumps(value)}
            for number, line in enumerate(lines, 2):
                if any(form in line for form in forms):
                    found.append((rule, f"line {number}"))
                    break
            else:
                raw = value.encode("utf-8")
                where = next((n for n, blob in blobs if len(value) >= SUBSTRING_MIN and raw in blob), None)
                if where is not None:
                    found.append((rule, f"the bytes kept on line {where}"))
        return found
