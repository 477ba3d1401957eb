"""Resources made on first use. A client's resources are typed on its models, and the models on
pydantic, whose import is most of what a first answer costs: ``Deck()`` and a call that casts to no
model (``deck.test()``) import neither; the first ``deck.task_runs`` does."""

from __future__ import annotations

import importlib
from typing import Any


class LazyResource:
    """A class attribute that makes ``cls(client)`` from ``module`` at first access, then keeps it on
    the client (a non-data descriptor: the instance's own attribute wins from then on)."""

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name
        self.attr = name

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    def __get__(self, client: Any, owner: type | None = None) -> Any:
        if client is None:
            return self
        cls = getattr(importlib.import_module(self.module, __package__), self.name)
        value = client.__dict__[self.attr] = cls(client)
        return value
