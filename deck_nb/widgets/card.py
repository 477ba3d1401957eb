"""The live status card of a job: an HTML widget kept in step with a ``CardState`` (the text core,
in ``_card_state``), that also carries its one-line text for front ends without widgets."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from ._card_state import COLOURS as _COLOURS
from ._card_state import CardState, tone

__all__ = ["_COLOURS", "CardState", "StatusCard", "TextFallbackBox", "tone"]


class TextFallbackBox(w.VBox):
    """A VBox whose ``text/plain`` is a readable line (``text_fn()``), not the widget's repr, and whose
    ``text/html`` is the card as static HTML (``html_fn()``): a notebook opened untrusted, on GitHub,
    in a terminal or exported shows those, not a widget's placeholder."""

    def __init__(self, children: Any = (), *, text_fn: Any = None, html_fn: Any = None, **kwargs: Any) -> None:
        super().__init__(children, **kwargs)
        self._text_fn = text_fn
        self._html_fn = html_fn

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            if self._text_fn is not None:
                bundle["text/plain"] = self._text_fn()
            if self._html_fn is not None:
                bundle["text/html"] = self._html_fn()
        return bundle

    def __repr__(self) -> str:
        return self._text_fn() if self._text_fn is not None else super().__repr__()


class StatusCard:
    """An HTML widget kept in step with a CardState; ``repr`` is the text fallback."""

    def __init__(self, state: CardState) -> None:
        self.state = state
        self.widget = w.HTML(value=state.html())
        self.widget.add_class("deck-nb-card-widget")

    def refresh(self) -> None:
        value = self.state.html()
        if self.widget.value != value:
            self.widget.value = value

    def __repr__(self) -> str:
        return self.state.text()
