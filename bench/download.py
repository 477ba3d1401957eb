"""bench download: 200 files of 1 MB and one of 50 MB, fetched through ``dn.download`` against the
best raw-httpx script for the same job (ask ``GET /v2/storage/{id}`` for each file's signed URL,
stream it to disk), same concurrency, the simulator in its own process over loopback. Then the
peak RSS of the bench process while ``dn.download`` fetches the 50 MB file, and ``dn.extractions``
of 1,000 files (listing, one schema read, the typed frame). Alternating which side goes first,
best of four, after one untimed pass of each."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _common import control, report, rss_mb, simulator_process

MB = 1024 * 1024
SMALL_RUNS, SMALL_MONTHS = 10, 20  # 200 files of 1 MB
EXTRA_RUNS = 40  # with the 200: 1,000 files for dn.extractions
CONCURRENCY = 8
REPEAT = 4


def make_runs(deck, base: str, key: str, count: int, months: int, knobs: dict | None, tag: str) -> list:
    """``count`` completed bills runs of ``months`` files each; ``knobs`` armed before each run."""
    import deck_nb as dn

    jobs = []
    for i in range(count if knobs else 1):
        if knobs:
            control(base, key, "POST", "storage", knobs)
        pulls = [
            dn.Pull("src_sim_power", f"{tag}{i}-{j}", "pw", task_id="task_sim_bills", input={"months": months})
            for j in range(1 if knobs else count)
        ]
        batch = dn.run_many_sync(pulls, respond={"code": "123456"}, deck=deck, concurrency=10)
        bad = [o.status for o in batch if not o.ok]
        if bad:
            raise RuntimeError(f"setup runs did not complete: {bad}")
        jobs += [o.run for o in batch]
    return jobs


def raw_download(base: str, key: str, ids: list[str], folder: Path) -> float:
    """The floor: httpx with the key for the API, a plain client for the signed URLs, same threads."""
    api = httpx.Client(base_url=base + "/", headers={"Authorization": f"Bearer {key}"}, timeout=60)
    plain = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=CONCURRENCY))

    def one(storage_id: str) -> int:
        item = api.get(f"storage/{storage_id}").json()
        size = 0
        with plain.stream("GET", item["url"]) as response, open(folder / storage_id, "wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes(256 * 1024):
                out.write(chunk)
                size += len(chunk)
        assert size == item["file_size"]
        return size

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        total = sum(pool.map(one, ids))
    elapsed = time.perf_counter() - started
    api.close()
    plain.close()
    assert total >= len(ids) * MB
    return elapsed


def ours_download(deck, runs: list, folder: Path) -> float:
    import deck_nb as dn

    started = time.perf_counter()
    frame = dn.download(runs, folder, deck=deck, concurrency=CONCURRENCY, progress=False)
    elapsed = time.perf_counter() - started
    if not frame["fetched"].all():
        raise RuntimeError(f"dn.download failed some files: {frame['error'].dropna().tolist()[:3]}")
    return elapsed


def peak_rss_during(fn) -> tuple[float, float]:
    """(RSS at the start, peak RSS while ``fn`` runs), sampled every 5 ms, in MB."""
    start, peak, done = rss_mb(), [rss_mb()], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        fn()
    finally:
        done.set()
        sampler.join()
    return start, max(peak[0], rss_mb())


def main() -> None:
    import deck_nb as dn

    scratch = Path(tempfile.mkdtemp(prefix="bench-download-"))
    try:
        with simulator_process("--time-scale", "0.01", "--rate-limit", "off", "--url-ttl", "100000") as (base, key):
            deck = dn.Deck(api_key=key, base_url=base, api="connections", rate_limit=None)
            small = make_runs(deck, base, key, SMALL_RUNS, SMALL_MONTHS, {"large_file": "all", "large_size": MB}, "s")
            large = make_runs(deck, base, key, 1, 1, {"large_file": 1, "large_size": 50 * MB}, "l")
            extra = make_runs(deck, base, key, EXTRA_RUNS, SMALL_MONTHS, None, "x")
            ids = [item.id for job in small + large for item in deck.task_runs.files(job.id)]
            assert len(ids) == SMALL_RUNS * SMALL_MONTHS + 1
            warm = scratch / "warm"  # both sides once, untimed: imports (pandas), pools, connections
            warm.mkdir()
            raw_download(base, key, ids[:20], warm)
            ours_download(deck, small[:1], warm / "ours")
            start, peak = peak_rss_during(lambda: ours_download(deck, large, scratch / "large"))
            raws, ours = [], []
            for n in range(REPEAT):  # alternating which side goes first
                folder = scratch / f"raw{n}"
                folder.mkdir()
                for side in ("raw", "ours") if n % 2 == 0 else ("ours", "raw"):
                    if side == "raw":
                        raws.append(raw_download(base, key, ids, folder))
                    else:
                        ours.append(ours_download(deck, small + large, scratch / f"ours{n}"))
                shutil.rmtree(folder)
                shutil.rmtree(scratch / f"ours{n}")
                print(f"  raw {raws[-1]:.2f} s, deck_nb {ours[-1]:.2f} s", flush=True)
            everything = small + large + extra
            dn.extractions(everything[:2], deck=deck)  # warm: imports and connections
            timings = []
            for _ in range(REPEAT):
                began = time.perf_counter()
                table = dn.extractions(small + extra, deck=deck)
                timings.append(time.perf_counter() - began)
            assert len(table) == (SMALL_RUNS + EXTRA_RUNS) * SMALL_MONTHS == 1000
            deck.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    total_mb = (SMALL_RUNS * SMALL_MONTHS + 50) * MB / 1e6
    raw_s, ours_s = min(raws), min(ours)
    ratio = raw_s / ours_s  # throughput ratio: ours over raw
    grown = peak - start
    extraction_s = min(timings)
    report(
        "download",
        ratio,
        0.9,
        "× raw throughput",
        "≥ 0.9 × raw throughput",
        ratio >= 0.9,
        label=f"download: 200 files of 1 MB + one of 50 MB via dn.download, {CONCURRENCY} at a time",
        figure_text=f"{ratio:.2f} × ({total_mb / ours_s:.0f} MB/s, {ours_s:.2f} s)",
        floor_text=f"raw httpx, URL then stream, same threads: {total_mb / raw_s:.0f} MB/s, {raw_s:.2f} s",
        deck_nb_s=[round(t, 2) for t in ours],
        raw_s=[round(t, 2) for t in raws],
    )
    report(
        "download memory",
        grown,
        30.0,
        "MB above start",
        "≤ 30 MB above the start while the 50 MB file downloads",
        grown <= 30.0,
        label="download memory: peak RSS while dn.download fetches the 50 MB file (library loaded)",
        figure_text=f"+{grown:.1f} MB (from {start:.0f} MB)",
        floor_text="30 MB",
    )
    report(
        "extractions",
        extraction_s,
        0.3,
        "s",
        "≤ 0.3 s for 1,000 files",
        extraction_s <= 0.3,
        label=f"extractions: dn.extractions of 1,000 files ({SMALL_RUNS + EXTRA_RUNS} runs, one schema read)",
        figure_text=f"{extraction_s:.3f} s",
        floor_text="0.3 s",
        runs_s=[round(t, 3) for t in timings],
    )


if __name__ == "__main__":
    main()
