"""Adversarial tests of the new parts (storage downloads, replay, the job machine, frames), over
real loopback HTTP against the simulator or a small hostile server defined here. A test marked
``xfail(strict=True)`` shows a real bug (its reason says what happens and what should)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from _storage_runs import client, completed_run
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

import deck_nb as dn
from deck_nb._serve import ServerThread

KEY = "sk_test_attack_storage"
SIZE = 50_000


class Hostile:
    """A Deck Storage whose files' behaviour, names and bytes a test changes between calls."""

    def __init__(self) -> None:
        self.modes: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.bodies: dict[str, bytes] = {}
        self.tokens: set[str] = set()
        self.hits: dict[str, int] = {}
        app = Starlette(
            routes=[
                Route("/v2/storage/{id}", self.item),
                Route("/v2/task-runs/{id}/storage", self.listing),
                Route("/v2/task-runs/{id}", self.run),
                Route("/bucket/{id}", self.bucket),
            ]
        )
        self.server = ServerThread(app, host="127.0.0.1", port=0, name="attack-storage")
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    @property
    def base_url(self) -> str:
        return f"{self.server.root_url}/v2"

    def body(self, id_: str) -> bytes:
        return self.bodies.get(id_, (id_.encode() * SIZE)[:SIZE])

    def item_of(self, id_: str, url: str | None = None) -> dict:
        return {
            "id": id_,
            "object": "storage",
            "file_name": self.names.get(id_, f"{id_}.bin"),
            "file_type": "application/octet-stream",
            "file_size": len(self.body(id_)),
            **({"url": url} if url else {}),
            "metadata": None,
            "extraction": None,
            "result": "success",
            "task_run_id": "trun_x",
            "created_at": "2026-01-01T00:00:00Z",
        }

    async def item(self, request: Request) -> Response:
        id_ = request.path_params["id"]
        token = os.urandom(8).hex()
        self.tokens.add(token)
        return JSONResponse(self.item_of(id_, f"{self.server.root_url}/bucket/{id_}?sig={token}"))

    async def listing(self, request: Request) -> Response:
        ids = request.path_params["id"].removeprefix("trun_").split("-")
        return JSONResponse({"data": [self.item_of(f"stor_{i}") for i in ids], "has_more": False, "next_cursor": None})

    async def run(self, request: Request) -> Response:
        return JSONResponse({"id": request.path_params["id"], "object": "task_run", "status": "completed"})

    async def bucket(self, request: Request) -> Response:
        id_ = request.path_params["id"]
        self.hits[id_] = self.hits.get(id_, 0) + 1
        mode = self.modes.get(id_, "ok")
        body = self.body(id_)
        if mode == "trickle":

            async def slow():
                for i in range(0, len(body), 100):
                    yield body[i : i + 100]
                    await asyncio.sleep(0.2)

            return StreamingResponse(slow())
        return Response(body, headers={"content-length": str(len(body))})


@pytest.fixture
def hostile():
    h = Hostile()
    yield h
    h.stop()


def hostile_deck(h: Hostile, **options) -> dn.Deck:
    settings = {"rate_limit": None, "max_retries": 0, "timeout": 2, "deadline": 5, **options}
    return dn.Deck(api_key=KEY, base_url=h.base_url, api="connections", **settings)


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# --- 2. downloads -------------------------------------------------------------------------------


