"""bench form: building the form for a 10-field interaction vs constructing the same ipywidgets by hand."""

from __future__ import annotations

import ipywidgets as w
from _common import best_of, report, timed

FIELDS = [
    {"name": "code", "type": "string", "label": "Verification code"},
    {"name": "answer", "type": "string", "label": "Answer"},
    {"name": "pin", "type": "number", "label": "PIN"},
    {"name": "amount", "type": "number", "label": "Amount"},
    {"name": "remember", "type": "boolean", "label": "Remember this device"},
    {
        "name": "account_id",
        "type": "string",
        "label": "Account",
        "options": [{"value": f"acct_{i}", "label": f"Account {i}"} for i in range(3)],
    },
    {"name": "passphrase", "type": "string", "label": "Passphrase", "secret": True},
    {"name": "birth_date", "type": "date", "label": "Date of birth", "required": False},
    {"name": "nickname", "type": "string", "label": "Nickname", "required": False},
    {"name": "agree", "type": "boolean", "label": "I agree"},
]
N = 50


def by_hand() -> None:
    """The floor: the same widgets, a message, error slots and a button, written out by hand."""
    style = {"description_width": "initial"}
    children = [w.HTML(value="Confirm")]
    for f in FIELDS:
        if f.get("options"):
            widget = w.Dropdown(
                options=[(o["label"], o["value"]) for o in f["options"]],
                value=None,
                description=f["label"],
                style=style,
            )
        elif f["type"] == "boolean":
            widget = w.Checkbox(value=False, indent=False, description=f["label"], style=style)
        elif f.get("secret") or f["name"] == "pin":
            widget = w.Password(value="", description=f["label"], style=style)
        else:
            widget = w.Text(value="", description=f["label"], style=style)
        children.append(w.VBox([widget, w.HTML(value="")]))
    button = w.Button(description="Submit", button_style="primary")
    children += [w.HBox([button, w.HTML()]), w.HTML()]
    w.VBox(children)


def main() -> None:
    from deck_nb.client import Interaction
    from deck_nb.widgets import InteractionForm

    interaction = Interaction(type="device_confirmation", message="Confirm", fields=FIELDS)

    def ours() -> None:
        for _ in range(N):
            InteractionForm(interaction)

    def floor() -> None:
        for _ in range(N):
            by_hand()

    ours_s, floor_s = best_of(lambda: timed(ours)), best_of(lambda: timed(floor))
    ratio = ours_s / floor_s
    report(
        "form",
        ratio,
        1.0,
        "× hand-built",
        "≤ 2",
        ratio <= 2,
        label=f"form: a {len(FIELDS)}-field interaction",
        figure_text=f"{ratio:.2f} × ({ours_s / N * 1000:.1f} ms)",
        floor_text=f"the same ipywidgets by hand ({floor_s / N * 1000:.1f} ms)",
        per_form_ms=round(ours_s / N * 1000, 2),
        per_hand_built_ms=round(floor_s / N * 1000, 2),
    )


if __name__ == "__main__":
    main()
