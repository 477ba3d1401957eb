"""A server may quote a submitted answer (or the key) back in an error message: "got '000000'". The
client masks every submitted value and the key in the errors it raises and keeps, so the echo never
reaches an exception, a notebook's error block, the history or its file."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import deck_nb as dn
from deck_nb._serve import ServerThread
from deck_nb.client import InteractionInputInvalid

KEY = "sk_test_echo_KEY_9f3a"
CODE = "MFAEcho55321"


async def _echo(request: Request) -> JSONResponse:
    """Refuses every answer, quoting what it got — and the key it was called with."""
    body = await request.json()
    answer = body.get("input") or body.get("inputs") or {}
    got = ", ".join(f"{k}={v!r}" for k, v in answer.items())
    key = request.headers.get("authorization", "")
    error = {
        "type": "interaction",
        "code": "interaction_input_invalid",
        "field": "code",
        "message": f"wrong value: got {got} (auth {key})",
    }
    return JSONResponse({"errors": [error], "request_id": "req_echo"}, status_code=400)


async def _run(request: Request) -> JSONResponse:
    interaction = {"type": "mfa", "message": "Enter the code", "fields": [{"name": "code", "type": "string"}]}
    run = {"id": request.path_params["id"], "object": "task_run", "status": "interaction_required"}
    return JSONResponse({**run, "interaction": interaction, "request_id": "req_run"})


SOURCE_SECRET = "SrcLeak-pw-7781"


async def _source(request: Request) -> JSONResponse:
    """A source that carries fields Deck never documented, secrets among them (a broken or hostile server)."""
    source = {
        "id": request.path_params["id"],
        "object": "source",
        "name": "Acme",
        "password": SOURCE_SECRET,
        "login": {"api_token": SOURCE_SECRET, "region": "eu"},
        "request_id": "req_src",
    }
    return JSONResponse(source)


@pytest.fixture(scope="module")
def echo_server():
    routes = [
        Route("/v2/sources/{id}", _source),
        Route("/v2/task-runs/{id}", _run),
        Route("/v2/task-runs/{id}/interaction", _echo, methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    server = ServerThread(app, host="127.0.0.1", port=0).start()
    yield f"{server.root_url}/v2"
    server.stop()


@pytest.mark.parametrize("shell", ["sync", "async"])
def test_an_echoed_answer_or_key_is_masked_in_the_error_and_the_history(echo_server, shell, tmp_path):
    journal = dn.use_history_file(tmp_path / "history.sqlite")
    options = {"api_key": KEY, "base_url": echo_server, "api": "credentials", "rate_limit": None, "max_retries": 0}

    async def submit_async():
        async with dn.AsyncDeck(**options) as deck:
            await deck.task_runs.submit_interaction("trun_echo", code=CODE)

    with pytest.raises(InteractionInputInvalid) as caught:
        if shell == "sync":
            with dn.Deck(**options) as deck:
                deck.task_runs.submit_interaction("trun_echo", code=CODE)
        else:
            asyncio.run(submit_async())
    error = caught.value
    shown = [str(error), repr(error), "\n".join(error._render_traceback_()), repr(error.errors)]
    assert "wrong value: got code='•••'" in str(error)  # the message stays useful
    for text in shown:
        assert CODE not in text and KEY not in text
    frames = dn.history().errors.to_string()
    assert CODE not in frames and KEY not in frames
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert CODE.encode() not in raw and KEY.encode() not in raw
    dn.use_history_file(None)
    del journal


def test_unknown_secret_looking_fields_a_server_sends_are_masked_in_reprs(echo_server):
    """Models keep unknown fields (Deck adds fields without notice), so a server that sends a password
    must not see it printed by a notebook: the repr and the HTML card mask secret-looking names."""
    with dn.Deck(api_key=KEY, base_url=echo_server, max_retries=0) as deck:
        source = deck.sources.retrieve("src_x")
    assert source.password == SOURCE_SECRET  # kept, as every unknown field is: only its display is masked
    for shown in (repr(source), str(source), source._repr_html_()):
        assert SOURCE_SECRET not in shown, shown
        assert "Acme" in shown and "eu" in shown  # the rest still shows


def test_constructor_arguments_are_checked_by_name():
    with pytest.raises(TypeError, match="timeout must be a number of seconds, not str"):
        dn.Deck(api_key=KEY, base_url="http://127.0.0.1:9/v2", timeout="5")
    with pytest.raises(ValueError, match="max_retries must be a whole number"):
        dn.Deck(api_key=KEY, base_url="http://127.0.0.1:9/v2", max_retries=None)
    with pytest.raises(ValueError, match="deadline must be a positive number of seconds"):
        dn.Deck(api_key=KEY, base_url="http://127.0.0.1:9/v2", deadline=0)
