"""The client against the simulator over loopback HTTP; every behaviour runs on Deck and AsyncDeck."""

from __future__ import annotations

import logging
import pickle
import time

import pytest
from clients import Runner

import deck_nb
from deck_nb.client import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    Connection,
    ConnectionNotConnected,
    CursorInvalid,
    DeckError,
    IdempotencyConflict,
    InputInvalid,
    InputMissing,
    InteractionInputInvalid,
    InteractionNotRequired,
    InteractionTimeout,
    NotFoundError,
    Observer,
    SourceNotFound,
    TaskRun,
    TaskRunNotCancelable,
    WaitTimeout,
)


@pytest.fixture(params=["sync", "async"])
def mode(request):
    return request.param


@pytest.fixture
def make(sim, mode):
    runners = []

    def factory(**options):
        options.setdefault("api_key", sim.api_key)
        options.setdefault("base_url", sim.base_url)
        runner = Runner(mode, **options)
        runners.append(runner)
        return runner

    yield factory
    for runner in runners:
        runner.close()


@pytest.fixture
def deck(make):
    return make().deck


def connected(deck, sim, source="src_sim_power", username="ada"):
    conn = deck.connections.create(source, username=username, password="pw")
    sim.advance(2)
    answers = {"mfa": {"code": "123456"}, "security_question": {"answer": "rex"}}
    while (conn := deck.connections.retrieve(conn.id)).status == "interaction_required":
        deck.connections.submit_interaction(conn.id, answers[conn.interaction.type])
        sim.advance(2)
    assert conn.status == "connected"
    return conn


class TestEndpoints:
    def test_key_check(self, deck):
        assert deck.test()["status"] == "ready"

    def test_sources_and_tasks(self, deck):
        sources = deck.sources.list()
        assert [s.id for s in sources] == ["src_sim_power", "src_sim_bank", "src_sim_mobile", "src_sim_novel"]
        assert deck.sources.retrieve("src_sim_bank").name == "Riverside Bank"
        tasks = deck.tasks.list(limit=1)
        assert [t.id for t in tasks] == ["task_sim_bills", "task_sim_statements", "task_sim_usage", "task_sim_pay_bill"]
        assert deck.tasks.retrieve("task_sim_usage").input_schema["properties"]["days"]["maximum"] == 90

    def test_connection_lifecycle_through_every_connection_endpoint(self, deck, sim):
        conn = deck.connections.create("src_sim_power", username="ada", password="pw", external_id="acct-9")
        assert isinstance(conn, Connection) and conn.status == "connecting" and conn.external_id == "acct-9"
        sim.advance(2)
        conn = deck.connections.retrieve(conn.id)
        assert conn.status == "interaction_required"
        assert conn.interaction.type == "mfa" and conn.interaction.field_names == ["code"]
        assert conn.interaction.fields[0].label == "Verification code"
        answered = deck.connections.submit_interaction(conn, code="123456")
        assert answered.status == "connecting" and answered.interaction is None
        sim.advance(2)
        assert [c.id for c in deck.connections.list(external_id="acct-9", status="connected")] == [conn.id]
        gone = deck.connections.disconnect(conn.id)
        assert gone.status == "disconnected"

    def test_task_run_lifecycle_through_every_run_endpoint(self, deck, sim):
        conn = connected(deck, sim, "src_sim_bank")
        run = deck.task_runs.create("task_sim_statements", connection_id=conn, input={})
        assert isinstance(run, TaskRun) and run.status == "queued"
        sim.advance(2)
        run = deck.task_runs.retrieve(run.id, include_input=True)
        assert run.status == "interaction_required" and run.input == {}
        option = run.interaction.fields[0].options[1]
        assert deck.task_runs.submit_interaction(run.id, {"account_id": option.value}).status == "running"
        sim.advance(3)
        done = deck.task_runs.retrieve(run.id)
        assert done.status == "completed" and done.result == "success"
        assert done.output["account_id"] == option.value
        assert [r.id for r in deck.task_runs.list(connection_id=conn.id, status="completed")] == [run.id]
        second = deck.task_runs.create("task_sim_statements", connection_id=conn.id)
        assert deck.task_runs.cancel(second.id).status == "canceled"
        assert [r.id for r in deck.task_runs.list(status="canceled")] == [second.id]

    def test_events_list_and_retrieve(self, deck, sim):
        connected(deck, sim, "src_sim_mobile")
        events = deck.events.list()
        assert [e.type for e in events] == ["connection.connecting", "connection.connected"]
        assert deck.events.retrieve(events[1].id).resource.status == "connected"
        assert [e.type for e in deck.events.list(types="connection.connected")] == ["connection.connected"]
        with pytest.warns(DeprecationWarning, match="types="):
            assert [e.type for e in deck.events.list(type="connection.connected")] == ["connection.connected"]

    def test_event_destinations(self, deck):
        created = deck.event_destinations.create(name="hook", url="http://127.0.0.1:9/x", events=["task_run.*"])
        assert created.webhook.secret.startswith("whsec_") and "whsec_…" in repr(created)
        assert created.webhook.secret not in repr(created)
        assert [d.id for d in deck.event_destinations.list()] == [created.id]
        assert deck.event_destinations.retrieve(created.id).events == ["task_run.*"]
        assert deck.event_destinations.delete(created.id).deleted is True

    def test_pagination_walks_all_pages(self, deck, sim):
        ids = [deck.connections.create("src_sim_mobile", username=f"u{i}", password="p").id for i in range(7)]
        assert [c.id for c in deck.connections.list(limit=2)] == ids
        assert sim.stats()["requests"] == 7 + 4  # four pages of two


