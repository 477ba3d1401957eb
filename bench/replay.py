"""bench replay: what recording costs and what replay saves.

1. Recording overhead: bench/flow's deck_nb side (connect-with-MFA + run flows against the simulator in
   its own process), plain and inside ``dn.record``, alternating, best of three; the wall-time ratio of
   the two in one run (and the client CPU ratio, the more sensitive figure).
2. Replay: a 100-run batch with an MFA interaction each, recorded at the simulator's real pace, then
   replayed from the recording alone (no server, virtual time); replay wall time and speed-up.
Prints figures; nothing here is asserted in tests."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from _common import control, report, simulator_process
from flow import CONCURRENCY, POLL_S, TIME_SCALE

FLOWS = int(os.environ.get("BENCH_FLOWS", 200))
BATCH = int(os.environ.get("BENCH_REPLAY_RUNS", 100))
BATCH_TIME_SCALE = os.environ.get("BENCH_REPLAY_TIME_SCALE", "1.0")  # the pace of a real session
REPEAT = 3


def batch(deck, runs: int):
    import deck_nb as dn

    items = [dn.Pull("src_sim_power", f"u{i}", "p", task_id="task_sim_bills", input={"months": 1}) for i in range(runs)]
    started, cpu = time.perf_counter(), time.process_time()
    result = dn.run_many_sync(
        items, respond={"code": "123456"}, deck=deck, concurrency=CONCURRENCY, poll_interval=POLL_S
    )
    failed = [o.status for o in result if not o.ok]
    return time.perf_counter() - started, time.process_time() - cpu, failed, sorted(str(o.run.output) for o in result)


def overhead(base: str, key: str, folder: Path) -> tuple[list, list]:
    import deck_nb as dn

    plain, recorded = [], []
    for i in range(REPEAT):
        for kept, record in ((plain, False), (recorded, True)):
            control(base, key, "POST", "reset")
            deck = dn.Deck(api_key=key, base_url=base, rate_limit=None, api="connections")
            if record:
                with dn.record(folder / f"flow{i}.deckrec"):
                    kept.append(batch(deck, FLOWS))
            else:
                kept.append(batch(deck, FLOWS))
            deck.close()
            print(f"  {'recorded' if record else 'plain'}: {kept[-1][0]:.2f} s", flush=True)
    return plain, recorded


def main() -> None:
    import deck_nb as dn

    folder = Path(tempfile.mkdtemp(prefix="deck_nb_bench_replay_"))
    with simulator_process("--time-scale", TIME_SCALE, "--rate-limit", "off") as (base, key):
        plain, recorded = overhead(base, key, folder)
    ratio = min(r[0] for r in recorded) / min(p[0] for p in plain)
    cpu_ratio = min(r[1] for r in recorded) / min(p[1] for p in plain)
    failed = [s for run in plain + recorded for s in run[2]]
    report(
        "replay-record",
        ratio,
        1.0,
        "× wall time unrecorded",
        "≤ 1.05 ×",
        ratio <= 1.05 and not failed,
        label=f"recording overhead: bench/flow's {FLOWS} connect-with-MFA + run flows inside dn.record",
        figure_text=f"{ratio:.3f} × ({min(r[0] for r in recorded):.2f} s); client CPU {cpu_ratio:.2f} ×",
        floor_text=f"the same flows unrecorded: {min(p[0] for p in plain):.2f} s",
        plain_s=[round(p[0], 2) for p in plain],
        recorded_s=[round(r[0], 2) for r in recorded],
        client_cpu_ratio=round(cpu_ratio, 3),
        failed=failed,
    )

    path = folder / "batch.deckrec"
    with simulator_process("--time-scale", BATCH_TIME_SCALE, "--rate-limit", "off") as (base, key):
        deck = dn.Deck(api_key=key, base_url=base, rate_limit=None, api="connections")
        with dn.record(path):
            live_s, _, live_failed, live_outputs = batch(deck, BATCH)
        deck.close()
    print(f"  recorded {BATCH} runs in {live_s:.2f} s ({path.stat().st_size / 1e6:.2f} MB)", flush=True)
    deck = dn.Deck(replay=path, rate_limit=None, api="connections")
    replay_s, _, replay_failed, replay_outputs = batch(deck, BATCH)
    deck.close()
    speedup = live_s / replay_s
    same = replay_outputs == live_outputs and not replay_failed and not live_failed
    report(
        "replay",
        replay_s,
        2.0,
        "s wall",
        "≤ 2 s and ≥ 50 × faster than recorded",
        replay_s <= 2.0 and speedup >= 50 and same,
        label=f"replay: a recorded {BATCH}-run batch, an MFA each, {CONCURRENCY} at a time (recorded at time scale "
        f"{BATCH_TIME_SCALE})",
        figure_text=f"{replay_s:.2f} s, {speedup:.0f} × faster",
        floor_text=f"the recorded session: {live_s:.1f} s",
        same_outputs=same,
        failed=live_failed + replay_failed,
    )


if __name__ == "__main__":
    main()
