"""Deck Storage on the simulator, over loopback HTTP with plain httpx: task config, a run's files
and their extractions, pagination, include sections, events, deduplication. Manual clock."""

from __future__ import annotations

import io

import httpx
import pypdf
import pytest
from helpers import CurrentApi, error_of

BILL_FIELDS = {
    "account_number",
    "billing_period_start",
    "billing_period_end",
    "billing_date",
    "due_date",
    "total_due",
    "currency",
}


@pytest.fixture
def cur(sim):
    client = CurrentApi(sim)
    yield client
    client.http.close()


def completed(api, task_id: str, input=None, username: str = "ada", source: str = "src_sim_power") -> dict:
    conn = api.connected(source, username=username)
    return completed_on(api, conn["id"], task_id, input)


def completed_on(api, conn_id: str, task_id: str, input=None) -> dict:
    run = api.start_run(task_id, conn_id, input)
    api.advance(5)
    done = api.run(run["id"])
    assert done["status"] == "completed", done
    return done


def all_files(api, run_id: str, limit: int = 20) -> list[dict]:
    out, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = api.ok(api.get(f"task-runs/{run_id}/storage", **params))
        assert set(page) == {"data", "has_more", "next_cursor", "request_id"}
        out.extend(page["data"])
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return out
        cursor = page["next_cursor"]


def fetch(url: str, **kwargs) -> httpx.Response:
    return httpx.get(url, timeout=30, **kwargs)


def pdf_text(data: bytes) -> str:
    return pypdf.PdfReader(io.BytesIO(data), strict=True).pages[0].extract_text()


def test_tasks_show_their_storage_config_as_the_spec_says(api):
    tasks = {t["id"]: t for t in api.ok(api.get("tasks"))["data"]}
    for task_id in ("task_sim_bills", "task_sim_statements"):
        storage = tasks[task_id]["storage"]
        assert storage["enabled"] is True and storage["extraction"] is True and storage["deduplication"] is True
        assert set(storage) == {
            "enabled",
            "extraction",
            "extraction_schema",
            "extraction_prompt",
            "deduplication",
            "deduplication_schema",
        }
    schema = tasks["task_sim_bills"]["storage"]["extraction_schema"]
    assert set(schema["properties"]) == BILL_FIELDS
    assert schema["properties"]["due_date"] == {"type": "string", "format": "date"}
    assert schema["properties"]["total_due"]["type"] == "number"
    assert tasks["task_sim_bills"]["output_schema"]["properties"]["bill_count"] == {"type": "integer"}
    usage = tasks["task_sim_usage"]["storage"]
    assert usage["enabled"] is True and usage["extraction"] is False and usage["extraction_schema"] is None
    assert tasks["task_sim_pay_bill"]["storage"] is None
    assert api.ok(api.get("tasks/task_sim_bills"))["storage"] == tasks["task_sim_bills"]["storage"]


def test_a_bills_run_stores_one_real_pdf_per_bill_with_the_bill_numbers(api):
    run = completed(api, "task_sim_bills", {"months": 3})
    assert run["output"]["bill_count"] == 3 and len(run["output"]["bills"]) == 3
    items = all_files(api, run["id"])
    assert [i["file_name"] for i in items] == ["bill_2026-10.pdf", "bill_2026-09.pdf", "bill_2026-08.pdf"]
    for item, bill in zip(items, run["output"]["bills"], strict=True):
        assert item["id"].startswith("stor_") and item["object"] == "storage" and "url" not in item
        assert item["file_type"] == "application/pdf" and item["task_run_id"] == run["id"]
        assert item["result"] == "success" and item["created_at"].endswith("Z")
        extraction = item["extraction"]
        assert set(extraction) == BILL_FIELDS
        assert extraction["total_due"] == bill["amount_due"] and extraction["billing_date"] == bill["statement_date"]
        assert extraction["billing_period_start"] < extraction["billing_period_end"] < extraction["due_date"]
        full = api.ok(api.get(f"storage/{item['id']}"))
        assert full["url"].startswith(api.sim.root_url + "/") and {**full, "url": None} == {
            **item,
            "url": None,
            "request_id": full["request_id"],
        }
        body = fetch(full["url"])
        assert body.status_code == 200 and body.headers["content-type"] == "application/pdf"
        assert len(body.content) == item["file_size"] and body.content.startswith(b"%PDF-")
        text = pdf_text(body.content)
        assert f"Total due: {extraction['total_due']:.2f} USD" in text
        assert extraction["account_number"] in text and extraction["due_date"] in text


def test_bytes_and_extractions_are_deterministic_across_resets(api, sim):
    def contents():
        run = completed(api, "task_sim_bills", {"months": 2})
        items = all_files(api, run["id"])
        blobs = [fetch(api.ok(api.get(f"storage/{i['id']}"))["url"]).content for i in items]
        return [i["extraction"] for i in items], blobs

    first = contents()
    sim.reset()
    assert contents() == first
    sim.reset()
    other = completed(api, "task_sim_bills", {"months": 2}, username="bob")
    assert [i["extraction"] for i in all_files(api, other["id"])] != first[0]