class TestErrors:
    @pytest.mark.parametrize(
        "call,cls,code,field,status",
        [
            (
                lambda d, c: d.connections.submit_interaction(c, cde="1"),
                InteractionInputInvalid,
                "interaction_input_invalid",
                "cde",
                400,
            ),
            (
                lambda d, c: d.task_runs.create("task_sim_bills", connection_id=c),
                ConnectionNotConnected,
                "connection_not_connected",
                None,
                400,
            ),
            (lambda d, c: d.connections.retrieve("conn_nope"), NotFoundError, "connection_not_found", None, 404),
            (lambda d, c: d.sources.retrieve("src_nope"), SourceNotFound, "source_not_found", None, 404),
            (lambda d, c: d.task_runs.create("task_nope", connection_id=c), NotFoundError, "task_not_found", None, 404),
        ],
    )
    def test_codes_map_to_classes_with_all_details(self, deck, sim, call, cls, code, field, status):
        conn = deck.connections.create("src_sim_power", username="ada", password="pw")
        sim.advance(2)
        with pytest.raises(cls) as info:
            call(deck, conn)
        error = info.value
        assert (error.code, error.field, error.status_code) == (code, field, status)
        assert error.request_id.startswith("req_") and error.type and error.message
        assert isinstance(error, DeckError)

    def test_interaction_not_required_and_timeout(self, deck, sim):
        conn = deck.connections.create("src_sim_power", username="ada", password="pw")
        with pytest.raises(InteractionNotRequired):
            deck.connections.submit_interaction(conn, code="123456")
        sim.advance(2 + 120)
        assert deck.connections.retrieve(conn).errors[0].code == "interaction_timeout"
        with pytest.raises(InteractionTimeout) as info:
            deck.connections.submit_interaction(conn, code="123456")
        assert info.value.status_code == 408

    def test_input_errors(self, deck, sim):
        conn = connected(deck, sim, "src_sim_mobile")
        with pytest.raises(InputInvalid) as info:
            deck.task_runs.create("task_sim_bills", connection_id=conn, input={"months": 99})
        assert info.value.field == "input.months"
        with pytest.raises(InputMissing) as info:
            deck.event_destinations.create(name="", url="http://127.0.0.1:9/x")
        assert info.value.field == "name"

    def test_cursor_invalid_when_resuming_a_listing(self, make, sim):
        runner = make()
        for i in range(3):
            runner.deck.connections.create("src_sim_mobile", username=f"u{i}", password="p")
        pager = runner.raw.connections.list(limit=1)
        with pytest.raises(CursorInvalid):
            runner.resolve(pager.pages(cursor="not-a-cursor"))
        first = runner.resolve(pager.pages())[0]
        resumed = runner.resolve(runner.raw.connections.list(limit=1).pages(cursor=first.next_cursor))
        assert len(resumed) == 2

    def test_cancel_a_finished_run(self, deck, sim):
        conn = connected(deck, sim, "src_sim_mobile")
        run = deck.task_runs.create("task_sim_bills", connection_id=conn, input={"fail_with": "source_error"})
        sim.advance(2)
        with pytest.raises(TaskRunNotCancelable):
            deck.task_runs.cancel(run)

    def test_idempotency_conflict(self, deck):
        deck.connections.create("src_sim_mobile", username="a", password="b", idempotency_key="same")
        again = deck.connections.create("src_sim_mobile", username="a", password="b", idempotency_key="same")
        assert len(deck.connections.list()) == 1 and again.status == "connecting"
        with pytest.raises(IdempotencyConflict):
            deck.connections.create("src_sim_mobile", username="zz", password="b", idempotency_key="same")

    def test_bad_key_is_authentication_error_without_the_key_in_it(self, make):
        deck = make(api_key="sk_sim_definitely_wrong_key").deck
        with pytest.raises(AuthenticationError) as info:
            deck.test()
        assert info.value.code == "api_key_invalid" and info.value.status_code == 401
        text = str(info.value) + repr(info.value) + repr(pickle.dumps(info.value))
        assert "definitely_wrong" not in text

    def test_errors_pickle_with_their_details(self, deck):
        with pytest.raises(NotFoundError) as info:
            deck.connections.retrieve("conn_nope")
        copy = pickle.loads(pickle.dumps(info.value))
        assert type(copy) is NotFoundError
        assert (copy.code, copy.status_code, copy.request_id, str(copy)) == (
            info.value.code,
            404,
            info.value.request_id,
            str(info.value),
        )

    def test_bad_arguments_fail_before_sending(self, deck, sim):
        for bad in (
            lambda: deck.connections.retrieve(""),
            lambda: deck.connections.retrieve(None),
            lambda: deck.connections.submit_interaction("conn_x"),
            lambda: deck.connections.submit_interaction("conn_x", ["123456"]),
            lambda: deck.connections.create("src_sim_power", username="a"),
            lambda: deck.task_runs.create("task_sim_bills", connection_id="c", input=[1]),
            lambda: deck.connections.list(limit=500),
        ):
            with pytest.raises((ValueError, TypeError)):
                bad()
        assert sim.stats()["requests"] == 0

    def test_ids_are_path_escaped(self, deck):
        # unescaped, this would climb to GET /v2/task-runs and answer a list
        with pytest.raises(NotFoundError):
            deck.connections.retrieve("../task-runs")