def test_a_dangling_symlink_planted_under_a_files_name_costs_only_that_file(hostile, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "deck_files"
    folder.mkdir()
    os.symlink(outside / "stolen.bin", folder / "stor_a.bin")  # dangling: its target does not exist yet
    with hostile_deck(hostile) as deck:
        frame = dn.download("trun_a-b", folder, deck=deck)
    assert list(outside.iterdir()) == []  # nothing written through the link
    assert len(frame) == 2 and frame.set_index("storage_id").loc["stor_b", "fetched"]


def test_a_symlink_planted_under_a_files_name_pointing_outside_is_never_followed(hostile, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_bytes(b"mine")
    folder = tmp_path / "deck_files"
    folder.mkdir()
    os.symlink(outside / "precious", folder / "stor_a.bin")
    with hostile_deck(hostile) as deck:
        frame = dn.download("trun_a-b", folder, deck=deck)
        assert (outside / "precious").read_bytes() == b"mine"
        assert frame["error"].isna().all() and frame["fetched"].all()
        assert all(Path(p).resolve().parent == folder.resolve() for p in frame["path"])
        with pytest.raises(ValueError, match="outside"):  # the explicit folder form refuses plainly
            deck.storage.download("stor_a", folder)
    assert (outside / "precious").read_bytes() == b"mine"


def test_storage_download_into_a_folder_never_writes_through_a_symlink_onto_another_file(hostile, tmp_path):
    folder = tmp_path / "deck_files"
    folder.mkdir()
    (folder / "precious.txt").write_bytes(b"the analyst's notes")
    os.symlink("precious.txt", folder / "stor_a.bin")
    with hostile_deck(hostile) as deck:
        try:
            deck.storage.download("stor_a", folder)
        except (ValueError, dn.client.DownloadError):
            pass
    assert (folder / "precious.txt").read_bytes() == b"the analyst's notes"


def test_a_directory_under_a_files_name_and_case_or_normalisation_twins_get_their_own_names(hostile, tmp_path):
    folder = tmp_path / "deck_files"
    (folder / "bill.pdf").mkdir(parents=True)
    hostile.names.update(
        {"stor_a": "bill.pdf", "stor_b": "BILL.pdf", "stor_c": "caf\u00e9.pdf", "stor_d": "cafe\u0301.pdf",
         "stor_e": "..", "stor_f": "\u202egnp.exe", "stor_g": " . "}
    )  # fmt: skip
    with hostile_deck(hostile) as deck:
        frame = dn.download("trun_a-b-c-d-e-f-g", folder, deck=deck)
    assert frame["error"].isna().all(), frame["error"].tolist()
    paths = [Path(p) for p in frame["path"]]
    assert len({p.name.casefold() for p in paths}) == 7
    assert all(p.is_file() and p.parent == folder.resolve() for p in paths)
    assert (folder / "bill.pdf").is_dir() and tree(tmp_path)[0] == "deck_files"


def _run_downloads(hostile, folder, n):
    frames, errors = [], []
    barrier = threading.Barrier(n)

    def one():
        try:
            with hostile_deck(hostile) as deck:
                barrier.wait(5)
                frames.append(dn.download("trun_a-b-c-d", folder, deck=deck, concurrency=4))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return frames, errors


def test_concurrent_downloads_of_the_same_runs_into_one_folder(hostile, tmp_path):
    folder = tmp_path / "deck_files"
    for round_ in range(15):
        frames, errors = _run_downloads(hostile, folder / str(round_), 4)
        assert errors == [], errors
        assert all(f["error"].isna().all() for f in frames)
        assert sorted(p.name for p in (folder / str(round_)).iterdir()) == [
            ".deck_nb-files.json", "stor_a.bin", "stor_b.bin", "stor_c.bin", "stor_d.bin",
        ]  # fmt: skip


CRASH = textwrap.dedent(
    """
    import sys, deck_nb as dn
    deck = dn.Deck(api_key=sys.argv[1], base_url=sys.argv[2], api="connections", rate_limit=None,
                   max_retries=0, timeout=30, deadline=600)
    print("go", flush=True)
    dn.download("trun_slow", sys.argv[3], deck=deck, progress=False)
    """
)


def test_a_crash_mid_file_leaves_no_temporary_file_after_the_next_download(hostile, tmp_path):
    folder = tmp_path / "deck_files"
    hostile.modes["stor_slow"] = "trickle"
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH, KEY, hostile.base_url, str(folder)],
        stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
    )  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == b"go"
        for _ in range(100):
            if folder.exists() and any(p.name.endswith(".part") for p in folder.iterdir()):
                break
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(10)
    assert any(p.name.endswith(".part") for p in folder.iterdir())  # the crash left its part
    hostile.modes["stor_slow"] = "ok"
    with hostile_deck(hostile) as deck:
        frame = dn.download("trun_slow", folder, deck=deck)
    assert frame["fetched"].all() and (folder / "stor_slow.bin").stat().st_size == SIZE
    assert [p.name for p in folder.iterdir() if p.name.endswith(".part")] == []


def test_a_hand_broken_manifest_loses_nothing_and_overwrites_no_other_file(hostile, tmp_path):
    folder = tmp_path / "deck_files"
    folder.mkdir()
    (folder / "mine.txt").write_bytes(b"mine")
    manifest = {"version": 1, "files": {"stor_a": {"name": "mine.txt", "size": 4, "sha256": "0" * 64},
                                        "stor_b": {"name": "../escape.bin"}, "stor_c": "junk"}}  # fmt: skip
    (folder / ".deck_nb-files.json").write_text(json.dumps(manifest))
    with hostile_deck(hostile) as deck:
        frame = dn.download("trun_a-b-c", folder, deck=deck)
    assert frame["error"].isna().all()
    assert tree(tmp_path) == sorted(["deck_files", *(f"deck_files/{n}" for n in os.listdir(folder))])
    assert (folder / "mine.txt").read_bytes() == b"mine", "a manifest entry naming another file overwrote it"


# --- 1. secrets after a whole session: connect, MFA, run, download, record, replay ------------------

PASSWORD = "ATTACK-pw-" + os.urandom(4).hex()


