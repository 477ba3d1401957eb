"""Checking a submitted answer against the interaction's fields, as Deck does before judging it."""

from __future__ import annotations

from typing import Any

from ._errors import ApiError

_JSON_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "number": (int, float), "boolean": (bool,)}


def _input_invalid(field: str, message: str) -> ApiError:
    return ApiError(400, "interaction", "interaction_input_invalid", message, field)


def read_inputs(body: Any, prefer: str = "inputs") -> Any:
    """The answer object of a submission body; either key is accepted and ``prefer`` wins when both are.

    The seed's API prefers ``inputs``; Deck's current API documents ``input`` and prefers it.
    """
    if isinstance(body, dict):
        other = "input" if prefer == "inputs" else "inputs"
        for key in (prefer, other):
            if key in body:
                return body[key]
    return None


def validate_inputs(interaction: dict[str, Any], inputs: Any, body_key: str = "inputs") -> dict[str, Any]:
    """Refuse missing, unknown or wrongly typed fields, naming the first offending field."""
    if not isinstance(inputs, dict):
        raise _input_invalid(body_key, f"The body must contain an `{body_key}` object keyed by field name.")
    fields = {f["name"]: f for f in interaction["fields"]}
    expected = ", ".join(fields)
    for name in inputs:
        if name not in fields:
            raise _input_invalid(name, f"Unknown field `{name}`; expected: {expected}.")
    for name, spec in fields.items():
        value = inputs.get(name)
        if value is None:
            if spec.get("required", True):
                raise _input_invalid(name, f"Field `{name}` is required.")
            continue
        kinds = _JSON_TYPES.get(spec["type"], (str,))
        wrong_type = not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool))
        if wrong_type:
            raise _input_invalid(name, f"Field `{name}` must be a {spec['type']}.")
        options = spec.get("options")
        if options is not None and value not in {o["value"] for o in options}:
            allowed = ", ".join(str(o["value"]) for o in options)
            raise _input_invalid(name, f"Field `{name}` must be one of: {allowed}.")
        if isinstance(value, str) and not value.strip() and spec.get("required", True):
            raise _input_invalid(name, f"Field `{name}` is required.")
    return inputs
