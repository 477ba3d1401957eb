"""Nothing secret reaches the disk: the key, answers, passwords, tokens, webhook secrets, signed URLs
and cookies become stable placeholders, request and response side alike; a save that would still
hold a known secret is refused and names the rule that missed it. Over real loopback HTTP: a small
server plays a Deck API that answers with secrets, and a signed-URL file host."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from record_helpers import assert_no_secrets, assert_real_clock, no_network

import deck_nb as dn
from deck_nb.client import _transport
from deck_nb.recording import FileNotKept, RecordingError


@pytest.fixture(autouse=True)
def _real_clock_after():
    yield
    assert_real_clock()


KEY = "sk_live_handmade_key_0123456789"
TOKEN = "tk_live_Zm9vYmFyYmF6cXV4"
WHSEC = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"
COOKIE = "session=abc123def456ghi789; HttpOnly"
ACCOUNT = "ACCT-4111-2222-3333"
PDF = b"%PDF-1.4 bill for " + ACCOUNT.encode() + b" total 42.00\n" * 50


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, body: bytes, ctype="application/json", cookie=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if cookie:
            self.send_header("Set-Cookie", COOKIE)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        host = f"http://127.0.0.1:{self.server.server_port}"
        if self.path.startswith("/files/"):
            assert "Authorization" not in self.headers  # a signed URL is a capability of its own
            return self._send(200, PDF, "application/pdf")
        assert self.headers["Authorization"] == f"Bearer {KEY}"
        body = {
            "status": "ready",
            "environment": "live",
            "token": TOKEN,
            "note": f"your token is {TOKEN}",
            "webhook": {"url": "https://hooks.example/deck", "secret": WHSEC},
            "file": {"id": "stor_1", "url": f"{host}/files/bill.pdf?X-Amz-Signature=deadbeefcafe1234&exp=99"},
            "account": ACCOUNT,
        }
        self._send(200, json.dumps(body).encode(), cookie=True)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/v2"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def files_transport():
    """What a signed-URL download client is built on: a plain transport behind deck_nb's seam."""
    return _transport.wrap(httpx.HTTPTransport())


def session(deck, files_client):
    answer = deck.test()
    download = files_client.get(answer["file"]["url"])
    return answer, download


def test_response_side_secrets_and_signed_urls_become_stable_placeholders(server, tmp_path):
    path = tmp_path / "secrets.deckrec"
    with (
        dn.record(path, redact=[ACCOUNT]),
        dn.Deck(api_key=KEY, base_url=server) as deck,
        httpx.Client(transport=files_transport()) as files,
    ):
        first, download = session(deck, files)
        second = deck.test()
    assert download.content == PDF and second == first
    signed = first["file"]["url"]
    assert_no_secrets(path, [KEY, TOKEN, WHSEC, COOKIE, ACCOUNT, signed, "deadbeefcafe1234"])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    api = [line for line in lines if line.get("path") == "/v2/test"]
    assert api[0]["response"]["json"] == api[1]["response"]["json"]  # same value, same placeholder
    assert api[0]["response"]["json"]["token"].startswith("tk_redacted_")
    assert api[0]["response"]["json"]["webhook"]["secret"].startswith("whsec_redacted_")
    assert api[0]["response"]["headers"]["set-cookie"].startswith("<redacted:cookie:")
    file_line = next(line for line in lines if line.get("path", "").startswith("/signed-url/"))
    assert file_line["response"]["file"] == {"size": len(PDF), "sha256": hashlib.sha256(PDF).hexdigest()}
    assert file_line["path"] in api[0]["response"]["json"]["file"]["url"]  # the download replays by its placeholder

    deck = dn.Deck(replay=path)
    with no_network(), deck, httpx.Client(transport=_transport.wrap(httpx.HTTPTransport(), deck)) as files:
        answer = deck.test()
        with pytest.raises(FileNotKept, match=rf'only the size \({len(PDF)} bytes\).*record with files="full"'):
            files.get(answer["file"]["url"])  # the default keeps size and sha256, not the bytes: said, not faked
    assert answer["account"].startswith("<redacted:value:") and answer["status"] == "ready"


def test_files_full_keeps_the_bytes_and_refuses_a_file_holding_a_known_secret(server, tmp_path):
    kept = tmp_path / "full.deckrec"
    with (
        dn.record(kept, files="full"),
        dn.Deck(api_key=KEY, base_url=server) as deck,
        httpx.Client(transport=files_transport()) as files,
    ):
        session(deck, files)
    with no_network(), dn.replay(kept), dn.Deck() as deck, httpx.Client(transport=files_transport()) as files:
        assert session(deck, files)[1].content == PDF

    refused = tmp_path / "refused.deckrec"
    with (
        pytest.raises(RecordingError) as caught,
        dn.record(refused, files="full", redact=[ACCOUNT]),
        dn.Deck(api_key=KEY, base_url=server) as deck,
        httpx.Client(transport=files_transport()) as files,
    ):
        session(deck, files)
    message = str(caught.value)
    assert "'redact= value'" in message and "bytes kept on line" in message and ACCOUNT not in message
    assert not refused.exists()


@pytest.mark.deck_simulator(clock="real", time_scale=0.01, rate_limit="off", api="connections")
def test_answers_and_passwords_never_reach_the_file_and_answers_replay_by_shape(sim, tmp_path):
    path = tmp_path / "answers.deckrec"
    with dn.record(path), dn.Deck(api_key=sim.api_key, base_url=sim.base_url, api="connections") as deck:
        conn = dn.connect(
            "src_sim_power", username="ada_lovelace", password="hunter2-long", respond={"code": "123456"}, deck=deck
        )
        conn.wait(20)
    assert conn.status == "connected"
    assert_no_secrets(path, [sim.api_key, "hunter2-long", "ada_lovelace", "123456"])
    with no_network(), dn.Deck(replay=path, api="connections") as deck:  # any answer: the recorded verdict follows
        again = dn.connect(
            "src_sim_power", username="ada_lovelace", password="other", respond={"code": "999999"}, deck=deck
        )
        again.wait(20)
    assert (again.id, again.status) == (conn.id, "connected")


def test_recording_over_an_existing_file_needs_overwrite(tmp_path):
    path = tmp_path / "x.deckrec"
    path.write_text("keep me\n")
    with pytest.raises(RecordingError, match="exists: pass overwrite=True"):
        dn.record(path)
    assert path.read_text() == "keep me\n"
    with dn.record(path, overwrite=True):
        pass
    assert path.read_text().startswith('{"format": "deck_nb recording"')