def _session(deck, files_dir: Path, replaying: bool = False) -> tuple[list[str], list[str]]:
    """One analyst's session; returns (texts, paths of files written) to scan."""
    texts: list[str] = []
    conn = dn.connect("src_sim_power", "ada", PASSWORD, respond={"code": "123456"}, deck=deck).wait(30)
    run = dn.run_task("task_sim_bills", conn, input={"months": 2}, respond={"code": "123456"}, deck=deck).wait(30)
    assert run.ok, run
    frame = dn.download(run, files_dir, deck=deck, progress=False)
    assert len(frame) == 2 and (replaying or frame["error"].isna().all()), frame["error"].tolist()
    items = list(deck.task_runs.files(run.id))
    item = deck.storage.retrieve(items[0].id)
    texts += [repr(conn), conn._repr_html_(), repr(run), run._repr_html_(), repr(conn.resource), repr(run.resource)]
    texts += [repr(item), str(item), repr(items), frame.to_csv(), frame._repr_html_(), repr(frame)]
    texts += [dn.extractions(run, deck=deck).to_csv(), dn.outputs_frame(run).to_csv()]
    try:
        dn.connect("src_sim_power", "ada", "wrong-" + PASSWORD, respond={"code": "000000"}, deck=deck).wait(30)
    except dn.DeckError as exc:
        texts.append(str(exc) + repr(exc))
    batch = dn.run_many_sync(
        [dn.Pull("src_sim_power", "bob", PASSWORD, task_id="task_sim_bills", input={"months": 1})],
        respond={"code": "123456"}, deck=deck,
    )  # fmt: skip
    texts += [repr(batch), batch.frame.to_csv(), batch.download(files_dir / "batch").to_csv()]
    return texts, [str(p) for p in files_dir.rglob("*") if p.is_file() and not p.name.endswith(".pdf")]


def _scan(texts: list[str], api_key: str) -> list[str]:
    from test_secrets_audit import NOISE

    found = []
    for text in texts:
        quiet = NOISE.sub("", text)
        for needle in (PASSWORD, api_key, "signature=", "expires=", "tk_", "/_files/"):
            if needle in text:
                found.append(f"{needle!r} in {text[max(0, text.find(needle) - 80) : text.find(needle) + 80]!r}")
        if "123456" in quiet:
            found.append(f"the code in {quiet[max(0, quiet.find('123456') - 80) : quiet.find('123456') + 40]!r}")
    return found


@pytest.mark.deck_simulator(api="both", clock="real", time_scale=0.01, rate_limit="off")
def test_no_secret_in_any_output_of_a_recorded_and_replayed_session(sim, tmp_path, caplog):
    from deck_nb.history import History, Journal

    caplog.set_level(logging.DEBUG)
    recording = tmp_path / "session.deckrec"
    outputs: list[str] = []
    for phase in ("record", "replay"):
        journal = Journal(tmp_path / f"{phase}.sqlite")
        if phase == "record":
            ctx, deck = dn.record(recording), dn.Deck(api_key=sim.api_key, base_url=sim.base_url, observers=[journal])
        else:
            ctx, deck = dn.replay(recording), None
        with ctx:
            deck = deck or dn.Deck(observers=[journal])
            with deck:
                texts, files = _session(deck, tmp_path / f"{phase}_files", phase == "replay")
        history = History([journal])
        for name in ("runs", "connections", "credentials", "sessions", "interactions", "errors", "events", "files"):
            texts.append(history.frame(name).to_csv())
        texts += [repr(history), history.summary().to_csv(), history.extractions.to_csv()]
        texts += [Path(f).read_bytes().decode("latin-1") for f in files]  # the manifests
        texts.append(b"".join(p.read_bytes() for p in tmp_path.glob(f"{phase}.sqlite*")).decode("latin-1"))
        outputs += texts
    outputs += [recording.read_text(), caplog.text]
    assert "123456" not in recording.read_text()
    assert _scan(outputs, sim.api_key) == []


def test_dn_download_is_recorded_and_replays_without_the_network(sim, tmp_path):
    from record_helpers import no_network

    recording = tmp_path / "bills.deckrec"
    with dn.record(recording, files="full"), client(sim) as deck:
        run = completed_run(deck, sim, months=2)
        first = dn.download(run, tmp_path / "live", deck=deck, progress=False)
    assert first["fetched"].all()
    assert '"file"' in recording.read_text(), "the recording holds no downloaded file"
    with no_network(), dn.replay(recording), dn.Deck() as deck:
        again = dn.download(run.id, tmp_path / "replayed", deck=deck, progress=False)
    assert again["error"].isna().all(), again["error"].tolist()
    assert list(again["sha256"]) == list(first["sha256"])


# --- 3. replay of recordings edited by hand ---------------------------------------------------------


@pytest.fixture
def session_recording(sim, tmp_path):
    """A notebook-level session recorded on the real clock: connect with MFA, a bills run."""
    path = tmp_path / "s.deckrec"
    with dn.record(path), dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
        conn = dn.connect("src_sim_power", "ada", PASSWORD, respond={"code": "123456"}, deck=deck).wait(30)
        run = dn.run_task("task_sim_bills", conn, input={"months": 1}, respond={"code": "123456"}, deck=deck).wait(30)
        assert run.ok
    return path


