"""The client on Deck's current API (credentials, sessions) and its API detection, over loopback HTTP
against the simulator; every behaviour runs on both Deck and AsyncDeck."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from clients import Runner

from deck_nb.client import (
    AuthenticationError,
    BadRequestError,
    Credential,
    Deck,
    IdempotencyConflict,
    InputInvalid,
    InputMissing,
    Interaction,
    InteractionNotRequired,
    NotFoundError,
    RateLimitError,
    Session,
    SessionLimitExceeded,
    TaskRun,
    TaskRunNotCancelable,
    is_settled,
)

ANSWERS = {"mfa": {"code": "123456"}, "security_question": {"answer": "rex"}}


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


def drive(deck, sim, run_id, *, answers=ANSWERS, stop=("completed", "failed", "canceled"), steps=40):
    """Move the manual clock a second at a time, answering login prompts, until the run is in ``stop``."""
    prompts = []
    for _ in range(steps):
        run = deck.task_runs.retrieve(run_id)
        if run.status in stop:
            return run, prompts
        if run.status == "interaction_required":
            prompts.append(run.interaction)
            deck.task_runs.submit_interaction(run.id, answers[run.interaction.type])
        sim.advance(1)
    raise AssertionError(f"run {run_id} did not reach {stop} in {steps} steps (last: {run.status})")


def requests_made(sim):
    return sim.stats()["requests"]


# -- which API ---------------------------------------------------------------------------------


class TestDetection:
    @pytest.mark.parametrize(
        "served, expected",
        [("both", "credentials"), ("credentials", "credentials"), ("connections", "connections")],
    )
    def test_auto_detects_once_lazily_and_shows_it(self, served, expected, mode):
        from deck_nb.simulator import start

        with start(api=served, clock="manual") as sim:
            runner = Runner(mode, api_key=sim.api_key, base_url=sim.base_url)
            try:
                before = requests_made(sim)
                assert runner.raw.api == "auto" and "api='auto'" in repr(runner.raw)
                assert requests_made(sim) == before  # constructing and reading .api ask nothing
                assert runner.deck.detect_api() == expected
                assert runner.raw.api == expected and f"api='{expected}'" in repr(runner.raw)
                assert runner.deck.detect_api() == expected
                assert requests_made(sim) == before + 1  # one probe, then remembered
                twin = runner.raw.to_async() if mode == "sync" else runner.raw.to_sync()
                assert twin.api == expected  # twins share the choice: no second probe
            finally:
                runner.close()

    @pytest.mark.parametrize("forced", ["credentials", "connections"])
    def test_forced_api_asks_nothing(self, make, sim, forced):
        before = requests_made(sim)
        runner = make(api=forced)
        assert runner.raw.api == forced and runner.deck.detect_api() == forced
        assert requests_made(sim) == before

    def test_env_deck_api_and_bad_values(self, make, sim, monkeypatch):
        monkeypatch.setenv("DECK_API", "Connections")
        assert make().raw.api == "connections"
        assert make(api="credentials").raw.api == "credentials"  # the argument wins
        monkeypatch.setenv("DECK_API", "soap")
        with pytest.raises(ValueError, match="DECK_API must be one of auto, credentials, connections"):
            make()
        monkeypatch.delenv("DECK_API")
        with pytest.raises(ValueError, match="api must be one of"):
            make(api="v1")

    def test_anything_but_200_or_404_is_raised(self, make):
        runner = make(api_key="sk_sim_wrong")
        with pytest.raises(AuthenticationError):
            runner.deck.detect_api()
        assert runner.raw.api == "auto"  # not guessed: the next call asks again

    def test_concurrent_first_calls_share_one_probe(self, make, sim, mode):
        runner = make()
        before = requests_made(sim)
        if mode == "sync":
            with ThreadPoolExecutor(5) as pool:
                answers = list(pool.map(lambda _: runner.raw.detect_api(), range(5)))
        else:

            async def race():
                return await asyncio.gather(*(runner.raw.detect_api() for _ in range(5)))

            answers = runner.loop.run_until_complete(race())
        assert answers == ["credentials"] * 5
        assert requests_made(sim) == before + 1

    def test_the_first_submission_detects_inside_its_own_call(self, make, sim):
        runner = make()
        cred = runner.deck.credentials.create("src_sim_power", username="ada", password="pw")
        run = runner.deck.task_runs.create("task_sim_bills", credential_id=cred.id)
        assert runner.raw.api == "auto"  # neither create needed to know
        sim.advance(3)
        assert runner.deck.task_runs.submit_interaction(run.id, code="123456").status == "running"
        assert runner.raw.api == "credentials"


# -- credentials -------------------------------------------------------------------------------


class TestCredentials:
    def test_lifecycle_unverified_verified_invalid_unverified_deleted(self, deck, sim):
        cred = deck.credentials.create("src_sim_power", username="ada", password="hunter2-pw", external_id="crm-1")
        assert isinstance(cred, Credential) and cred.status == "unverified" and cred.id.startswith("cred_")
        assert cred.username == "ada" and cred.external_id == "crm-1"
        assert "hunter2" not in repr(cred) and "hunter2" not in json.dumps(cred.to_dict())
        assert deck.credentials.retrieve(cred.id).status == "unverified"

        run = deck.task_runs.create("task_sim_bills", credential_id=cred.id)
        run, prompts = drive(deck, sim, run.id)
        assert run.status == "completed" and [p.type for p in prompts] == ["mfa"]  # login MFA on the run
        assert run.credential_id == cred.id and run.session_id.startswith("sess_") and run.connection_id is None
        assert deck.credentials.retrieve(cred.id).status == "verified"

        bad = deck.credentials.create("src_sim_power", username="bo", password="pass_bad")
        failed, _ = drive(deck, sim, deck.task_runs.create("task_sim_bills", credential_id=bad.id).id)
        assert failed.status == "failed" and failed.errors[0].code == "auth_invalid"
        assert deck.credentials.retrieve(bad.id).status == "invalid"
        fixed = deck.credentials.update(bad.id, password="pw")
        assert fixed.status == "unverified"
        assert (
            drive(deck, sim, deck.task_runs.create("task_sim_bills", credential_id=bad.id).id)[0].status == "completed"
        )
        assert deck.credentials.retrieve(bad.id).status == "verified"

        assert {c.id for c in deck.credentials.list(status="verified")} == {cred.id, bad.id}
        assert [c.id for c in deck.credentials.list(external_id="crm-1")] == [cred.id]
        assert len(deck.credentials.list(source_id="src_sim_power", limit=1)) == 2

        deleted = deck.credentials.delete(cred.id)
        assert deleted.status == "deleted" and deck.credentials.retrieve(cred.id).status == "deleted"
        with pytest.raises(BadRequestError) as caught:
            deck.task_runs.create("task_sim_bills", credential_id=cred.id)
        assert caught.value.code == "credential_deleted"
        types = [e.type for e in deck.events.list(types="credential.*") if e.type != "credential.created"]
        assert types == [
            "credential.verified",
            "credential.invalid",
            "credential.unverified",
            "credential.verified",
            "credential.deleted",
        ]
        assert "hunter2" not in json.dumps([e.to_dict() for e in deck.events.list()])

    def test_update_clears_external_id_only_when_passed_explicitly(self, deck):
        cred = deck.credentials.create("src_sim_power", username="ada", password="pw", external_id="x-1")
        assert deck.credentials.update(cred.id, password="pw2").external_id == "x-1"
        assert deck.credentials.update(cred.id, external_id=None).external_id is None
        with pytest.raises(ValueError, match="nothing to update"):
            deck.credentials.update(cred.id)
        with pytest.raises(ValueError, match="missing credential"):
            deck.credentials.create("src_sim_power", username="ada")


# -- sessions ----------------------------------------------------------------------------------


class TestSessions:
    def test_reuse_skips_the_login_then_idle_end(self, deck, sim):
        cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
        first, prompts = drive(deck, sim, deck.task_runs.create("task_sim_bills", credential_id=cred.id).id)
        assert len(prompts) == 1
        session = deck.sessions.retrieve(first.session_id)
        assert isinstance(session, Session) and session.status == "idle" and session.active

        second = deck.task_runs.create("task_sim_usage", session_id=first.session_id)
        second, prompts = drive(deck, sim, second.id)
        assert second.status == "completed" and prompts == []  # no login: that is what sessions are for
        assert second.session_id == first.session_id and second.credential_id == cred.id
        assert [r.id for r in deck.sessions.retrieve(first.session_id).task_runs] == [first.id, second.id]
        assert [r.id for r in deck.task_runs.list(session_id=first.session_id)] == [first.id, second.id]
        assert [r.id for r in deck.task_runs.list(credential_id=cred.id)] == [first.id, second.id]

        sim.advance(600)  # ten idle minutes
        sim.advance(30)
        ended = deck.sessions.retrieve(first.session_id)
        assert ended.status == "completed" and not ended.active
        with pytest.raises(BadRequestError) as caught:
            deck.task_runs.create("task_sim_bills", session_id=first.session_id)
        assert caught.value.code == "session_not_active"

    def test_explicit_end_cancels_unfinished_runs(self, deck, sim):
        cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
        run = deck.task_runs.create("task_sim_bills", credential_id=cred.id)
        sim.advance(3)
        assert deck.task_runs.retrieve(run.id).status == "interaction_required"
        assert deck.sessions.end(run.session_id).status in ("completing", "completed")
        assert deck.task_runs.retrieve(run.id).status == "cancelling"
        sim.advance(30)
        assert deck.task_runs.retrieve(run.id).status == "canceled"
        assert deck.sessions.retrieve(run.session_id).status == "completed"


# -- runs --------------------------------------------------------------------------------------


class TestRuns:
    def test_one_way_to_log_in_is_checked_before_sending(self, make, sim):
        runner = make()
        before = requests_made(sim)
        with pytest.raises(ValueError, match="needs a way to log in"):
            runner.deck.task_runs.create("task_sim_bills")
        with pytest.raises(ValueError, match="not both"):
            runner.deck.task_runs.create("task_sim_bills", connection_id="conn_1", credential_id="cred_1")
        with pytest.raises(TypeError, match="mapping"):
            runner.deck.task_runs.create("task_sim_bills", credential_id="cred_1", input=[1])
        assert requests_made(sim) == before

    def test_run_request_checks_in_order(self, deck, sim):
        cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
        other = deck.credentials.create("src_sim_power", username="bo", password="pw")
        gone = deck.credentials.create("src_sim_power", username="cy", password="pw")
        deck.credentials.delete(gone.id)
        bad_input = {"months": 99}
        with pytest.raises(NotFoundError) as caught:  # task first, whatever else is wrong
            deck.task_runs.create("task_nope", credential_id=gone.id, input=bad_input)
        assert caught.value.code == "task_not_found"
        with pytest.raises(InputMissing) as caught:  # then a way to log in
            deck.task_runs.create("task_sim_bills", source_id="src_sim_power", input=bad_input)
        assert caught.value.field == "credential_id"
        with pytest.raises(NotFoundError) as caught:  # then the credential
            deck.task_runs.create("task_sim_bills", credential_id="cred_nope", input=bad_input)
        assert caught.value.code == "credential_not_found"
        with pytest.raises(BadRequestError) as caught:
            deck.task_runs.create("task_sim_bills", credential_id=gone.id, input=bad_input)
        assert caught.value.code == "credential_deleted"
        with pytest.raises(NotFoundError) as caught:  # then the session
            deck.task_runs.create("task_sim_bills", session_id="sess_nope", input=bad_input)
        assert caught.value.code == "session_not_found"
        first = deck.task_runs.create("task_sim_bills", credential_id=cred.id)
        with pytest.raises(BadRequestError) as caught:
            deck.task_runs.create(
                "task_sim_bills", credential_id=other.id, session_id=first.session_id, input=bad_input
            )
        assert caught.value.code == "session_mismatch" and caught.value.field == "session_id"
        with pytest.raises(InputInvalid) as caught:  # then the input
            deck.task_runs.create("task_sim_bills", credential_id=cred.id, input=bad_input)
        assert caught.value.field == "input.months"

    @pytest.mark.parametrize("decision, status", [("approve", "completed"), ("reject", "failed")])
    def test_review_required_stops_waiting_and_is_resolved_elsewhere(self, deck, sim, decision, status):
        cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
        run = deck.task_runs.create("task_sim_pay_bill", credential_id=cred.id, input={"amount": 42.5})
        run, _ = drive(deck, sim, run.id, stop=("review_required", "completed", "failed"))
        assert run.status == "review_required" and is_settled(run)
        assert deck.task_runs.wait(run.id, timeout=5).status == "review_required"  # returns, does not spin
        sim.review(run.id, decision)
        done = deck.task_runs.retrieve(run.id)
        assert done.status == status
        if decision == "approve":
            assert done.output["confirmation"].startswith("PAY-") and done.output["amount"] == 42.5
        else:
            assert done.errors[0].code == "review_rejected"

    def test_cancelling_then_canceled(self, deck, sim):
        cred = deck.credentials.create("src_sim_mobile", username="ada", password="pw")
        run = deck.task_runs.create("task_sim_usage", credential_id=cred.id)
        sim.advance(1)
        cancelling = deck.task_runs.cancel(run.id)
        assert cancelling.status == "cancelling" and not is_settled(cancelling)
        with pytest.raises(TaskRunNotCancelable):
            deck.task_runs.cancel(run.id)
        sim.advance(1)
        canceled = deck.task_runs.retrieve(run.id)
        assert canceled.status == "canceled" and canceled.canceled_at is not None and is_settled(canceled)
        kinds = [e.type for e in deck.events.list(types="task_run.canceling")]
        assert kinds == ["task_run.canceling"]
        assert [r.id for r in deck.task_runs.list(status="canceled")] == [run.id]


@pytest.mark.deck_simulator(session_limit=1)
def test_session_limit_is_retried_under_one_key_and_never_makes_a_second_run(make, sim):
    runner = make(max_retries=6)
    deck = runner.deck
    busy = deck.credentials.create("src_sim_power", username="ada", password="pw")
    waiting = deck.credentials.create("src_sim_power", username="bo", password="pw")
    first = deck.task_runs.create("task_sim_bills", credential_id=busy.id)

    control = Deck(api_key=sim.api_key, base_url=sim.base_url)

    def free_the_session():
        control.sessions.end(first.session_id)
        sim.advance(30)

    timer = threading.Timer(1.5, free_the_session)
    timer.start()
    try:
        second = deck.task_runs.create("task_sim_bills", credential_id=waiting.id)  # 429s, then succeeds
    finally:
        timer.join(10)
        control.close()
    stats = sim.stats()
    assert runner.raw.stats.rate_limited >= 1  # it was refused (429 session_limit_exceeded) and retried
    assert stats["task_runs_created"] == 2 and stats["sessions_created"] == 2
    assert {r.id for r in deck.task_runs.list()} == {first.id, second.id}
    assert second.credential_id == waiting.id


@pytest.mark.deck_simulator(session_limit=1)
def test_session_limit_reaches_the_caller_only_after_the_retries(make, sim):
    deck = make(max_retries=1, deadline=5).deck
    cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
    deck.task_runs.create("task_sim_bills", credential_id=cred.id)
    other = deck.credentials.create("src_sim_power", username="bo", password="pw")
    with pytest.raises(SessionLimitExceeded) as caught:
        deck.task_runs.create("task_sim_bills", credential_id=other.id)
    assert isinstance(caught.value, RateLimitError)
    assert caught.value.code == "session_limit_exceeded" and caught.value.type == "rate_limit"
    assert sim.stats()["task_runs_created"] == 1


# -- idempotency on PATCH and DELETE -----------------------------------------------------------


class _Keys:
    """Records (method, path, Idempotency-Key) of every request a client sends."""

    def __init__(self):
        self.sent = []

    def hook(self, request):
        self.sent.append((request.method, request.url.path, request.headers.get("idempotency-key")))

    async def ahook(self, request):
        self.hook(request)

    def client(self, mode):
        if mode == "sync":
            return httpx.Client(event_hooks={"request": [self.hook]})
        return httpx.AsyncClient(event_hooks={"request": [self.ahook]})


def test_patch_and_delete_keep_one_key_through_retries(make, sim, mode):
    keys = _Keys()
    deck = make(http_client=keys.client(mode), max_retries=12).deck
    creds = [deck.credentials.create("src_sim_power", username=f"u{i}", password="pw") for i in range(6)]
    sim.set_faults(drop_rate=0.4, seed=3)
    try:
        for cred in creds:
            assert deck.credentials.update(cred.id, external_id=f"x-{cred.id}").external_id == f"x-{cred.id}"
            assert deck.credentials.delete(cred.id).status == "deleted"
        drops = sim.stats()["faults_injected"]["drops"]
    finally:
        sim.set_faults()
    assert drops > 0
    assert len([m for m, _, _ in keys.sent if m in ("PATCH", "DELETE")]) > 2 * len(creds)  # some were resent
    for method in ("PATCH", "DELETE"):
        sent = [(path, key) for m, path, key in keys.sent if m == method]
        assert all(key for _, key in sent)
        by_path = {}
        for path, key in sent:
            by_path.setdefault(path, set()).add(key)
        assert all(len(k) == 1 for k in by_path.values())  # retries reuse the logical call's key
        assert len({next(iter(k)) for k in by_path.values()}) == len(creds)  # one key per logical call


def test_patch_and_delete_replay_under_an_explicit_key(deck, sim):
    cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
    once = deck.credentials.update(cred.id, external_id="a", idempotency_key="k-patch")
    sim.advance(5)
    again = deck.credentials.update(cred.id, external_id="a", idempotency_key="k-patch")
    assert again.updated_at == once.updated_at  # replayed, not applied twice
    assert deck.credentials.update(cred.id, external_id="a").updated_at > once.updated_at  # a new key applies
    with pytest.raises(IdempotencyConflict):
        deck.credentials.update(cred.id, external_id="b", idempotency_key="k-patch")
    first = deck.credentials.delete(cred.id, idempotency_key="k-del")
    assert deck.credentials.delete(cred.id, idempotency_key="k-del").to_dict() == first.to_dict()
    assert [e.type for e in deck.events.list(types="credential.deleted")] == ["credential.deleted"]


# -- interactions on runs ----------------------------------------------------------------------


def test_concurrent_answers_to_one_run_interaction_exactly_one_wins(make, sim, mode):
    runner = make()
    deck = runner.deck
    cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
    run = deck.task_runs.create("task_sim_bills", credential_id=cred.id)
    sim.advance(3)
    assert deck.task_runs.retrieve(run.id).status == "interaction_required"

    def outcome(call):
        try:
            call()
            return "ok"
        except InteractionNotRequired:
            return "late"

    if mode == "sync":
        with ThreadPoolExecutor(6) as pool:
            results = list(
                pool.map(lambda _: outcome(lambda: deck.task_runs.submit_interaction(run.id, code="123456")), range(6))
            )
    else:

        async def race():
            async def one():
                try:
                    await runner.raw.task_runs.submit_interaction(run.id, code="123456")
                    return "ok"
                except InteractionNotRequired:
                    return "late"

            return await asyncio.gather(*(one() for _ in range(6)))

        results = runner.loop.run_until_complete(race())
    assert sorted(results) == ["late"] * 5 + ["ok"]


@pytest.mark.parametrize("api, key", [("credentials", "input"), ("connections", "inputs")])
def test_submit_sends_the_body_key_of_the_api_it_faces(make, sim, mode, api, key):
    bodies = []

    def hook(request):
        if request.url.path.endswith("/interaction"):
            bodies.append(json.loads(request.content))

    async def ahook(request):
        hook(request)

    http = (
        httpx.Client(event_hooks={"request": [hook]})
        if mode == "sync"
        else httpx.AsyncClient(event_hooks={"request": [ahook]})
    )
    deck = make(http_client=http, api=api).deck
    if api == "credentials":
        cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
        run = deck.task_runs.create("task_sim_bills", credential_id=cred.id)
        sim.advance(3)
        assert deck.task_runs.submit_interaction(run.id, code="123456").status == "running"
    else:
        conn = deck.connections.create("src_sim_mobile", username="ada", password="pw")
        sim.advance(2)
        run = deck.task_runs.create("task_sim_usage", connection_id=conn.id)
        sim.advance(2)
        assert deck.task_runs.retrieve(run.id).status == "interaction_required"
        assert deck.task_runs.submit_interaction(run.id, inputs={"code": "123456"}).status == "running"
    assert bodies == [{key: {"code": "123456"}}]


def test_the_current_api_interaction_is_the_minimal_shape(deck, sim):
    cred = deck.credentials.create("src_sim_power", username="ada", password="pw")
    run = deck.task_runs.create("task_sim_bills", credential_id=cred.id)
    sim.advance(3)
    prompt = deck.task_runs.retrieve(run.id).interaction
    assert prompt.type == "mfa" and prompt.field_names == ["code"]
    assert prompt.expires_at is None and prompt.attempts_remaining is None
    assert prompt.fields[0].required is True and prompt.fields[0].secret is False


# -- models, without a server ------------------------------------------------------------------


def test_models_read_every_spelling_and_keep_the_unknown():
    minimal = {"type": "mfa", "message": "Code?", "fields": [{"name": "code", "type": "string", "label": "Code"}]}
    interaction = Interaction.model_validate(minimal)
    assert interaction.fields[0].display_label == "Code" and interaction.fields[0].required
    assert TaskRun.model_validate({"id": "trun_1", "status": "canceling"}).status == "cancelling"
    assert TaskRun.model_validate({"id": "trun_1", "status": "cancelling"}).status == "cancelling"
    odd = TaskRun.model_validate({"id": "trun_1", "status": "paused_for_lunch", "workflow_id": "wf_1"})
    assert odd.status == "paused_for_lunch" and odd.to_dict()["workflow_id"] == "wf_1" and not is_settled(odd)
    assert is_settled(TaskRun.model_validate({"id": "trun_1", "status": "review_required"}))
    from_event = TaskRun.model_validate({"id": "trun_1", "status": "running", "completed_at": "", "interaction": ""})
    assert from_event.completed_at is None and from_event.interaction is None
    cred = Credential.model_validate(
        {"id": "cred_1", "status": "verified", "auth_credentials": {"username": "ada", "password": "leak"}}
    )
    assert cred.username == "ada" and "leak" not in repr(cred) and "leak" not in json.dumps(cred.to_dict())
    assert Credential.model_validate({"id": "cred_1", "deleted": True}).status == "deleted"
    session = Session.model_validate({"id": "sess_1", "status": "completing", "task_runs": [{"id": "trun_1"}]})
    assert not session.active and session.task_runs[0].id == "trun_1"


def test_every_public_client_name_and_method_has_a_docstring():
    """Issue 14.7: every exported name, its public methods, and every resource method."""
    import inspect

    import deck_nb.client as client
    from deck_nb.client import _credentials, _interactive, _resources

    undocumented = []
    classes = [getattr(client, name) for name in client.__all__]
    for module in (_resources, _interactive, _credentials):
        classes += [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == module.__name__]
    for obj in classes:
        if not getattr(obj, "__doc__", None) and not getattr(obj, "__name__", "_").startswith("_"):
            undocumented.append(getattr(obj, "__name__", repr(obj)))
        if not inspect.isclass(obj) or obj.__name__.startswith("_"):
            continue
        for name, member in vars(obj).items():
            attr = getattr(obj, name, None)
            if name.startswith("_") or not (inspect.isfunction(attr) or isinstance(member, property)):
                continue
            if not (member.__doc__ if isinstance(member, property) else attr.__doc__):
                undocumented.append(f"{obj.__name__}.{name}")
    assert undocumented == []
