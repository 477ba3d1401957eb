"""bench import: time to a first answer in a fresh interpreter — ``import deck_nb``, ``dn.Deck(...)``,
one ``GET /v2/test`` against a running simulator — beside the same with raw httpx (import, a client,
the same request). Median of 7 fresh processes each, alternating, with bytecode cached (as a user's
second kernel start finds it). Secondary lines: the lazy ``import deck_nb`` alone,
``import deck_nb.client`` and ``import httpx``, and a first *typed* answer (a page of sources as
models: deck_nb's models, and pydantic, load on first use) beside httpx decoding the same JSON."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from _common import report, simulator_process

REPEAT = int(os.environ.get("BENCH_REPEAT", 7))
FIRST_ANSWER = {
    "deck_nb": (
        "import deck_nb as dn\ndeck = dn.Deck(api_key=KEY, base_url=BASE)\nassert deck.test()['status'] == 'ready'\n"
    ),
    "httpx": (
        "import httpx\n"
        "http = httpx.Client(base_url=BASE + '/', headers={'Authorization': 'Bearer ' + KEY})\n"
        "r = http.get('test'); r.raise_for_status()\n"
        "assert r.json()['status'] == 'ready'\n"
    ),
}
# a first *typed* answer: one page of sources as models (deck_nb loads its models, pydantic with them,
# on first use: this is what an analyst's first real call pays) against httpx decoding the same JSON
FIRST_TYPED = {
    "deck_nb": (
        "import deck_nb as dn\ndeck = dn.Deck(api_key=KEY, base_url=BASE)\n"
        "assert next(iter(deck.sources.list())).id.startswith('src_')\n"
    ),
    "httpx": (
        "import httpx\n"
        "http = httpx.Client(base_url=BASE + '/', headers={'Authorization': 'Bearer ' + KEY})\n"
        "r = http.get('sources'); r.raise_for_status()\n"
        "assert r.json()['data'][0]['id'].startswith('src_')\n"
    ),
}
IMPORT = "import {module}\n"


def fresh(body: str, env: dict[str, str]) -> float:
    """Seconds from the first line of a new interpreter to the end of ``body`` (startup excluded)."""
    probe = (
        "import os, time\nt = time.perf_counter()\nKEY, BASE = os.environ['BENCH_KEY'], os.environ['BENCH_BASE']\n"
        + body
        + "print(time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def where_the_time_goes(env: dict[str, str], top: int = 6) -> str:
    """``-X importtime`` of deck_nb's first answer: self time summed by top-level package."""
    probe = "import os\nKEY, BASE = os.environ['BENCH_KEY'], os.environ['BENCH_BASE']\n" + FIRST_ANSWER["deck_nb"]
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stderr
    totals: dict[str, int] = {}
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[0].split(":")[-1].strip().isdigit():
            continue
        root = parts[2].strip().split(".")[0]
        totals[root] = totals.get(root, 0) + int(parts[0].split(":")[-1])
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in ranked)


def medians(bodies: dict[str, str], env: dict[str, str]) -> dict[str, float]:
    runs: dict[str, list[float]] = {name: [] for name in bodies}
    for _ in range(REPEAT):
        for name, body in bodies.items():  # alternating, so a busy moment hits both sides
            runs[name].append(fresh(body, env))
    return {name: statistics.median(times) for name, times in runs.items()}


def main() -> None:
    with simulator_process("--rate-limit", "off") as (base, key):
        # bytecode cached, as on a user's machine after the first import (pip compiles what it installs,
        # an editable install compiles on first import): a PYTHONDONTWRITEBYTECODE in the environment
        # would make every fresh process compile deck_nb from source while httpx loads cached bytecode
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(BENCH_KEY=key, BENCH_BASE=base)
        fresh(FIRST_ANSWER["deck_nb"], env)  # warm-up: writes the bytecode cache, not timed
        first = medians(FIRST_ANSWER, env)
        typed = medians(FIRST_TYPED, env)
        imports = medians({m: IMPORT.format(module=m) for m in ("deck_nb", "deck_nb.client", "httpx")}, env)
        breakdown = where_the_time_goes(env)
    ours, floor = first["deck_nb"], first["httpx"]
    ratio = ours / floor
    report(
        "import",
        ratio,
        1.0,
        "× raw httpx, time to a first answer",
        "≤ 2 ×",
        ratio <= 2,
        label="import: time to a first answer (import, a client, GET /v2/test) in a fresh process",
        figure_text=f"{ours * 1000:.0f} ms ({ratio:.2f} ×); a first typed answer (a page of sources as "
        f"models) {typed['deck_nb'] * 1000:.0f} ms ({typed['deck_nb'] / typed['httpx']:.2f} × httpx and json); "
        f"lazy `import deck_nb` alone {imports['deck_nb'] * 1000:.0f} ms",
        floor_text=f"import httpx, a client, the same request: {floor * 1000:.0f} ms",
        first_answer_deck_nb_ms=round(ours * 1000, 1),
        first_answer_httpx_ms=round(floor * 1000, 1),
        first_typed_answer_deck_nb_ms=round(typed["deck_nb"] * 1000, 1),
        first_typed_answer_httpx_ms=round(typed["httpx"] * 1000, 1),
        import_deck_nb_lazy_ms=round(imports["deck_nb"] * 1000, 1),
        import_deck_nb_client_ms=round(imports["deck_nb.client"] * 1000, 1),
        import_httpx_ms=round(imports["httpx"] * 1000, 1),
        import_self_time_by_package=breakdown,
    )


if __name__ == "__main__":
    main()
