"""The simulator's storage knobs over loopback: extraction failure on file N, a 50 MB file streamed
with bounded memory, lying lengths, hostile names, payload encryption, and their validation."""

from __future__ import annotations

import base64
import tracemalloc

import httpx
import pypdf
import pytest
from helpers import error_of
from test_sim_storage import all_files, completed, fetch, pdf_text

MB = 1024 * 1024


def url_of(api, item: dict) -> str:
    return api.ok(api.get(f"storage/{item['id']}"))["url"]


def test_file_n_of_the_next_run_fails_extraction_and_its_raw_file_stays(api, sim):
    armed = sim.storage(fail_extraction=2)
    assert armed["next_run"]["fail_extraction"] == [2]
    run = completed(api, "task_sim_bills", {"months": 3})
    items = all_files(api, run["id"])
    assert [i["result"] for i in items] == ["success", "failure", "success"]
    assert items[1]["extraction"] is None and items[0]["extraction"] and items[2]["extraction"]
    raw = fetch(url_of(api, items[1]))
    assert raw.status_code == 200 and "Total due:" in pdf_text(raw.content)
    assert [e["data"]["result"] for e in api.events(type="storage.created")] == ["success", "failure", "success"]
    assert sim.control("GET", "storage")["next_run"]["fail_extraction"] == []  # taken by that run
    later = completed(api, "task_sim_bills", {"months": 2}, username="bob")
    assert {i["result"] for i in all_files(api, later["id"])} == {"success"}


def test_a_run_that_stores_nothing_leaves_the_knob_armed(api, sim):
    sim.storage(fail_extraction="all")
    paid = completed(api, "task_sim_pay_bill", {"amount": 5})
    assert all_files(api, paid["id"]) == []
    run = completed(api, "task_sim_bills", {"months": 2})
    assert [i["result"] for i in all_files(api, run["id"])] == ["failure", "failure"]


def test_a_file_without_extraction_never_fails_it(api, sim):
    sim.storage(fail_extraction=1)
    (item,) = all_files(api, completed(api, "task_sim_usage", {"days": 2})["id"])
    assert item["extraction"] is None and item["result"] == "success"


def test_a_50_mb_file_is_streamed_without_being_held_in_memory(api, sim, tmp_path):
    sim.storage(large_file=1)
    run = completed(api, "task_sim_bills", {"months": 2})
    big, small = all_files(api, run["id"])
    assert big["file_size"] == 50 * MB and small["file_size"] < 4096
    url = url_of(api, big)
    target = tmp_path / big["file_name"]
    tracemalloc.start()
    try:
        with httpx.stream("GET", url, timeout=60) as response, target.open("wb") as out:
            assert response.headers["content-length"] == str(50 * MB)
            for chunk in response.iter_raw():
                out.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert target.stat().st_size == 50 * MB
    assert peak < 8 * MB, f"peak traced memory {peak / MB:.1f} MB while serving and reading 50 MB"
    reader = pypdf.PdfReader(str(target))
    assert f"Total due: {big['extraction']['total_due']:.2f} USD" in reader.pages[0].extract_text()


def test_large_size_and_all_files(api, sim):
    sim.storage(large_file="all", large_size=MB)
    items = all_files(api, completed(api, "task_sim_bills", {"months": 3})["id"])
    assert [i["file_size"] for i in items] == [MB] * 3
    assert all(len(fetch(url_of(api, i)).content) == MB for i in items)
    sim.storage(large_file=1, large_size=5000)
    (csv_item,) = all_files(api, completed(api, "task_sim_usage", {"days": 2})["id"])
    body = fetch(url_of(api, csv_item)).content
    assert csv_item["file_size"] == len(body) == 5000 and body.startswith(b"date,quantity,unit\n")