class TestRetries:
    def test_retries_through_500s_429s_and_drops_without_duplicates(self, make, sim):
        deck = make(max_retries=12).deck
        sim.set_faults(error_rate=0.1, rate_limit_rate=0.05, drop_rate=0.15, seed=7)
        ids = {deck.connections.create("src_sim_mobile", username=f"u{i}", password="p").id for i in range(25)}
        stats = sim.stats()
        sim.set_faults()
        assert len(ids) == 25
        assert stats["connections_created"] == 25
        assert stats["faults_injected"]["drops"] > 0 and stats["faults_injected"]["errors"] > 0
        assert len(deck.connections.list()) == 25

    def test_no_retry_on_semantic_errors(self, make, sim):
        runner = make()
        with pytest.raises(InteractionNotRequired):
            conn = runner.deck.connections.create("src_sim_power", username="a", password="p")
            runner.deck.connections.submit_interaction(conn, code="1")
        assert runner.raw.stats.retries == 0

    def test_gives_up_after_max_retries(self, make, sim):
        runner = make(max_retries=2)
        sim.set_faults(error_rate=1.0)
        with pytest.raises(deck_nb.client.InternalServerError):
            runner.deck.test()
        assert sim.stats()["faults_injected"]["errors"] == 3 and runner.raw.stats.retries == 2

    def test_deadline_bounds_a_slow_call(self, make, sim):
        runner = make(timeout=0.3, deadline=1.0, max_retries=50)
        sim.set_faults(latency_ms=2000)
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            runner.deck.test()
        assert time.monotonic() - started < 3.0
        sim.set_faults()

    def test_unreachable_server_is_a_connection_error(self, make):
        runner = make(base_url="http://127.0.0.1:9/v2", max_retries=1, deadline=5)
        with pytest.raises(APIConnectionError):
            runner.deck.test()

    @pytest.mark.deck_simulator(clock="manual", rate_limit="3/1s")
    def test_429_is_retried_after_retry_after_and_never_reaches_the_caller(self, make):
        runner = make(rate_limit=None, max_retries=6)
        for _ in range(6):
            runner.deck.test()
        assert runner.raw.stats.rate_limited >= 1 and runner.raw.stats.retries >= 1


