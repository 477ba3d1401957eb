"""Runs every bench script and prints the README's table: ``python bench/all.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = ["flow", "batch", "frames", "import_time", "form", "simulator", "memory", "chaos"]


def main(names: list[str]) -> int:
    rows = []
    for name in names or SCRIPTS:
        script = HERE / f"{name}.py"
        if not script.exists():
            continue
        out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=HERE.parent)
        print(out.stdout, end="", flush=True)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
        rows += [json.loads(line[7:]) for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    print("\n| bench | figure | floor | target | met |\n|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['name']} | {r['figure']:.3g} {r['unit']} | {r['floor']:.3g} | {r['target']} | "
            f"{'yes' if r['ok'] else 'NO'} |"
        )
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