def test_lying_lengths_and_hostile_names(api, sim):
    names = {"1": "../../etc/passwd", "3": "CON"}
    sim.storage(truncate_file=1, oversize_file=2, file_names=names)
    items = all_files(api, completed(api, "task_sim_bills", {"months": 3})["id"])
    assert [i["file_name"] for i in items] == ["../../etc/passwd", "bill_2026-09.pdf", "CON"]
    with pytest.raises(httpx.RemoteProtocolError):
        fetch(url_of(api, items[0]))
    longer = fetch(url_of(api, items[1]))
    assert longer.status_code == 200 and len(longer.content) > items[1]["file_size"]
    assert len(fetch(url_of(api, items[2])).content) == items[2]["file_size"]


@pytest.mark.parametrize(
    "body",
    [
        {"url_ttl": 0},
        {"url_ttl": "5"},
        {"encryption": "yes"},
        {"large_size": 10},
        {"fail_extraction": 0},
        {"fail_extraction": "some"},
        {"large_file": [1, True]},
        {"file_names": {"x": "a.pdf"}},
        {"file_names": {"1": ""}},
        {"nonsense": 1},
    ],
)
def test_bad_knobs_are_refused_naming_the_problem_and_change_nothing(sim, body):
    def knobs() -> dict:
        return {k: v for k, v in sim.control("GET", "storage").items() if k != "request_id"}

    before = knobs()
    response = httpx.post(
        f"{sim.root_url}/_sim/storage", json=body, headers={"Authorization": f"Bearer {sim.api_key}"}, timeout=10
    )
    assert response.status_code == 400
    assert next(iter(body)) in error_of(response)["message"]
    assert knobs() == before


def test_delete_clears_the_knobs(api, sim):
    sim.storage(fail_extraction=1, encryption=True, url_ttl=5)
    cleared = sim.control("DELETE", "storage")
    assert (cleared["encryption"], cleared["url_ttl"], cleared["next_run"]["fail_extraction"]) == (False, 300, [])


def _decoded(value: str) -> bytes:
    assert value.startswith("enc_")
    raw = value[4:]
    return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))


def test_encryption_turns_input_and_output_into_enc_strings_and_nothing_else(api, sim):
    run = completed(api, "task_sim_bills", {"months": 2})
    plain = api.ok(api.get(f"task-runs/{run['id']}", include="input,storage"))
    sim.storage(encryption=True)
    sealed = api.ok(api.get(f"task-runs/{run['id']}", include="input,storage"))
    assert isinstance(sealed["output"], str) and isinstance(sealed["input"], str)
    blob = _decoded(sealed["output"])
    assert blob[0] == 1 and blob[2 : 2 + blob[1]] == b"key_sim_1"
    assert b"bill_count" not in blob and str(plain["output"]["bills"][0]["amount_due"]).encode() not in blob
    unchanged = {k: v for k, v in sealed.items() if k not in ("input", "output", "request_id")}
    assert unchanged == {k: v for k, v in plain.items() if k not in ("input", "output", "request_id")}
    assert sealed["storage"][0]["extraction"] == plain["storage"][0]["extraction"]
    assert api.ok(api.get(f"task-runs/{run['id']}"))["output"] == sealed["output"]  # deterministic
    listed = api.ok(api.get("task-runs"))["data"]
    assert all(isinstance(r["output"], str) and r["output"].startswith("enc_") for r in listed)
    completed_events = api.events(type="task_run.completed")
    assert completed_events and all(e["data"]["output"].startswith("enc_") for e in completed_events)
    queued = api.events(type="task_run.queued")[0]["data"]
    assert queued["output"] is None  # nothing to seal yet
    sim.storage(encryption=False)
    assert api.run(run["id"])["output"] == plain["output"]


@pytest.mark.deck_simulator(clock="manual", encryption=True)
def test_encryption_as_a_start_option_applies_to_new_runs_at_once(api):
    conn = api.connected("src_sim_power")
    created = api.start_run("task_sim_usage", conn["id"], {"days": 2})
    assert created["output"] is None and created["status"] == "queued"
    api.advance(5)
    assert api.run(created["id"])["output"].startswith("enc_")
    assert api.ok(api.get(f"task-runs/{created['id']}", include="input"))["input"].startswith("enc_")