@pytest.mark.deck_simulator(clock="manual", rate_limit="20/1s")
def test_a_burst_of_2_5_windows_is_paced_with_no_429(make, sim, mode):
    """Deck's 200 / 10 s scaled down to 20 / 1 s on both sides: the same pacing logic in ~2 s."""
    runner = make(max_retries=0, rate_limit=(20, 1.0))
    started = time.monotonic()
    if mode == "sync":
        for _ in range(50):
            runner.deck.test()
    else:
        import asyncio

        async def burst():
            await asyncio.gather(*(runner.raw.test() for _ in range(50)))

        runner.loop.run_until_complete(burst())
    assert runner.raw.stats.rate_limited == 0
    assert sim.stats()["rate_limited"] == 0 and sim.stats()["requests"] >= 50
    assert time.monotonic() - started >= 2.0  # paced: 50 calls need three windows


class TestWaiting:
    @pytest.mark.deck_simulator(clock="real", time_scale=0.02, rate_limit="off")
    def test_wait_stops_at_interaction_and_at_terminal(self, deck):
        conn = deck.connections.create("src_sim_power", username="a", password="p")
        conn = deck.connections.wait(conn, timeout=5)
        assert conn.status == "interaction_required"
        deck.connections.submit_interaction(conn, code="123456")
        assert deck.connections.wait(conn, timeout=5).status == "connected"
        run = deck.task_runs.create("task_sim_bills", connection_id=conn, input={"months": 1})
        done = deck.task_runs.wait(run, timeout=5, poll_interval=0.01)
        assert done.status == "completed" and len(done.output["bills"]) == 1

    def test_wait_timeout(self, deck):
        conn = deck.connections.create("src_sim_power", username="a", password="p")
        with pytest.raises(WaitTimeout) as info:
            deck.connections.wait(conn, timeout=0.3)
        assert "connecting" in str(info.value) and isinstance(info.value, TimeoutError)

    def test_wait_with_a_custom_condition(self, deck, sim):
        conn = connected(deck, sim, "src_sim_mobile")
        run = deck.task_runs.create("task_sim_bills", connection_id=conn)
        sim.advance(1)
        assert deck.task_runs.wait(run, until=lambda r: r.status == "running", timeout=1).status == "running"