def _replay_session(path: Path):
    with dn.replay(path), dn.Deck() as deck:
        conn = dn.connect("src_sim_power", "ada", "anything", respond={"code": "999999"}, deck=deck).wait(30)
        return dn.run_task("task_sim_bills", conn, input={"months": 1}, respond={"code": "1"}, deck=deck).wait(30)


def _check(path: Path, capsys) -> tuple[int, str]:
    from deck_nb.cli import main

    code = main(["recording", "check", str(path)])
    out = capsys.readouterr()
    return code, out.out + out.err


EDITS = {
    "line_deleted": lambda lines: [*lines[:3], *lines[4:]],
    "line_duplicated": lambda lines: [*lines[:3], lines[3], *lines[3:]],
    "binary_junk": lambda lines: [*lines[:2], "\x00\xff\xfe junk \x01", *lines[2:]],
    "empty": lambda lines: [],
    "header_only": lambda lines: lines[:1],
}


@pytest.mark.deck_simulator(api="both", clock="real", time_scale=0.01, rate_limit="off")
@pytest.mark.parametrize("edit", list(EDITS))
def test_a_hand_edited_recording_is_refused_or_replays_bounded_with_a_clear_error(
    edit, session_recording, capsys, tmp_path
):
    from deck_nb.recording import RecordingError, ReplayMiss

    lines = session_recording.read_text().splitlines()
    edited = EDITS[edit](lines)
    session_recording.write_text("\n".join(edited) + ("\n" if edited else ""))
    code, said = _check(session_recording, capsys)
    assert code != 0, (edit, said)
    assert "Traceback" not in said and said.strip()
    started = time.monotonic()
    try:
        run = _replay_session(session_recording)
    except (RecordingError, ReplayMiss, dn.DeckError) as exc:
        assert str(exc).strip() and "Traceback" not in str(exc)
        text = str(exc)
        assert "line" in text or "recorded" in text or "status" in text, text
    else:
        raise AssertionError(f"{edit}: a broken recording replayed as if whole: {run!r}")
    assert time.monotonic() - started < 30


@pytest.mark.deck_simulator(api="both", clock="real", time_scale=0.01, rate_limit="off")
def test_replay_asked_something_never_recorded_fails_that_call_and_recording_over_a_file_is_refused(
    session_recording,
):
    from deck_nb.recording import RecordingError, ReplayMiss

    before = session_recording.read_bytes()
    with pytest.raises(RecordingError, match="overwrite=True"), dn.record(session_recording):
        pass
    assert session_recording.read_bytes() == before
    with dn.replay(session_recording), dn.Deck() as deck:
        with pytest.raises(ReplayMiss, match="task_sim_statements"):
            deck.tasks.retrieve("task_sim_statements")
        conn = dn.connect("src_sim_power", "ada", "x", respond={"code": "1"}, deck=deck).wait(30)
        assert conn.ok  # the miss lost nothing: the recorded session still replays after it


@pytest.mark.deck_simulator(api="both", clock="real", time_scale=0.01, rate_limit="off")
def test_a_status_deck_nb_does_not_know_is_shown_as_answered_not_as_running(session_recording):
    text = session_recording.read_text()
    session_recording.write_text(text.replace('"status": "completed"', '"status": "c0mpleted"'))
    with dn.replay(session_recording), dn.Deck() as deck:
        conn = dn.connect("src_sim_power", "ada", "anything", respond={"code": "1"}, deck=deck).wait(30)
        job = dn.run_task("task_sim_bills", conn, input={"months": 1}, respond={"code": "1"}, deck=deck)
        try:
            job.wait(30)
            said = repr(job)
        except dn.DeckError as exc:
            said = str(exc)
        assert deck.task_runs.retrieve(job.id).status == "c0mpleted"
        assert job.status == "c0mpleted" and "running" not in said, said
        runs = dn.history().runs
        assert runs.loc[runs["id"] == job.id, "status"].tolist() == ["c0mpleted"]  # journaled as answered


# --- 4. the job machine: hostile responders, interrupts, loops ------------------------------------

FASTSIM = pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.01, rate_limit="off")


def _deck(sim, **options):
    return dn.Deck(api_key=sim.api_key, base_url=sim.base_url, **options)


class Flaky:
    """A responder callable that misbehaves ``bad`` times, then answers the code."""

    def __init__(self, bad):
        self.bad, self.calls = list(bad), 0

    def __call__(self, interaction):
        self.calls += 1
        if self.bad:
            b = self.bad.pop(0)
            if isinstance(b, BaseException):
                raise b
            return b
        return {f.name: "123456" for f in interaction.fields}


BAD_ANSWERS = {
    "raises": ZeroDivisionError("responder bug"),
    "none": None,
    "wrong_field": {"cod": "123456"},
    "list": ["123456"],
    "huge": {"code": "7" * 200_000},
}


