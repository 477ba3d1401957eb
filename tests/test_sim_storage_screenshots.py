"""Screenshots on the simulator: every run keeps a few small PNGs with the agent's reasoning, oldest
first and paginated; a failed run's last one says why it stopped; gone after 15 days."""

from __future__ import annotations

import zlib

import pytest
from helpers import CurrentApi, error_of
from test_sim_storage import all_files, completed, fetch

SHOT_FIELDS = {"id", "file_name", "file_type", "file_size", "created_at", "url", "reasoning"}


@pytest.fixture
def cur(sim):
    client = CurrentApi(sim)
    yield client
    client.http.close()


def shots(api, run_id: str, limit: int = 20) -> list[dict]:
    out, cursor = [], None
    while True:
        page = api.ok(api.get(f"task-runs/{run_id}/screenshots", limit=limit, **({"cursor": cursor} if cursor else {})))
        out.extend(page["data"])
        if not page["has_more"]:
            return out
        cursor = page["next_cursor"]


def test_a_run_logging_in_tells_its_story_oldest_first(cur):
    cred = cur.store("src_sim_bank")
    run = cur.start("task_sim_statements", credential_id=cred["id"])
    cur.log_in(run["id"])
    cur.advance(1)
    asked = cur.run(run["id"])
    assert asked["interaction"]["type"] == "account_selection"
    cur.ok(cur.answer(run["id"], account_id=asked["interaction"]["fields"][0]["options"][0]["value"]))
    cur.advance(5)
    assert cur.run(run["id"])["status"] == "completed"
    story = shots(cur, run["id"])
    assert [s["reasoning"] for s in story] == [
        "Opened the login page",
        "The portal asked for a verification code",
        "Entered the MFA code",
        "The portal asked a security question",
        "Answered the security question",
        "The portal asked which account to use",
        "Selected the account",
        f"Downloaded {len(all_files(cur, run['id']))} new files",
    ]
    assert [s["created_at"] for s in story] == sorted(s["created_at"] for s in story)
    assert shots(cur, run["id"], limit=3) == story
    for shot in story:
        assert set(shot) >= SHOT_FIELDS and shot["file_type"] == "image/png"
        image = fetch(shot["url"]).content
        assert len(image) == shot["file_size"] and image[12:16] == b"IHDR"
        assert zlib.decompress(image[image.index(b"IDAT") + 4 : -16])  # real, inflatable pixels


def test_a_failed_runs_last_screenshot_says_why_it_stopped(api, cur):
    conn = api.connected("src_sim_power")
    failed = api.start_run("task_sim_bills", conn["id"], {"fail_with": "source_error"})
    api.advance(5)
    assert shots(api, failed["id"])[-1]["reasoning"] == "Stopped: The source returned an error. (source_error)"
    refused = cur.start("task_sim_bills", credential_id=cur.store("src_sim_power", password="pass_bad")["id"])
    cur.advance(5)
    assert cur.run(refused["id"])["status"] == "failed"
    last = shots(cur, refused["id"])[-1]["reasoning"]
    assert last == "Stopped: The credentials were rejected by the source. (auth_invalid)"
    waited = cur.start("task_sim_bills", credential_id=cur.store("src_sim_power")["id"])
    cur.advance(3)
    cur.advance(121)
    assert cur.run(waited["id"])["status"] == "failed"
    assert shots(cur, waited["id"])[-1]["reasoning"].endswith("(interaction_timeout)")


def test_screenshots_grow_while_a_run_works_and_dedup_is_told(api):
    conn = api.connected("src_sim_power")
    run = api.start_run("task_sim_bills", conn["id"], {"months": 1})
    assert shots(api, run["id"]) == []
    api.advance(1)
    assert [s["reasoning"] for s in shots(api, run["id"])] == ["Opened Acme Power, already logged in"]
    api.advance(4)
    again = api.start_run("task_sim_bills", conn["id"], {"months": 1})
    api.advance(5)
    assert shots(api, again["id"])[-1]["reasoning"] == "Found no new files to download"


def test_screenshots_are_deterministic_and_gone_after_15_days(api, sim):
    first = completed(api, "task_sim_bills", {"months": 1})
    images = [fetch(s["url"]).content for s in shots(api, first["id"])]
    sim.reset()
    again = completed(api, "task_sim_bills", {"months": 1})
    assert [fetch(s["url"]).content for s in shots(api, again["id"])] == images
    url = shots(api, again["id"])[0]["url"]
    api.advance(15 * 86400)
    assert shots(api, again["id"]) == []
    assert api.ok(api.get(f"task-runs/{again['id']}", include="artifacts"))["artifacts"] == {"screenshots": []}
    assert fetch(url).status_code == 404
    assert error_of(api.get("task-runs/trun_nope/screenshots"))["code"] == "task_run_not_found"
