"""The base every Deck model stands on: permissive attribute access, unknown fields kept, and a repr
that masks what looks secret. Below both the object models (``_models``) and the storage models
(``_storage_models``), so each can import it without importing the other."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

_TEXT = (str, str | None, Any)


def _short(value: Any, limit: int = 120) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class DeckModel(BaseModel):
    """Base of every model: attribute or ``obj["key"]`` access, unknown fields kept (``to_dict()``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=(), defer_build=True)

    # Fields a compact repr shows; None shows them all.
    REPR_FIELDS: ClassVar[tuple[str, ...] | None] = None

    @model_validator(mode="before")
    @classmethod
    def _empty_strings_are_absent(cls, data: Any) -> Any:
        """Event data spells an empty field ``""`` where REST sends ``null``: read both as absent,
        except for fields that are text."""
        if not isinstance(data, dict) or "" not in data.values():
            return data
        fields = cls.model_fields
        return {
            k: (None if v == "" and k in fields and fields[k].annotation not in _TEXT else v) for k, v in data.items()
        }

    def __repr_args__(self):
        fields = type(self).model_fields
        for key, value in super().__repr_args__():
            if self.REPR_FIELDS is None or key in self.REPR_FIELDS:
                yield key, (value if key in fields else _hide_secrets(key, value))  # unknown fields: masked

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td style='text-align:left'>"
            f"{html.escape(_short(v))}</td></tr>"
            for k, v in self.__repr_args__()
            if v not in (None, [], {})
        )
        title = html.escape(type(self).__name__)
        return f"<div class='deck-nb-object'><b>{title}</b><table>{rows}</table></div>"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, with unknown fields the server sent kept."""
        return self.model_dump(mode="json", exclude_none=False)

    def __getitem__(self, key: str) -> Any:  # lets notebooks treat objects like the JSON they were
        return getattr(self, key)


class Resource(DeckModel):
    """Base of Deck's objects: an ``id``, its ``object`` kind and timestamps."""

    id: str
    object: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


_SECRET_KEYS = frozenset({"password", "secret", "token", "otp", "code"})
_SECRET_WORDS = ("password", "secret", "token", "api_key", "apikey", "otp", "passcode")


def _hide_secrets(key: Any, value: Any) -> Any:
    """An unknown field a server sent, as a repr shows it: a secret-looking name masks its value, in
    nested objects too (a server that echoes a password must not put it in a notebook's output)."""
    name = str(key).lower()
    if name in _SECRET_KEYS or any(word in name for word in _SECRET_WORDS):
        return "***"
    if isinstance(value, dict):
        return {k: _hide_secrets(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_secrets("", v) for v in value]
    return value