@FASTSIM
@pytest.mark.parametrize("bad", list(BAD_ANSWERS))
def test_a_responder_that_raises_or_returns_garbage_gives_a_clear_error_and_the_job_resumes(bad, sim, caplog):
    caplog.set_level(logging.DEBUG)
    responder = Flaky([BAD_ANSWERS[bad]])
    with _deck(sim) as deck:
        job = dn.connect("src_sim_power", "ada", PASSWORD, respond=responder, deck=deck)
        started = time.monotonic()
        try:
            job.wait(20)
            first = None
        except Exception as exc:
            first = exc
        assert time.monotonic() - started < 20
        if first is not None:
            said = str(first)
            assert said.strip() and "7" * 1000 not in said and "123456" not in said, said[:300]
            job.wait(20)  # nothing lost: the same job resumes and the next answer is taken
        assert job.ok, job
    assert "7" * 1000 not in caplog.text


@FASTSIM
def test_an_interrupt_mid_wait_then_wait_again_resumes_the_same_job(sim):
    responder = Flaky([KeyboardInterrupt()])
    with _deck(sim) as deck:
        job = dn.connect("src_sim_power", "ada", PASSWORD, respond=responder, deck=deck)
        with pytest.raises(KeyboardInterrupt):
            job.wait(20)
        job_id = job.id
        job.wait(20)
        assert job.ok and job.id == job_id and responder.calls == 2
        assert len(list(deck.connections.list())) == 1  # one connection, not a second login


@FASTSIM
def test_await_job_twice_at_once_and_in_another_event_loop(sim):
    with _deck(sim) as deck:
        calls = []

        def answer(interaction):
            calls.append(interaction.type)
            return {"code": "123456"}

        async def both():
            job = dn.connect("src_sim_power", "ada", PASSWORD, respond=answer, deck=deck)
            a, b = await asyncio.wait_for(asyncio.gather(job, job), 30)
            return job, a, b

        job, a, b = asyncio.run(both())
        assert job.ok and a is b and calls == ["mfa"]  # one answer submitted, not two

        async def start():
            return dn.run_task("task_sim_bills", job, input={"months": 1}, respond=answer, deck=deck)

        run = asyncio.run(start())  # started in one loop ...

        async def finish():
            return await asyncio.wait_for(run, 30)

        asyncio.run(finish())  # ... awaited in another
        assert run.ok, run


@FASTSIM
def test_run_task_on_a_login_that_failed_says_so_at_once(sim):
    with _deck(sim) as deck:
        conn = dn.connect("src_sim_power", "ada", "pass_bad", respond={"code": "000000"}, deck=deck)
        try:
            conn.wait(20)
        except dn.DeckError:
            pass
        assert conn.done and not conn.ok
        started = time.monotonic()
        with pytest.raises(dn.DeckError) as caught:  # at once, or on the first wait
            dn.run_task("task_sim_bills", conn, input={"months": 1}, respond={"code": "123456"}, deck=deck).wait(20)
        assert time.monotonic() - started < 10
        said = str(caught.value)
        assert "pass_bad" not in said and ("connected" in said or "password" in said), said


# --- 5. frames: concat across APIs, empty histories, parquet, encrypted payloads -------------------


def _history_of(sim, tmp_path, api: str, name: str):
    from deck_nb.history import History, Journal

    journal = Journal(tmp_path / f"{name}.sqlite")
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url, api=api, observers=[journal]) as deck:
        conn = dn.connect("src_sim_power", name, "pass_good", respond={"code": "123456"}, deck=deck).wait(30)
        run = dn.run_task("task_sim_bills", conn, input={"months": 2}, respond={"code": "123456"}, deck=deck)
        run.wait(30)
        dn.download(run, tmp_path / f"{name}_files", deck=deck, progress=False)
        bad = dn.connect("src_sim_power", name, "pass_bad", respond={"code": "000000"}, deck=deck)
        try:  # the seed API refuses the login; the current one stores it and its first run fails
            bad.wait(30)
            dn.run_task("task_sim_bills", bad, input={"months": 1}, respond={"code": "000000"}, deck=deck).wait(30)
        except dn.DeckError:
            pass
    return History([journal]), run


FRAMES = ("runs", "connections", "credentials", "sessions", "interactions", "errors", "events", "files")


