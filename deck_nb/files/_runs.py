"""What ``dn.download`` and ``dn.extractions`` accept as "runs": a job, a list of jobs, a
``BatchResult``, a runs frame (``id`` or ``run_id`` column), TaskRun models or dicts, or run ids —
each as (run id, task id, source id) and the client that should read them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from deck_nb.history._objects import settled_resource


@dataclass(frozen=True)
class RunRef:
    """One run to read files of: its id, and its task and source when already known."""

    id: str
    task_id: str | None = None
    source_id: str | None = None


def _ref(obj: Any) -> tuple[RunRef | None, Any]:
    """(the run, the client it came with) of one item; (None, None) for an item without a run."""
    if isinstance(obj, str):
        if not obj.strip():
            raise ValueError("a run id must be a non-empty string")
        return RunRef(obj), None
    if hasattr(obj, "spec") and hasattr(obj, "run"):  # a batch Outcome
        return _ref(obj.run) if obj.run is not None else (None, None)
    deck = getattr(obj, "_deck", None)
    resource = settled_resource(obj)  # a job once settled (JobPending while it waits), or the run itself
    if resource is None:
        return None, deck
    if isinstance(resource, dict):
        run_id, task, source = resource.get("id"), resource.get("task_id"), resource.get("source_id")
    else:
        run_id = getattr(resource, "id", None)
        task, source = getattr(resource, "task_id", None), getattr(resource, "source_id", None)
    if getattr(obj, "kind", "task_run") != "task_run" or not isinstance(run_id, str):
        raise TypeError(f"expected task runs (jobs, TaskRuns, ids or a runs frame), not {type(obj).__name__}")
    return RunRef(run_id, task or getattr(obj, "task_id", None), source), deck


def _items(runs: Any) -> Iterable[Any]:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(runs, pd.DataFrame):
        column = "run_id" if "run_id" in runs.columns else "id" if "id" in runs.columns else None
        if column is None:
            raise TypeError("a runs frame needs an `id` or `run_id` column (e.g. history().runs, batch.frame)")
        rows = runs[runs[column].map(lambda v: isinstance(v, str))]
        ids = rows[column].tolist()
        tasks = rows["task_id"].tolist() if "task_id" in rows.columns else [None] * len(rows)
        sources = rows["source_id"].tolist() if "source_id" in rows.columns else [None] * len(rows)
        triples = zip(ids, tasks, sources, strict=True)
        return [{"id": i, "task_id": _text(t), "source_id": _text(s)} for i, t, s in triples]
    if isinstance(runs, str | dict) or hasattr(runs, "resource") or hasattr(runs, "to_dict"):
        return [runs]
    if isinstance(runs, Iterable):
        return list(runs)
    raise TypeError(f"expected task runs (a job, a list, a BatchResult, a runs frame or run ids), not {runs!r:.60}")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def resolve(runs: Any, deck: Any = None) -> tuple[list[RunRef], Any]:
    """The runs (each once, in order) and a sync ``Deck`` to read them with."""
    refs: dict[str, RunRef] = {}
    found_deck = None
    for item in _items(runs):
        ref, item_deck = _ref(item)
        found_deck = found_deck or item_deck
        if ref is not None and ref.id not in refs:
            refs[ref.id] = ref
    return list(refs.values()), _sync(deck or found_deck)


def _sync(deck: Any) -> Any:
    from deck_nb.client import AsyncDeck, Deck

    if deck is None:
        from deck_nb.notebook.session import default_deck

        return default_deck()
    if isinstance(deck, AsyncDeck):
        twin = deck.to_sync()
        twin._one_call = True  # made for this call alone: the call closes it (dn.download: its loop too)
        return twin
    if not isinstance(deck, Deck):
        raise TypeError(f"deck= takes a Deck or AsyncDeck, not {type(deck).__name__}")
    return deck