class TestEventWatcher:
    def test_watch_yields_each_event_once_in_order(self, deck, sim):
        conn = connected(deck, sim, "src_sim_power")
        run = deck.task_runs.create("task_sim_bills", connection_id=conn)
        sim.advance(5)
        before = sim.stats()["requests"]
        events = deck.events.watch(timeout=0.3, poll_interval=0.05)
        types = [e.type for e in events]
        stored = [i for i, t in enumerate(types) if t == "storage.created"]  # one per file, before completed
        assert stored and stored == list(range(stored[0], stored[0] + len(stored)))
        assert types[stored[-1] + 1] == "task_run.completed"
        assert [t for t in types if t != "storage.created"] == [
            "connection.connecting",
            "connection.interaction_required",
            "connection.connecting",
            "connection.connected",
            "task_run.queued",
            "task_run.running",
            "task_run.completed",
        ]
        assert events[-1].resource.id == run.id
        assert sim.stats()["requests"] - before <= 8  # a request per tick, whatever the number of runs
        assert len(stored) == len(list(deck.task_runs.files(run.id)))

    def test_watch_filters_types_and_starts_after_since(self, deck, sim):
        connected(deck, sim, "src_sim_mobile")
        since = deck.events.list()[-1].created_at
        sim.advance(1)
        conn2 = deck.connections.create("src_sim_mobile", username="b", password="p")
        sim.advance(2)
        kw = {"timeout": 0.2, "poll_interval": 0.05}
        events = deck.events.watch(types=["connection.connected"], created_after=since, **kw)
        assert [e.resource.id for e in events] == [conn2.id]
        with pytest.warns(DeprecationWarning, match="created_after="):
            events = deck.events.watch(types="connection.connected", since=since, **kw)
        assert [e.resource.id for e in events] == [conn2.id]
        with pytest.raises(TypeError, match="pass types="), pytest.warns(DeprecationWarning):
            deck.events.list(types="a", type="b")


@pytest.mark.deck_simulator(api="connections")
def test_a_mapping_passed_as_inputs_is_the_answer_and_any_field_name_works(make, sim):
    """Issue 14.5: ``inputs={...}`` (the wire key a reader of Deck's docs writes) is the whole answer,
    on the resource (and on ``job.submit``, which passes through); a non-mapping ``inputs=`` is a field of that name."""
    recorder = _Recorder()
    deck = make(observers=[recorder]).deck
    conn = deck.connections.create("src_sim_power", username="ada", password="pw")
    sim.advance(2)
    assert deck.connections.submit_interaction(conn, inputs={"code": "123456"}).status == "connecting"
    assert ("submission", "connection", ("code",), None) in recorder.seen
    conn2 = deck.connections.create("src_sim_power", username="bob", password="pw")
    sim.advance(2)
    with pytest.raises(InteractionInputInvalid):  # a field literally named "inputs" is sent as such
        deck.connections.submit_interaction(conn2, inputs="123456")
    assert ("submission", "connection", ("inputs",), "interaction_input_invalid") in recorder.seen
    with pytest.raises(TypeError, match="given twice"):
        deck.connections.submit_interaction(conn2, {"code": "1"}, inputs={"code": "1"})
    with pytest.raises(TypeError, match="'inputs'"):
        deck.connections.submit_interaction(conn2, "123456")


class _Recorder(Observer):
    def __init__(self):
        self.seen = []

    def on_object(self, obj, call):
        self.seen.append(("object", type(obj).__name__, getattr(obj, "status", None)))

    def on_error(self, error, call):
        self.seen.append(("error", error.code))

    def on_submission(self, kind, id, field_names, error):
        self.seen.append(("submission", kind, field_names, getattr(error, "code", None)))


def test_observers_see_objects_errors_and_field_names_only(make, sim):
    recorder = _Recorder()
    deck = make(observers=[recorder]).deck
    conn = deck.connections.create("src_sim_power", username="ada", password="hunter2-secret")
    sim.advance(2)
    with pytest.raises(InteractionInputInvalid):
        deck.connections.submit_interaction(conn, cde="778899")
    deck.connections.submit_interaction(conn, code="778899")
    assert ("submission", "connection", ("cde",), "interaction_input_invalid") in recorder.seen
    assert ("submission", "connection", ("code",), None) in recorder.seen
    assert ("error", "interaction_input_invalid") in recorder.seen
    assert "778899" not in repr(recorder.seen) and "hunter2" not in repr(recorder.seen)


