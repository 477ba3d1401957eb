"""bench download: 200 files of 1 MB and one of 50 MB, fetched through ``dn.download`` against the
best raw-httpx script for the same job, same threads, the simulator in its own process over
loopback. The same job is what ``dn.download`` does from the runs: list each run's files, then for
each file ask ``GET /v2/storage/{id}`` for a fresh signed URL, stream it to a file on disk, hash it
(sha256) and check its size; the largest files first, as ``dn.download`` schedules them. The floor
does it the best raw way: one persistent client for the API and one for the signed URLs, httpx's own
chunks (64 KB: re-chunking to 256 KB or 1 MB copies and measured slower), ``hashlib`` updated per
chunk, no journal, no manifest, no frame. Both sides' sha256 must agree. Then the peak RSS of the
bench process while ``dn.download`` fetches the 50 MB file, and ``dn.extractions`` of 1,000 files
(listing, one schema read, the typed frame). Alternating which side goes first, best of seven, after
one untimed pass of each (its time, the first call in the process, is printed too). The figure is
the median of the rounds' ratios (each round runs both sides back to back, so a burst of other work
on this shared machine weighs on both); the ratio of the best times is printed beside it."""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
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
REPEAT = 7


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


class Raw:
    """The floor: plain httpx, a client for the API (with the key) and one for the signed URLs, both
    kept open across passes like the client's own pools, the same number of threads."""

    def __init__(self, base: str, key: str) -> None:
        self.api = httpx.Client(base_url=base + "/", headers={"Authorization": f"Bearer {key}"}, timeout=60)
        self.plain = httpx.Client(timeout=60, limits=httpx.Limits(max_connections=CONCURRENCY))

    def listing(self, run_id: str) -> list[dict]:
        items, params = [], {"limit": 100}
        while True:
            page = self.api.get(f"task-runs/{run_id}/storage", params=params).json()
            items += page["data"]
            if not page.get("has_more") or not page.get("next_cursor"):
                return items
            params = {"limit": 100, "cursor": page["next_cursor"]}

    def one(self, storage_id: str, folder: Path) -> tuple[str, str]:
        item = self.api.get(f"storage/{storage_id}").json()  # a fresh signed URL
        size, digest = 0, hashlib.sha256()
        with self.plain.stream("GET", item["url"]) as response, open(folder / storage_id, "wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        if size != item["file_size"]:
            raise RuntimeError(f"{storage_id}: {size} of {item['file_size']} bytes")
        return storage_id, digest.hexdigest()

    def download(self, run_ids: list[str], folder: Path) -> tuple[float, float, dict[str, str]]:
        """(wall s, CPU s of this process, storage id → sha256)."""
        started, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            items = [item for listed in pool.map(self.listing, run_ids) for item in listed]
            items.sort(key=lambda item: -item["file_size"])  # the largest first, as dn.download does
            digests = dict(pool.map(lambda item: self.one(item["id"], folder), items))
        return time.perf_counter() - started, time.process_time() - cpu, digests

    def close(self) -> None:
        self.api.close()
        self.plain.close()


def ours_download(deck, runs: list, folder: Path) -> tuple[float, float, dict[str, str]]:
    """(wall s, CPU s of this process, storage id → sha256) of one ``dn.download``."""
    import deck_nb as dn

    started, cpu = time.perf_counter(), time.process_time()
    frame = dn.download(runs, folder, deck=deck, concurrency=CONCURRENCY, progress=False)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if not frame["fetched"].all():
        raise RuntimeError(f"dn.download failed some files: {frame['error'].dropna().tolist()[:3]}")
    return elapsed, cpu, dict(zip(frame["storage_id"], frame["sha256"], strict=True))


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
            run_ids = [job.id for job in small + large]
            raw = Raw(base, key)
            warm = scratch / "warm"  # both sides once, untimed: imports (pandas), pools, connections
            warm.mkdir()
            first_raw = raw.download(run_ids[:1], warm)[0]
            first_ours = ours_download(deck, small[:1], warm / "ours")[0]
            start, peak = peak_rss_during(lambda: ours_download(deck, large, scratch / "large"))
            raws, ours = [], []
            load = [os.getloadavg()[0]]
            for n in range(REPEAT):  # alternating which side goes first
                for side in ("raw", "ours") if n % 2 == 0 else ("ours", "raw"):
                    folder = scratch / f"{side}{n}"
                    folder.mkdir()
                    if side == "raw":
                        raws.append(raw.download(run_ids, folder))
                    else:
                        ours.append(ours_download(deck, small + large, folder))
                    shutil.rmtree(folder)
                if ours[-1][2] != raws[-1][2] or len(raws[-1][2]) != SMALL_RUNS * SMALL_MONTHS + 1:
                    raise RuntimeError("dn.download and the floor disagree on the files or their sha256")
                print(
                    f"  raw {raws[-1][0]:.2f} s ({raws[-1][1]:.2f} s CPU), "
                    f"deck_nb {ours[-1][0]:.2f} s ({ours[-1][1]:.2f} s CPU)",
                    flush=True,
                )
            load.append(os.getloadavg()[0])
            raw.close()
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
    files = SMALL_RUNS * SMALL_MONTHS + 1
    raw_s, ours_s = min(t for t, _, _ in raws), min(t for t, _, _ in ours)
    raw_cpu, ours_cpu = (min(c for _, c, _ in side) * 1000 / files for side in (raws, ours))
    best_ratio = raw_s / ours_s  # throughput ratio of the best times: ours over raw
    ratio = statistics.median(r[0] / o[0] for r, o in zip(raws, ours, strict=True))  # round by round
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
        figure_text=f"{ratio:.2f} × (median of {REPEAT} rounds; best times {best_ratio:.2f} ×: "
        f"{total_mb / ours_s:.0f} MB/s, {ours_s:.2f} s); "
        f"client CPU {ours_cpu:.2f} ms per file ({ours_cpu / raw_cpu:.2f} ×)",
        floor_text="raw httpx doing the same work (list the runs' files; per file a fresh signed URL, "
        f"streamed to disk, sha256 per chunk, size checked; largest first), same threads: "
        f"{total_mb / raw_s:.0f} MB/s, {raw_s:.2f} s, {raw_cpu:.2f} ms CPU per file",
        deck_nb_s=[round(t, 2) for t, _, _ in ours],
        raw_s=[round(t, 2) for t, _, _ in raws],
        deck_nb_cpu_s=[round(c, 2) for _, c, _ in ours],
        raw_cpu_s=[round(c, 2) for _, c, _ in raws],
        first_call_s={"deck_nb": round(first_ours, 3), "raw": round(first_raw, 3), "files": SMALL_MONTHS},
        load_average=[round(x, 1) for x in load],
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
