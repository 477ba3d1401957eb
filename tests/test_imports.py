"""No import circles: every module under deck_nb/ is read with ``ast`` (imports at the top, inside
functions and inside ``TYPE_CHECKING`` blocks all count: a circle a type checker follows is still a
circle a reader follows), and the graph of deck_nb modules must have no cycle inside a package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import deck_nb

ROOT = Path(deck_nb.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _targets(name: str) -> set[str]:
    """The deck_nb module ``name`` names (a module, or the package holding the attribute)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return {name} if name.startswith("deck_nb") else set()


def imports_of(module: str) -> set[str]:
    path = MODULES[module]
    return imports_in(path.read_text(), module, is_package=path.name == "__init__.py")


def imports_in(source: str, module: str, is_package: bool = False) -> set[str]:
    """The deck_nb modules ``source`` (the text of ``module``) imports, wherever the import stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= _targets(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node, is_package)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found |= _targets(full) if full in MODULES else _targets(base)
    found.discard(module)
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def cycles_within(package: str) -> list[list[str]]:
    """Every elementary cycle among the modules of ``package`` (its subpackages included), each once,
    as a list of module names starting at its smallest."""
    inside = {m for m in GRAPH if m == package or m.startswith(package + ".")}
    edges = {m: sorted(GRAPH[m] & inside) for m in inside}
    found: set[tuple[str, ...]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in edges[node]:
            if nxt == start:
                found.add(tuple(path))
            elif nxt not in path and nxt > start:
                walk(start, nxt, [*path, nxt])

    for start in sorted(inside):
        walk(start, start, [start])
    return [list(c) for c in sorted(found)]


def _say(cycles: list[list[str]]) -> str:
    return "\n".join(" -> ".join([*c, c[0]]) for c in cycles)


def test_the_walker_sees_imports_in_functions_and_type_checking_blocks():
    source = (
        "from typing import TYPE_CHECKING\n"
        "from deck_nb.client import Deck\n"
        "if TYPE_CHECKING:\n"
        "    from .jobs import Job\n"
        "def later():\n"
        "    from . import view\n"
        "    import deck_nb.history.frames\n"
    )
    assert imports_in(source, "deck_nb.notebook._x") == {
        "deck_nb.client",
        "deck_nb.notebook.jobs",
        "deck_nb.notebook.view",
        "deck_nb.history.frames",
    }
    assert imports_in("from ._plan import X", "deck_nb.notebook._x") == {"deck_nb.notebook"}  # unknown: the package


def test_the_cycle_finder_reports_each_cycle(monkeypatch):
    fake = {"p": set(), "p.a": {"p.b"}, "p.b": {"p.c"}, "p.c": {"p.a"}, "p.d": {"p.a"}}
    monkeypatch.setattr(f"{__name__}.GRAPH", fake)
    assert cycles_within("p") == [["p.a", "p.b", "p.c"]]


@pytest.mark.parametrize(
    "package",
    [
        "deck_nb.notebook",
        "deck_nb.widgets",
        "deck_nb.history",
        "deck_nb.client",
        "deck_nb.simulator",
        "deck_nb.files",
    ],
)
def test_no_import_circle_inside(package):
    cycles = cycles_within(package)
    assert not cycles, f"import circles in {package}:\n{_say(cycles)}"


def test_no_import_circle_anywhere_under_deck_nb():
    # across packages too, cycles through a package's own ``__init__`` included
    cycles = cycles_within("deck_nb")
    assert not cycles, f"import circles under deck_nb/:\n{_say(cycles)}"