@FASTSIM
def test_every_frame_of_a_history_and_of_an_empty_one_round_trips_parquet_and_concats(sim, tmp_path):
    from deck_nb.history import History, Journal

    seed, _ = _history_of(sim, tmp_path, "connections", "ada")
    empty = History([Journal(tmp_path / "empty.sqlite")])
    for name in FRAMES:
        a, e = seed.frame(name), empty.frame(name)
        assert list(a.columns) == list(e.columns), name
        assert dict(a.dtypes.astype(str)) == dict(e.dtypes.astype(str)), name  # an empty frame is typed alike
        both = pd.concat([a, e, a], ignore_index=True)
        assert dict(both.dtypes.astype(str)) == dict(a.dtypes.astype(str)), name
        for frame in (a, e):
            frame.to_parquet(tmp_path / f"{name}.parquet")
            back = pd.read_parquet(tmp_path / f"{name}.parquet")
            assert dict(back.dtypes.astype(str)) == dict(frame.dtypes.astype(str)), name
    for frame in (seed.extractions, seed.summary(), empty.extractions, empty.summary()):
        frame.to_parquet(tmp_path / "x.parquet")
        assert dict(pd.read_parquet(tmp_path / "x.parquet").dtypes.astype(str)) == dict(frame.dtypes.astype(str))


@pytest.mark.deck_simulator(api="both", clock="real", time_scale=0.01, rate_limit="off")
def test_errors_frames_of_histories_of_both_apis_concat_keeping_the_code_category(sim, tmp_path):
    from deck_nb.history import History, Journal

    seed, _ = _history_of(sim, tmp_path, "connections", "ada")
    current, _ = _history_of(sim, tmp_path, "credentials", "bob")
    empty = History([Journal(tmp_path / "empty.sqlite")])
    for name in FRAMES:
        a, b, e = seed.frame(name), current.frame(name), empty.frame(name)
        both = pd.concat([a, b, e], ignore_index=True)
        assert len(both) == len(a) + len(b)
        for column in both.columns:
            if str(a[column].dtype) == str(b[column].dtype) == str(e[column].dtype):
                assert str(both[column].dtype) == str(a[column].dtype), (name, column)
    assert "connection_not_connected" in set(seed.errors["code"].dropna())


@FASTSIM
def test_outputs_frame_of_an_encrypted_run_says_it_is_encrypted(sim, tmp_path):
    import warnings

    sim.storage(encryption=True)
    with dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
        conn = dn.connect("src_sim_power", "ada", "pass_good", respond={"code": "123456"}, deck=deck).wait(30)
        run = dn.run_task("task_sim_bills", conn, input={"months": 2}, deck=deck).wait(30)
        assert run.ok and str(run.resource.output).startswith("enc_")
        texts = [repr(run), run._repr_html_(), dn.runs_frame([run]).to_csv()]
        extractions = dn.extractions(run, deck=deck)
        assert len(extractions) == 2 and extractions["total_due"].notna().all()  # extractions stay plain
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                frame = dn.outputs_frame(run)
                said = " ".join(str(w.message) for w in caught) + frame.to_csv()
            except (dn.DeckError, ValueError) as exc:
                said = str(exc)
        assert all(str(run.resource.output) not in t for t in texts)  # no ciphertext dumped on a card
        assert "encrypt" in said.lower(), said


def test_every_hostile_transfer_is_its_own_row_bounded_with_no_part_left_and_no_url(tmp_path, caplog):
    from _storage_server import KEY as SKEY
    from _storage_server import StorageServer

    caplog.set_level(logging.DEBUG)
    server = StorageServer().start()
    modes = ["ok", "oversize", "hangup", "short", "stall", "trickle", "expired", "gone", "bigger_header"]
    try:
        deck = dn.Deck(
            api_key=SKEY, base_url=server.base_url, api="connections", rate_limit=None, max_retries=0, timeout=1,
            deadline=2,
        )  # fmt: skip
        started = time.monotonic()
        with deck:
            frame = dn.download("trun_" + "-".join(modes), tmp_path, deck=deck, progress=False)
        took = time.monotonic() - started
    finally:
        server.stop()
    assert took < 20, took
    errors = dict(zip(frame["storage_id"], frame["error"].fillna(""), strict=True))
    assert len(frame) == len(modes) and errors.pop("stor_ok") == ""
    assert all(e for e in errors.values()), errors
    assert sorted(p.name for p in tmp_path.iterdir()) == [".deck_nb-files.json", "ok.bin"]
    seen = frame.to_csv() + caplog.text + (tmp_path / ".deck_nb-files.json").read_text()
    assert not [t for t in server.tokens if t in seen]


