"""Signed download URLs on the simulator: no API key needed, Authorization served the same, expiry
moved by the manual clock and scaled by time_scale, `--url-ttl`, tampering 403, retention 404."""

from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from test_sim_storage import all_files, completed, fetch


def first_url(api, **run) -> tuple[dict, str]:
    done = completed(api, "task_sim_bills", run.get("input", {"months": 1}))
    item = all_files(api, done["id"])[0]
    return item, api.ok(api.get(f"storage/{item['id']}"))["url"]


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_signed_url_needs_no_key_and_a_key_changes_nothing(api, sim):
    item, url = first_url(api)
    plain = fetch(url)
    keyed = fetch(url, headers={"Authorization": f"Bearer {sim.api_key}"})
    wrong_key = fetch(url, headers={"Authorization": "Bearer sk_wrong"})
    assert plain.status_code == keyed.status_code == wrong_key.status_code == 200
    assert plain.content == keyed.content == wrong_key.content and len(plain.content) == item["file_size"]
    assert sim.stats()["downloads"] == {"served": 3, "with_authorization": 2, "forbidden": 0, "gone": 0}
    assert sim.api_key not in url and "signature=" in url and "expires=" in url


def test_each_retrieve_gives_a_fresh_url_and_a_url_expires_after_300_s(api):
    item, url = first_url(api)
    api.advance(299)
    assert fetch(url).status_code == 200
    fresh = api.ok(api.get(f"storage/{item['id']}"))["url"]
    assert fresh != url
    api.advance(2)
    expired = fetch(url)
    assert expired.status_code == 403 and expired.json()["errors"][0]["code"] == "url_expired"
    assert url not in expired.text and urlsplit(url).query not in expired.text
    assert fetch(fresh).status_code == 200


def test_tampered_urls_are_403(api):
    item, url = first_url(api)
    query = parse_qs(urlsplit(url).query)
    later = str(int(query["expires"][0]) + 3_600_000)
    signature = query["signature"][0]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    other_item = url.replace(item["id"], "stor_" + "0" * 24)
    for bad in (
        with_query(url, expires=later),
        with_query(url, signature=flipped),
        with_query(url, signature=""),
        url.split("?")[0],
        other_item,
    ):
        response = fetch(bad)
        assert response.status_code == 403, bad
        assert response.json()["errors"][0]["code"] == "signature_invalid"


def test_files_past_retention_are_404_with_any_url(api, sim):
    item, url = first_url(api)
    api.advance(90 * 86400)
    assert fetch(url).status_code == 404
    fresh = api.ok(api.get(f"storage/{item['id']}"))  # the record stays; the file is gone
    gone = fetch(fresh["url"])
    assert gone.status_code == 404 and gone.json()["errors"][0]["code"] == "file_not_found"
    assert sim.stats()["downloads"]["gone"] == 2


@pytest.mark.deck_simulator(clock="manual", time_scale=0.1)
def test_time_scale_shortens_the_ttl(api):
    _, url = first_url(api)
    api.advance(29)
    assert fetch(url).status_code == 200
    api.advance(2)
    assert fetch(url).status_code == 403


@pytest.mark.deck_simulator(clock="manual", url_ttl=10)
def test_the_url_ttl_option_and_knob(api, sim):
    item, url = first_url(api)
    assert sim.control("GET", "config")["storage"]["url_ttl"] == 10
    api.advance(11)
    assert fetch(url).status_code == 403
    assert sim.storage(url_ttl=1000)["url_ttl"] == 1000
    longer = api.ok(api.get(f"storage/{item['id']}"))["url"]
    api.advance(999)
    assert fetch(longer).status_code == 200
    sim.reset()
    assert sim.control("GET", "storage")["url_ttl"] == 10  # reset restores the start-up option


def test_screenshot_urls_serve_small_real_pngs_and_expire_too(api):
    done = completed(api, "task_sim_bills", {"months": 1})
    shots = api.ok(api.get(f"task-runs/{done['id']}/screenshots"))["data"]
    image = fetch(shots[0]["url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n") and len(image.content) == shots[0]["file_size"]
    api.advance(301)
    assert fetch(shots[0]["url"]).status_code == 403


def test_the_cli_takes_the_storage_options():
    args = ["--clock", "manual", "--url-ttl", "42", "--encryption", "--fail-extraction", "2", "--large-file", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "deck_nb.cli", "simulator", *args, "--large-size", "4096"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        url, key = re.match(r"^Deck simulator ready at (\S+)/v2 — API key (\S+)$", line).groups()
        storage = httpx.get(f"{url}/_sim/storage", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
    finally:
        proc.terminate()
        proc.wait(10)
    assert (storage["url_ttl"], storage["encryption"], storage["large_size"]) == (42, True, 4096)
    assert storage["next_run"]["fail_extraction"] == [2] and storage["next_run"]["large_file"] == [1]
