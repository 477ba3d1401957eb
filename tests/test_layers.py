"""Imports point down only: notebook → widgets and history → client → (HTTP) → simulator; the
simulator imports nothing from the client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "deck_nb"
FORBIDDEN = {
    "simulator": {"client", "history", "widgets", "notebook", "demo"},
    "client": {"history", "widgets", "notebook", "demo"},
    "_observers": {"simulator", "client", "history", "widgets", "notebook", "demo"},
    "history": {"widgets", "notebook", "demo"},
    "widgets": {"history", "notebook", "demo"},
    "_serve": {"simulator", "client", "history", "widgets", "notebook"},
}


def _imported_layers(path: Path) -> set[str]:
    package_parts = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    layers = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this file's package
                base = list(package_parts[: len(package_parts) - node.level + 1])
                name = ".".join([*base, *(node.module.split(".") if node.module else [])])
            else:
                name = node.module or ""
            names = [name] + [f"{name}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for full in names:
            parts = full.split(".")
            if parts[0] == "deck_nb" and len(parts) > 1:
                layers.add(parts[1])
    return layers


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_down(layer):
    files = [PACKAGE / f"{layer}.py"] if (PACKAGE / f"{layer}.py").exists() else sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    for path in files:
        wrong = _imported_layers(path) & FORBIDDEN[layer]
        assert not wrong, f"{path.relative_to(PACKAGE.parent)} imports {sorted(wrong)}"