@pytest.mark.deck_simulator(api="both", clock="real", time_scale=0.01, rate_limit="off")
@pytest.mark.parametrize(
    "order",
    [
        "same",
        "reversed",
        "one_at_a_time",
    ],
)
def test_a_batch_that_interleaves_differently_at_replay_replays_each_pull_as_recorded(order, sim, tmp_path):
    from record_helpers import no_network

    users = ["ada", "bob", "carl"]
    pulls = [dn.Pull("src_sim_power", u, "pass_good", task_id="task_sim_bills", input={"months": i + 1})
             for i, u in enumerate(users)]  # fmt: skip
    path = tmp_path / "batch.deckrec"
    with dn.record(path), dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
        recorded = dn.run_many_sync(pulls, respond={"code": "123456"}, deck=deck, concurrency=3)
    assert all(o.ok for o in recorded)
    again_pulls = pulls[::-1] if order == "reversed" else pulls
    from deck_nb.recording import ReplayMiss

    with no_network(), dn.replay(path), dn.Deck() as deck:
        try:
            replayed = dn.run_many_sync(
                again_pulls, respond={"code": "1"}, deck=deck, concurrency=1 if order == "one_at_a_time" else 3
            )
        except ReplayMiss as miss:  # a notebook run another way may ask what was never recorded: said plainly
            assert order == "one_at_a_time" and "no recorded answer for" in str(miss)
            return

    def bills(result):
        return {o.spec.username: len(dn.outputs_frame(o.run)) for o in result}

    assert all(o.ok for o in replayed), [o for o in replayed]
    assert bills(replayed) == bills(recorded) == {"ada": 1, "bob": 2, "carl": 3}


# --- 4b. a papermill-like kernel (allow_stdin false, no page) with an explicit widget responder ------


@pytest.mark.deck_simulator(api="connections", clock="real", time_scale=0.05, rate_limit="off")
@pytest.mark.parametrize(
    "cell",
    [
        "await dn.connect('src_sim_power', 'ada', '{pw}', respond='widget')",
        "dn.connect('src_sim_power', 'ada', '{pw}', respond=__import__('deck_nb.notebook.widget_responder')"
        ".notebook.widget_responder.WidgetResponder()).wait(60)",
        "(await dn.run_many([dn.Pull('src_sim_power', 'ada', '{pw}', task_id='task_sim_bills')],"
        " respond='widget'))[0].error",
    ],
    ids=["await", "sync-wait", "batch"],
)
def test_a_headless_kernel_with_a_widget_responder_fails_fast_naming_the_ways_out(cell, sim):
    from kernel_driver import KernelBrowser

    env = {"DECK_API_KEY": sim.api_key, "DECK_BASE_URL": sim.base_url, "DECK_NB_RESPONDER": ""}
    kernel = KernelBrowser(env)
    try:
        started = time.monotonic()
        code = "import deck_nb as dn\nr = " + cell.format(pw=PASSWORD) + "\nprint('CELL-END', r)"
        kernel.kc.execute(code, allow_stdin=False)
        kernel.pump(lambda k: k.errors or "CELL-END" in k.printed(), timeout=60)
        elapsed = time.monotonic() - started
        said = "\\n".join(kernel.errors) + kernel.printed()
        assert elapsed < 15, elapsed
        assert "NoAnswer" in said or "no_answer" in said.lower() or "nobody" in said.lower(), said[-2000:]
        assert "respond=" in said and "DECK_NB_RESPONDER" in said, said[-2000:]
        assert PASSWORD not in said and kernel.find(dom_class="deck-nb-form") is None
    finally:
        kernel.close()


