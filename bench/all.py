"""Runs every bench script and prints the benchmark table of docs/benchmarks.md, with the date and
the machine it ran on: ``python bench/all.py`` (all) or ``python bench/all.py flow chaos`` (rerun some). A script
with variants runs once per variant (``batch``: both Deck APIs, one row each). Each script's result
is kept in ``bench/results.json`` with when it ran; the table is printed from those (its heading
gives the span of the runs) and written to ``bench/RESULTS.md``, to paste into docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = ["flow", "batch", "frames", "import_time", "form", "simulator", "memory", "chaos", "download", "replay"]
VARIANTS = {"batch": [["--api", "connections"], ["--api", "credentials"]]}  # one row each: both Deck APIs
RESULTS = HERE / "results.json"
SCRIPT_BOUND_S = 1200  # a script still running after 20 minutes is reported, not waited for


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    return (
        f"{os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}"
    )


def cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def row(r: dict) -> str:
    label = r.get("label") or r["name"]
    figure = r.get("figure_text") or f"{r['figure']:.3g} {r['unit']}"
    floor = r.get("floor_text") or f"{r['floor']:.3g}"
    return f"| {cell(label)} | {cell(figure)} | {cell(floor)} | {cell(r['target'])} | {'yes' if r['ok'] else 'NO'} |"


def run(name: str) -> tuple[list[dict], str | None]:
    """The script's rows: one run, or one per variant (``VARIANTS``), each bounded on its own."""
    rows: list[dict] = []
    problems: list[str] = []
    for args in VARIANTS.get(name, [[]]):
        found, problem = run_once(name, args)
        rows += found
        problems += [problem] if problem else []
    return rows, "; ".join(problems) or None


def run_once(name: str, args: list[str]) -> tuple[list[dict], str | None]:
    script = HERE / f"{name}.py"
    called = " ".join([name, *args])
    try:
        out = subprocess.run(
            [sys.executable, str(script), *args],
            capture_output=True,
            text=True,
            cwd=HERE.parent,
            timeout=SCRIPT_BOUND_S,
        )
    except subprocess.TimeoutExpired:
        return [], f"{called}: still running after {SCRIPT_BOUND_S} s (stopped)"
    print(out.stdout, end="", flush=True)
    rows = [json.loads(line[7:]) for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode and not rows:
        print(out.stderr[-3000:], file=sys.stderr)
        return [], f"{called}: exited {out.returncode} without a result"
    return rows, None


def main(names: list[str]) -> int:
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() and names else {}
    for name in names or SCRIPTS:
        ran_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        found, problem = run(name)
        stored[name] = {"ran_at": ran_at, "rows": found, "problem": problem, "load": round(os.getloadavg()[0], 1)}
    RESULTS.write_text(json.dumps(stored, indent=1, default=str) + "\n")
    done = [stored[n] for n in SCRIPTS if n in stored]
    rows = [r for d in done for r in d["rows"]]
    problems = [d["problem"] for d in done if d["problem"]]
    times = sorted(d["ran_at"] for d in done)
    same_day = times[0][:10] == times[-1][:10]
    span = times[0] if times[0] == times[-1] else f"{times[0]} – {times[-1][-5:] if same_day else times[-1]}"
    loads = sorted(d.get("load", 0.0) for d in done)
    lines = [
        f"Ran {span} UTC on {machine()}; load average {loads[0]:g}–{loads[-1]:g} (other work on the machine); "
        "`python bench/all.py`.",
        "",
        "| bench | figure | floor | target | met |",
        "|---|---|---|---|---|",
        *(row(r) for r in rows),
        *(f"| {cell(p)} | — | — | — | NO |" for p in problems),
    ]
    table = "\n".join(lines)
    print("\n" + table)
    (HERE / "RESULTS.md").write_text(table + "\n")
    print("\n(written to bench/RESULTS.md: paste the table into docs/benchmarks.md)")
    return 0 if rows and not problems and all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