def test_no_secret_in_debug_logs_reprs_or_errors(make, sim, caplog):
    caplog.set_level(logging.DEBUG)
    runner = make()
    deck = runner.deck
    conn = deck.connections.create("src_sim_power", username="ada", password="hunter2-secret")
    sim.advance(2)
    with pytest.raises(InteractionInputInvalid) as info:
        deck.connections.submit_interaction(conn, code=778899)
    deck.connections.submit_interaction(conn, code="778899")
    text = caplog.text + repr(runner.raw) + str(info.value) + repr(conn) + conn.model_dump_json()
    for secret in ("hunter2-secret", "778899", sim.api_key):
        assert secret not in text
    assert "POST /connections" in caplog.text  # the log is there, just clean


class TestConfiguration:
    def test_env_vars_configure_the_client(self, sim, monkeypatch, mode):
        monkeypatch.setenv("DECK_API_KEY", sim.api_key)
        monkeypatch.setenv("DECK_BASE_URL", sim.base_url)
        runner = Runner(mode)
        try:
            assert runner.deck.test()["environment"] == "simulator"
            assert runner.raw.embedded is False
        finally:
            runner.close()

    def test_base_url_without_key_is_a_clear_error(self, monkeypatch):
        monkeypatch.delenv("DECK_API_KEY", raising=False)
        with pytest.raises(DeckError, match="no API key"):
            deck_nb.Deck(base_url="http://127.0.0.1:1/v2")

    def test_key_alone_points_at_the_real_service(self, monkeypatch):
        monkeypatch.delenv("DECK_BASE_URL", raising=False)
        deck = deck_nb.Deck(api_key="sk_live_abcdef123456")
        assert deck.base_url == "https://api.deck.co/v2"
        assert "abcdef123456" not in repr(deck) and "sk_live_…" in repr(deck)
        deck.close()

    def test_nothing_configured_starts_the_embedded_simulator_once_and_says_so(self, monkeypatch, capsys, mode):
        monkeypatch.delenv("DECK_API_KEY", raising=False)
        monkeypatch.delenv("DECK_BASE_URL", raising=False)
        from deck_nb.client import _config

        monkeypatch.setattr(_config, "_embedded", None)
        first, second = Runner(mode), Runner(mode)
        try:
            assert first.deck.test()["environment"] == "simulator"
            assert first.raw.base_url == second.raw.base_url and first.raw.embedded
            out = capsys.readouterr().out
            assert out.count("embedded Deck simulator") == 1
            assert first.raw.api_key not in out
        finally:
            first.close()
            second.close()
            _config._embedded.stop()

    def test_user_agent_and_auth_headers(self, make):
        """What reaches the wire: a loopback server records the headers of one call."""
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        from deck_nb._serve import ServerThread

        seen = []

        async def test(request):
            seen.append(dict(request.headers))
            return JSONResponse({"status": "ready", "environment": "test"})

        server = ServerThread(Starlette(routes=[Route("/v2/test", test)]), host="127.0.0.1", port=0).start()
        try:
            make(api_key="sk_test_wire123", base_url=f"{server.root_url}/v2").deck.test()
        finally:
            server.stop()
        assert len(seen) == 1
        assert seen[0]["authorization"] == "Bearer sk_test_wire123"
        assert seen[0]["user-agent"].startswith(f"deck_nb/{deck_nb.__version__}")

    def test_context_managers_close(self, sim):
        with deck_nb.Deck(api_key=sim.api_key, base_url=sim.base_url) as deck:
            deck.test()
        assert deck._http.is_closed
