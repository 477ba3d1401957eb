"""Helpers shared by the bench scripts: a simulator in its own process (so its CPU and memory are
not the measured side's), timing, and one-line results."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager

import httpx

READY = re.compile(r"ready at (\S+) — API key (\S+)")


@contextmanager
def simulator_process(*args: str):
    """``deck-nb simulator`` in a child process; yields (base_url, api_key)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "deck_nb.cli", "simulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        match = READY.search(proc.stdout.readline())
        if not match:
            raise RuntimeError("the simulator did not start")
        yield match.group(1), match.group(2)
    finally:
        proc.terminate()
        proc.wait(10)


def control(base: str, key: str, method: str, path: str, body=None) -> dict:
    """A ``/_sim`` control route (reset, faults, stats, config) of the simulator at ``base``."""
    root = base.removesuffix("/v2")
    response = httpx.request(
        method, f"{root}/_sim/{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def best_of(fn: Callable[[], float], repeat: int = 3) -> float:
    return min(fn() for _ in range(repeat))


def median_of(fn: Callable[[], float], repeat: int = 5) -> float:
    return statistics.median(fn() for _ in range(repeat))


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def report(name: str, figure: float, floor: float, unit: str, target: str, ok: bool, **extra: object) -> None:
    """One human line and one JSON line (for bench/all.py). ``label``, ``figure_text`` and ``floor_text``
    in ``extra`` are the benchmark table's cells (docs/benchmarks.md) (what was measured, the figure, the floor)."""
    print(f"{name}: {figure:.4g} {unit} vs floor {floor:.4g} {unit} — target {target}: {'met' if ok else 'MISSED'}")
    for key, value in extra.items():
        print(f"  {key}: {value}")
    print(
        "RESULT "
        + json.dumps(
            {
                "name": name,
                "figure": figure,
                "floor": floor,
                "unit": unit,
                "target": target,
                "ok": ok,
                **{k: v for k, v in extra.items()},
            },
            default=str,
        )
    )


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
