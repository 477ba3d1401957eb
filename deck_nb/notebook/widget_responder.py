"""The default responder in a notebook: a form under the cell, answered by a person."""

from __future__ import annotations

import re
from typing import Any

from deck_nb.client import DeckError
from deck_nb.widgets import InteractionForm

from ._prompt import Prompt, Responder, in_kernel

MIN_IPYKERNEL = (7, 4)


def kernel_can_answer_forms() -> tuple[bool, str]:
    """Whether this kernel hands widget clicks to a cell that awaits (ipykernel ≥ 7.4, as measured)."""
    try:
        import ipykernel
    except ImportError:
        return True, ""
    version = tuple(int(p) for p in re.findall(r"\d+", ipykernel.__version__)[:2])
    return version >= MIN_IPYKERNEL, ipykernel.__version__


class WidgetResponder(Responder):
    needs_await = True

    def __init__(self) -> None:
        self.form: InteractionForm | None = None

    def answer(self, prompt: Prompt) -> Any:
        if in_kernel():
            ok, version = kernel_can_answer_forms()
            if not ok:
                raise DeckError(
                    f"forms need ipykernel ≥ {'.'.join(map(str, MIN_IPYKERNEL))} (this kernel runs {version}): "
                    "`pip install -U ipykernel` and restart it, or pass respond=... to answer from code"
                )
        if prompt.error is not None and self.form is not None and self.form.interaction == prompt.interaction:
            self.form.show_error(prompt.error.field, prompt.error.message)
        else:
            self.form = InteractionForm(prompt.interaction, title=prompt.title)
            if prompt.view is not None:
                prompt.view.show_form(self.form)
        return self.form.answer()

    def closed(self, prompt: Prompt, note: str) -> None:
        if self.form is not None and not self.form.closed:
            self.form.expire(note)
