"""bench download: 200 files of 1 MB and one of 50 MB, fetched through ``dn.download`` against the
best raw-httpx scripts for the same job, 8 at a time, the simulator in its own process over
loopback. The same job is what ``dn.download`` does from the runs: list each run's files, then for
each file ask ``GET /v2/storage/{id}`` for a fresh signed URL, stream it to a file on disk, hash it
(sha256) and check its size; the largest files first, as ``dn.download`` schedules them. The floor
does it the best raw ways: one persistent client for the API and one for the signed URLs, httpx's own
chunks (64 KB: re-chunking to 256 KB or 1 MB copies and measured slower), ``hashlib`` updated per
chunk, no journal, no manifest, no frame; once on 8 threads and once on one asyncio loop (``RawAsync``),
and each round's floor is the faster of the two. Every side's sha256 must agree. Then the peak RSS of the
bench process while ``dn.download`` fetches the 50 MB file, and ``dn.extractions`` of 1,000 files
(listing, one schema read, the typed frame). Seven rounds, rotating which side goes first, after
one untimed pass of each (its time, the first call in the process, is printed too). The figure is
the median of the rounds' ratios (each round runs every side back to back, so a burst of other work
on this shared machine weighs on all); the ratio of the best times is printed beside it."""

from __future__ import annotations

import asyncio
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


class RawAsync:
    """The other raw way: the same steps on one asyncio loop (``httpx.AsyncClient``, a semaphore of
    the same size), the clients kept open across passes on one ``asyncio.Runner``. On the same work
    it measured faster than the threads (they spend their time handing Python's lock to each other),
    so each round's floor is whichever raw way was faster in that round."""

    def __init__(self, base: str, key: str) -> None:
        self.runner = asyncio.Runner()
        self.base, self.key = base, key
        self.runner.run(self._open())

    async def _open(self) -> None:
        auth = {"Authorization": f"Bearer {self.key}"}
        self.api = httpx.AsyncClient(base_url=self.base + "/", headers=auth, timeout=60)
        self.plain = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=CONCURRENCY))

    async def listing(self, run_id: str) -> list[dict]:
        items, params = [], {"limit": 100}
        while True:
            page = (await self.api.get(f"task-runs/{run_id}/storage", params=params)).json()
            items += page["data"]
            if not page.get("has_more") or not page.get("next_cursor"):
                return items
            params = {"limit": 100, "cursor": page["next_cursor"]}

    async def one(self, storage_id: str, folder: Path, slots: asyncio.Semaphore) -> tuple[str, str]:
        async with slots:
            item = (await self.api.get(f"storage/{storage_id}")).json()  # a fresh signed URL
            size, digest = 0, hashlib.sha256()
            async with self.plain.stream("GET", item["url"]) as response:
                response.raise_for_status()
                with open(folder / storage_id, "wb") as out:
                    async for chunk in response.aiter_bytes():
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
        if size != item["file_size"]:
            raise RuntimeError(f"{storage_id}: {size} of {item['file_size']} bytes")
        return storage_id, digest.hexdigest()

    async def _download(self, run_ids: list[str], folder: Path) -> dict[str, str]:
        slots = asyncio.Semaphore(CONCURRENCY)
        listed = await asyncio.gather(*(self.listing(run_id) for run_id in run_ids))
        items = sorted((item for page in listed for item in page), key=lambda item: -item["file_size"])
        return dict(await asyncio.gather(*(self.one(item["id"], folder, slots) for item in items)))

    def download(self, run_ids: list[str], folder: Path) -> tuple[float, float, dict[str, str]]:
        started, cpu = time.perf_counter(), time.process_time()
        digests = self.runner.run(self._download(run_ids, folder))
        return time.perf_counter() - started, time.process_time() - cpu, digests

    def close(self) -> None:
        async def close() -> None:
            await self.api.aclose()
            await self.plain.aclose()

        self.runner.run(close())
        self.runner.close()


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
            raw, raw_async = Raw(base, key), RawAsync(base, key)
            warm = scratch / "warm"  # every side once, untimed: imports (pandas), pools, connections
            warm.mkdir()
            first_raw = raw.download(run_ids[:1], warm)[0]
            raw_async.download(run_ids[:1], warm)
            first_ours = ours_download(deck, small[:1], warm / "ours")[0]
            start, peak = peak_rss_during(lambda: ours_download(deck, large, scratch / "large"))
            sides = {
                "threads": lambda folder: raw.download(run_ids, folder),
                "async": lambda folder: raw_async.download(run_ids, folder),
                "ours": lambda folder: ours_download(deck, small + large, folder),
            }
            rounds: list[dict[str, tuple]] = []
            load = [os.getloadavg()[0]]
            for n in range(REPEAT):  # each round runs every side, in a rotating order
                order = list(sides)[n % 3 :] + list(sides)[: n % 3]
                taken = {}
                for side in order:
                    folder = scratch / f"{side}{n}"
                    folder.mkdir()
                    taken[side] = sides[side](folder)
                    shutil.rmtree(folder)
                if not taken["ours"][2] == taken["threads"][2] == taken["async"][2]:
                    raise RuntimeError("dn.download and the floor disagree on the files or their sha256")
                if len(taken["ours"][2]) != SMALL_RUNS * SMALL_MONTHS + 1:
                    raise RuntimeError("a side did not fetch every file")
                rounds.append(taken)
                print(
                    "  " + ", ".join(f"{side} {taken[side][0]:.2f} s ({taken[side][1]:.2f} s CPU)" for side in sides),
                    flush=True,
                )
            load.append(os.getloadavg()[0])
            raw.close()
            raw_async.close()
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
    floors = [min(r["threads"], r["async"], key=lambda t: t[0]) for r in rounds]  # each round's faster raw way
    ours = [r["ours"] for r in rounds]
    raw_s, ours_s = min(t for t, _, _ in floors), min(t for t, _, _ in ours)
    raw_cpu, ours_cpu = (min(c for _, c, _ in side) * 1000 / files for side in (floors, ours))
    best_ratio = raw_s / ours_s  # throughput ratio of the best times: ours over raw
    ratio = statistics.median(f[0] / o[0] for f, o in zip(floors, ours, strict=True))  # round by round
    threads_s, async_s = (min(r[way][0] for r in rounds) for way in ("threads", "async"))
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
        f"streamed to disk, sha256 per chunk, size checked; largest first), {CONCURRENCY} at a time, "
        f"the faster of {CONCURRENCY} threads ({total_mb / threads_s:.0f} MB/s) and one asyncio loop "
        f"({total_mb / async_s:.0f} MB/s) in each round: {total_mb / raw_s:.0f} MB/s, {raw_s:.2f} s, "
        f"{raw_cpu:.2f} ms CPU per file",
        **{f"{side}_s": [round(r[side][0], 2) for r in rounds] for side in ("ours", "threads", "async")},
        **{f"{side}_cpu_s": [round(r[side][1], 2) for r in rounds] for side in ("ours", "threads", "async")},
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