def test_concurrent_downloads_of_two_accounts_into_one_folder_keep_both_accounts_files(hostile, tmp_path):
    for id_ in ("stor_a1", "stor_a2", "stor_b1", "stor_b2"):
        hostile.names[id_] = f"bill_{id_[-1]}.pdf"
        hostile.modes[id_] = "trickle"  # slow enough that both calls name their files before either saves
    hostile.bodies.update({i: (i.encode() * 2000)[:2000] for i in ("stor_a1", "stor_a2", "stor_b1", "stor_b2")})
    folder = tmp_path / "deck_files"
    frames: dict[str, pd.DataFrame] = {}
    barrier = threading.Barrier(2)

    errors: list[BaseException] = []

    def one(run):
        try:
            with hostile_deck(hostile, deadline=60) as deck:
                barrier.wait(5)
                frames[run] = dn.download(run, folder, deck=deck, progress=False)
        except Exception as exc:  # the manifest's shared temporary name can also fail a call (see above)
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(r,)) for r in ("trun_a1-a2", "trun_b1-b2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    hostile.names.clear()
    assert errors == [], errors
    rows = pd.concat(list(frames.values()), ignore_index=True)
    assert len(rows) == 4 and rows["error"].isna().all()
    assert rows["path"].nunique() == 4, rows[["storage_id", "path"]].to_dict("records")
    for row in rows.itertuples():
        assert Path(row.path).read_bytes() == hostile.body(row.storage_id), row.storage_id


def test_screenshots_files_and_extractions_frames_hold_no_signed_url_and_round_trip_parquet(sim, tmp_path, caplog):
    from deck_nb import files as dnf

    caplog.set_level(logging.DEBUG)
    with client(sim) as deck:
        run = completed_run(deck, sim, months=2)
        shots = dnf.screenshots(run, deck=deck)
        shot, image = dnf.last_screenshot(run, deck=deck)
        raw = list(deck.task_runs.screenshots(run.id))
        files = dn.download(run, tmp_path / "f", deck=deck, progress=False)
        empty = dn.download([], tmp_path / "e", deck=deck, progress=False)
        extractions = dn.extractions(run, deck=deck)
    assert len(shots) and image and image.startswith(b"\x89PNG")
    urls = [s.url for s in raw if s.url]
    assert urls
    texts = [shots.to_csv(), repr(shots), repr(shot), str(shot), repr(raw), files.to_csv(), files._repr_html_()]
    texts += [extractions.to_csv(), caplog.text]
    for url in urls:
        query = url.split("?", 1)[-1]
        assert all(url not in t and query not in t for t in texts)
    assert all("signature=" not in t for t in texts)
    for name, frame in {"files": files, "extractions": extractions, "shots": shots}.items():  # empty: below
        frame.to_parquet(tmp_path / "x.parquet")
        back = pd.read_parquet(tmp_path / "x.parquet")
        assert dict(back.dtypes.astype(str)) == dict(frame.dtypes.astype(str)), name
    assert list(empty.columns) == list(files.columns)


def test_download_frames_concat_and_round_trip_parquet_keeping_the_result_category(sim, tmp_path):
    with client(sim) as deck:
        plain = dn.download(completed_run(deck, sim, months=1), tmp_path / "a", deck=deck, progress=False)
        sim.storage(fail_extraction=1)
        failing = dn.download(completed_run(deck, sim, months=1, username="bob"), tmp_path / "b", deck=deck)
        empty = dn.download([], tmp_path / "e", deck=deck, progress=False)
    assert set(failing["result"]) == {"failure"} and set(plain["result"]) == {"success"}
    both = pd.concat([plain, failing, empty], ignore_index=True)
    assert str(both["result"].dtype) == "category"
    empty.to_parquet(tmp_path / "e.parquet")
    assert str(pd.read_parquet(tmp_path / "e.parquet")["result"].dtype) == "category"


@pytest.mark.parametrize(
    "where",
    [
        "missing_folder",
        "a_directory",
        "a_directory_overwrite",
    ],
)
def test_recording_to_a_path_that_cannot_be_written_says_so_before_the_session_not_after(where, sim, tmp_path):
    from deck_nb.recording import RecordingError

    path = tmp_path / "nope" / "s.deckrec" if where == "missing_folder" else tmp_path
    calls = []
    try:
        with (
            dn.record(path, overwrite=where.endswith("overwrite")),
            dn.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck,
        ):
            calls.append(deck.test())  # the session an analyst would lose (MFA typed, a run paid for)
    except (RecordingError, OSError) as exc:
        said = str(exc)
    else:
        said = ""
    if where == "missing_folder" and said == "":
        assert path.is_file()  # the folder was made: fine
        return
    assert said and str(path.name) in said, said
    assert calls == [], "the session ran, then its recording could not be saved: the session is lost"


@pytest.mark.parametrize(
    "what",
    [
        "missing",
        "directory",
        "junk",
    ],
)
def test_recording_check_on_what_is_not_a_recording_exits_non_zero_in_one_line(what, tmp_path, capsys):
    path = {"missing": tmp_path / "none.deckrec", "directory": tmp_path, "junk": tmp_path / "junk.deckrec"}[what]
    if what == "junk":
        path.write_bytes(os.urandom(3000))
    code, said = _check(path, capsys)
    assert code not in (0, None) and said.strip() and "Traceback" not in said, said


@FASTSIM
def test_await_cancelled_mid_wait_then_awaited_again_resumes_without_a_second_login(sim):
    asked = []

    async def slow_person(interaction):
        asked.append(interaction.type)
        if len(asked) == 1:
            await asyncio.sleep(3600)  # the analyst walks away; the cell is interrupted
        return {"code": "123456"}

    async def go(deck):
        job = dn.connect("src_sim_power", "ada", PASSWORD, respond=slow_person, deck=deck)
        waiting = asyncio.ensure_future(_awaited(job))
        for _ in range(200):
            if asked:
                break
            await asyncio.sleep(0.05)
        waiting.cancel()  # what Jupyter's interrupt does to an awaiting cell
        with pytest.raises((asyncio.CancelledError, KeyboardInterrupt)):
            await waiting
        await asyncio.wait_for(_awaited(job), 30)
        return job

    async def _awaited(job):
        return await job

    with _deck(sim) as deck:
        job = asyncio.run(go(deck))
        assert job.ok and asked == ["mfa", "mfa"]
        assert len(list(deck.connections.list())) == 1


def test_a_download_into_a_path_that_is_a_file_is_refused_plainly_before_anything_is_fetched(hostile, tmp_path):
    target = tmp_path / "deck_files"
    target.write_bytes(b"not a folder")
    with hostile_deck(hostile) as deck, pytest.raises((ValueError, OSError, dn.DeckError)) as caught:
        dn.download("trun_a", target, deck=deck)
    assert "deck_files" in str(caught.value) and hostile.hits == {}
    assert target.read_bytes() == b"not a folder"