def test_statements_store_a_pdf_each_and_usage_one_csv_without_extraction(api):
    statements = completed(api, "task_sim_statements")
    items = all_files(api, statements["id"])
    assert statements["output"]["statement_count"] == len(items) >= 2
    assert all(i["file_type"] == "application/pdf" and i["extraction"]["account_id"] for i in items)
    counted = sum(i["extraction"]["transaction_count"] for i in items)
    assert counted == len(statements["output"]["transactions"])
    usage = completed(api, "task_sim_usage", {"days": 5})
    (csv_item,) = all_files(api, usage["id"])
    assert usage["output"]["file_count"] == 1
    assert csv_item["file_type"] == "text/csv" and csv_item["extraction"] is None and csv_item["result"] == "success"
    text = fetch(api.ok(api.get(f"storage/{csv_item['id']}"))["url"]).text
    lines = text.strip().splitlines()
    assert lines[0] == "date,quantity,unit" and len(lines) == 6
    assert lines[1] == "{date},{quantity},{unit}".format(**usage["output"]["usage"][0])


def test_pay_bill_and_unfinished_runs_store_nothing(api):
    conn = api.connected("src_sim_power")
    run = api.start_run("task_sim_bills", conn["id"], {"months": 2})
    assert all_files(api, run["id"]) == []
    paid = completed_on(api, conn["id"], "task_sim_pay_bill", {"amount": 10})
    assert all_files(api, paid["id"]) == [] and "bill_count" not in paid["output"]
    failed = api.start_run("task_sim_bills", conn["id"], {"fail_with": "source_error"})
    api.advance(5)
    assert api.run(failed["id"])["status"] == "failed" and all_files(api, failed["id"]) == []


def test_file_lists_paginate_and_unknown_ids_are_404(api):
    run = completed(api, "task_sim_bills", {"months": 7})
    by_three = all_files(api, run["id"], limit=3)
    assert len(by_three) == 7 and by_three == all_files(api, run["id"], limit=100)
    assert len({i["id"] for i in by_three}) == 7
    assert api.get(f"task-runs/{run['id']}/storage", limit=0).status_code == 400
    assert error_of(api.get(f"task-runs/{run['id']}/storage", cursor="junk"))["code"] == "cursor_invalid"
    assert error_of(api.get("task-runs/trun_nope/storage"))["code"] == "task_run_not_found"
    missing = api.get("storage/stor_nope")
    assert missing.status_code == 404 and error_of(missing)["code"] == "storage_not_found"


def test_include_sections_are_omitted_unless_asked(api):
    run = completed(api, "task_sim_bills", {"months": 2})
    plain = api.run(run["id"])
    assert not {"input", "storage", "artifacts"} & set(plain)
    only_storage = api.ok(api.get(f"task-runs/{run['id']}", include="storage"))
    assert "input" not in only_storage and "artifacts" not in only_storage
    assert only_storage["storage"] == all_files(api, run["id"])
    every = api.ok(api.get(f"task-runs/{run['id']}", include="input,storage,artifacts"))
    assert every["input"] == {"months": 2} and len(every["storage"]) == 2
    shots = every["artifacts"]["screenshots"]
    assert shots and all(s["reasoning"] and s["url"] for s in shots)
    alias = api.ok(api.get(f"task-runs/{run['id']}", include="screenshots"))
    assert set(alias) - set(plain) == {"artifacts"}
    repeated = api.http.get(f"task-runs/{run['id']}", params=[("include", "input"), ("include", "storage")])
    assert {"input", "storage"} <= set(repeated.json()) and "artifacts" not in repeated.json()
    wrong = api.get(f"task-runs/{run['id']}", include="input,bogus")
    assert wrong.status_code == 400 and error_of(wrong)["field"] == "include"


def test_one_storage_created_event_per_file_with_the_item_without_url(api):
    run = completed(api, "task_sim_bills", {"months": 3})
    events = api.events(type="storage.created")
    items = all_files(api, run["id"])
    assert [e["data"] for e in events] == items
    types = [e["type"] for e in api.events() if e["type"].startswith(("storage", "task_run.completed"))]
    assert types == ["storage.created"] * 3 + ["task_run.completed"]


def test_a_second_run_on_the_same_connection_stores_only_new_files(api):
    conn = api.connected("src_sim_power")
    first = completed_on(api, conn["id"], "task_sim_bills", {"months": 3})
    assert len(all_files(api, first["id"])) == 3
    again = completed_on(api, conn["id"], "task_sim_bills", {"months": 3})
    assert again["output"]["bill_count"] == 3 and all_files(api, again["id"]) == []
    more = completed_on(api, conn["id"], "task_sim_bills", {"months": 4})
    assert [i["file_name"] for i in all_files(api, more["id"])] == ["bill_2026-07.pdf"]
    assert len(api.events(type="storage.created")) == 4
    other = api.connected("src_sim_power")  # dedup is per task and connection
    assert len(all_files(api, completed_on(api, other["id"], "task_sim_bills", {"months": 3})["id"])) == 3
    usage = [completed_on(api, conn["id"], "task_sim_usage", {"days": 3}) for _ in range(2)]
    assert [len(all_files(api, u["id"])) for u in usage] == [1, 1]  # usage has no deduplication


def test_dedup_on_the_current_api_is_per_credential(cur):
    def finished(cred_id: str, months: int) -> dict:
        run = cur.start("task_sim_bills", {"months": months}, credential_id=cred_id)
        cur.log_in(run["id"])
        cur.advance(5)
        done = cur.run(run["id"])
        assert done["status"] == "completed", done
        return done

    cred = cur.store("src_sim_power")
    first = finished(cred["id"], 2)
    assert len(all_files(cur, first["id"])) == 2
    assert all_files(cur, finished(cred["id"], 2)["id"]) == []
    assert len(all_files(cur, finished(cred["id"], 3)["id"])) == 1
    fresh = cur.store("src_sim_power")
    assert len(all_files(cur, finished(fresh["id"], 2)["id"])) == 2
