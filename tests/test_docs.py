"""The repository is all a user has: the README and the docs point at nothing outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_docs_point_at_nothing_outside_the_repository():
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        assert not re.search(r"(\.\./|\b)shared/(spec|research|design|seeds)", text), f"{doc.name} points at shared/"
        for target in re.findall(r"\]\(([^)#]+)\)", text):  # relative markdown links must exist here
            if "://" not in target:
                assert (doc.parent / target).exists(), f"{doc.name} links to a missing {target}"


def test_the_readme_documents_the_simulator_in_the_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/simulator.md" in readme and (ROOT / "docs" / "simulator.md").exists()
