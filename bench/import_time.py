"""bench import: ``import deck_nb`` vs ``import httpx``, each in fresh interpreters (median of 7)."""

from __future__ import annotations

import statistics
import subprocess
import sys

from _common import report

PROBE = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"


def measure(module: str, repeat: int = 7) -> float:
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", PROBE.format(mod=module)], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return statistics.median(runs)


def main() -> None:
    ours, floor = measure("deck_nb"), measure("httpx")
    client = measure("deck_nb.client")  # what the first `deck_nb.Deck` costs: httpx, pydantic, tenacity
    ratio = ours / floor
    report(
        "import",
        ratio,
        1.0,
        "× import httpx",
        "≤ 2",
        ratio <= 2,
        deck_nb_ms=round(ours * 1000, 1),
        httpx_ms=round(floor * 1000, 1),
        deck_nb_client_ms=round(client * 1000, 1),
    )


if __name__ == "__main__":
    main()
