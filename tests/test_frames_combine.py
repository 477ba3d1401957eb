"""Issue 22, frames: they name the account (never a secret), combine with ``pd.concat``, keep their
dtypes through Parquet; ``BatchResult.frame`` speaks the history's column names; ``outputs_frame``
is typed like the rest. Flows run on the simulator over loopback HTTP, through the public face."""

from __future__ import annotations

import pandas as pd
import pytest

import deck_nb as dn
from deck_nb.history import History, Journal

pytestmark = pytest.mark.deck_simulator(api="both", clock="real", time_scale=0.01, rate_limit="off")

PASSWORD = "pw-f7a1-never"
ANSWERS = {"code": "123456", "answer": "rex"}
FIXED = {"runs": ("status", "result", "api", "error_type", "error_code")}


@pytest.fixture
def journal():
    j = Journal()
    yield j
    j.close()


def client(sim, journal, api):
    return dn.Deck(api_key=sim.api_key, base_url=sim.base_url, observers=[journal], api=api)


def login(deck, username, external_id=None, password=PASSWORD, source="src_sim_power"):
    return dn.connect(source, username, password, respond=ANSWERS, deck=deck, external_id=external_id).wait(20)


@pytest.mark.parametrize("api", ["connections", "credentials"])
def test_runs_and_logins_name_their_account_and_never_the_password(sim, journal, api):
    with client(sim, journal, api) as deck:
        ada = login(deck, "ada", "client-7")
        bob = login(deck, "bob", "client-8", password="pass_bad")
        logins = (ada, bob) if api == "credentials" else (ada,)  # a refused connection takes no run
        runs = [dn.run_task("task_sim_bills", job, {"months": 1}, deck=deck) for job in logins]
        for run in runs:
            run.wait(20)
        served = dn.credentials_frame(deck.credentials.list()) if api == "credentials" else None
    if served is not None:  # from the server's side too: a credential's summary names its user
        assert sorted(served["username"]) == ["ada", "bob"] and served["username"].dtype == "string"
    history = History([journal])
    frame = history.runs.set_index("id")
    assert frame.loc[runs[0].id, ["username", "external_id"]].tolist() == ["ada", "client-7"]
    failed = frame[frame["status"] == "failed"] if api == "credentials" else None
    logins = history.credentials if api == "credentials" else history.connections
    by_name = logins.set_index("username")
    assert by_name.loc["ada", "external_id"] == "client-7" and by_name.loc["bob", "id"] == bob.id
    if api == "credentials":  # bob's run failed its login: the failed row names bob, not a position
        assert failed["username"].tolist() == ["bob"] and failed["external_id"].tolist() == ["client-8"]
        assert by_name.loc["bob", "status"] == "invalid"
    else:  # bob's connection was refused: its row names him
        assert by_name.loc["bob", "status"] == "invalid"
    for name in ("runs", "connections", "credentials", "events", "errors"):
        assert PASSWORD not in history.frame(name).to_csv(), name


def test_a_credential_renamed_later_renames_its_runs(sim, journal):
    with client(sim, journal, "credentials") as deck:
        ada = login(deck, "ada", "client-7")
        run = dn.run_task("task_sim_bills", ada, {"months": 1}, deck=deck).wait(20)
        deck.credentials.update(ada.id, external_id="client-9")
    runs = History([journal]).runs
    assert runs.loc[runs["id"] == run.id, "external_id"].tolist() == ["client-9"]


def _history_of(sim, api, usernames, fail_with=None) -> History:
    journal = Journal()
    with client(sim, journal, api) as deck:
        for username in usernames:
            job = login(deck, username)
            dn.run_task(
                "task_sim_bills", job, {"months": 1, **({"fail_with": fail_with} if fail_with else {})}, deck=deck
            ).wait(20)
    return History([journal])


def test_two_histories_concat_keeping_their_categoricals(sim):
    seed = _history_of(sim, "connections", ["ada"])
    current = _history_of(sim, "credentials", ["bob"], fail_with="source_error")
    empty = History([Journal()])
    for parts in ((seed.runs, current.runs), (seed.runs, empty.runs), (empty.runs, current.runs)):
        both = pd.concat(parts, ignore_index=True)
        for name in FIXED["runs"]:
            assert isinstance(both[name].dtype, pd.CategoricalDtype), name
        assert both.dtypes.astype(str).tolist() == seed.runs.dtypes.astype(str).tolist()
    both = pd.concat([seed.runs, current.runs], ignore_index=True)
    assert both["api"].tolist() == ["connections", "credentials"]
    assert both["status"].tolist() == ["completed", "failed"] and both["error_code"].tolist()[1] == "source_error"
    assert list(both["status"].cat.categories[:3]) == ["queued", "running", "interaction_required"]
    for name in ("interactions", "errors", "events", "connections", "credentials", "sessions"):
        combined = pd.concat([seed.frame(name), current.frame(name)], ignore_index=True)
        categorical = [
            c for c in seed.frame(name).columns if isinstance(seed.frame(name)[c].dtype, pd.CategoricalDtype)
        ]
        assert all(isinstance(combined[c].dtype, pd.CategoricalDtype) for c in categorical), name


# error codes the specs document, met here over HTTP: the API's refusals and runs failed on purpose
REFUSED = ("task_not_found", "task_run_not_found", "task_run_not_cancelable", "credential_not_found", "input_invalid")


def test_the_error_codes_the_specs_document_are_known_categories_so_errors_frames_concat(sim):
    journal = Journal()
    with client(sim, journal, "credentials") as deck:
        job = login(deck, "cat")
        for code in ("timeout", "blocked", "source_error"):
            dn.run_task("task_sim_bills", job, {"months": 1, "fail_with": code}, deck=deck).wait(20)
        done = dn.run_task("task_sim_bills", job, {"months": 1}, deck=deck).wait(20)
        for refused in (
            lambda: deck.tasks.retrieve("task_nope"),
            lambda: deck.task_runs.retrieve("trun_nope"),
            lambda: deck.task_runs.cancel(done.id),
            lambda: deck.task_runs.create("task_sim_bills", credential_id="cred_nope"),
            lambda: deck.task_runs.create("task_sim_bills", credential_id=job.id, input={"months": 99}),
        ):
            with pytest.raises(dn.DeckError):
                refused()
    errors, empty = History([journal]).errors, History([Journal()]).errors
    assert set(REFUSED) <= set(errors["code"].dropna()), errors["code"].tolist()
    assert list(errors["code"].cat.categories) == list(empty["code"].cat.categories)  # nothing outside the known
    assert list(errors["type"].cat.categories) == list(empty["type"].cat.categories)
    both = pd.concat([errors, empty, errors], ignore_index=True)
    assert isinstance(both["code"].dtype, pd.CategoricalDtype) and len(both) == 2 * len(errors)
    runs = History([journal]).runs
    assert {"timeout", "blocked", "source_error"} <= set(runs["error_code"].dropna())
    assert list(runs["error_code"].cat.categories) == list(History([Journal()]).runs["error_code"].cat.categories)


def test_a_status_from_a_newer_deck_is_kept_and_concat_then_falls_back_to_text(journal):
    """Deck may add a status: the frame keeps it (as an extra category after the known ones). A
    frame that saw it and one that did not have different categories, and pandas then concatenates
    the column as plain text (not categorical), keeping every value."""
    newer = {"id": "trun_new", "object": "task_run", "task_id": "task_sim_bills", "source_id": "src_sim_power"}
    journal.record([{**newer, "status": "paused_for_weather", "connection_id": "conn_1"}])
    runs = History([journal]).runs
    assert runs["status"].tolist() == ["paused_for_weather"]
    assert list(runs["status"].cat.categories)[-1] == "paused_for_weather"
    empty = History([Journal()]).runs
    both = pd.concat([runs, empty], ignore_index=True)
    assert not isinstance(both["status"].dtype, pd.CategoricalDtype)
    assert both["status"].tolist() == ["paused_for_weather"]
    assert isinstance(both["result"].dtype, pd.CategoricalDtype)  # the other categoricals still combine


def test_empty_frames_keep_their_dtypes_through_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    history = History([Journal()])
    for path in history.export(tmp_path):
        name = path.stem
        back = pd.read_parquet(path)
        assert back.dtypes.astype(str).tolist() == history.frame(name).dtypes.astype(str).tolist(), name
        assert list(back.columns) == list(history.frame(name).columns)


def test_full_frames_keep_their_dtypes_and_categories_through_parquet(sim, tmp_path):
    pytest.importorskip("pyarrow")
    history = _history_of(sim, "credentials", ["ada"])
    for path in history.export(tmp_path):
        back, frame = pd.read_parquet(path), history.frame(path.stem)
        assert back.dtypes.astype(str).tolist() == frame.dtypes.astype(str).tolist(), path.stem
        for column in frame.columns if len(frame) else ():  # Parquet keeps a dictionary only with rows
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                assert list(back[column].cat.categories) == list(frame[column].cat.categories)


@pytest.mark.parametrize("api", ["connections", "credentials"])
def test_batch_frame_uses_the_history_names_and_names_the_account(sim, journal, api):
    items = [
        dn.Pull("src_sim_power", "ada", PASSWORD, task_id="task_sim_bills", external_id="client-7"),
        dn.Pull("src_sim_power", "bob", "pass_bad", task_id="task_sim_bills", external_id="client-8"),
    ]
    with client(sim, journal, api) as deck:
        result = dn.run_many_sync(items, respond=ANSWERS, deck=deck, poll_interval=0.1)
    frame = result.frame
    history_names = set(History([journal]).runs.columns)
    for name in ("source_id", "task_id", "duration_s", "username", "external_id", "connection_id", "credential_id"):
        assert name in frame.columns and name in history_names, name
    assert frame["username"].tolist() == ["ada", "bob"] and frame["external_id"].tolist() == ["client-7", "client-8"]
    failed = frame.loc[~frame["ok"], "username"].tolist()
    assert failed == ["bob"]
    login = "credential_id" if api == "credentials" else "connection_id"
    other = "connection_id" if api == "credentials" else "credential_id"
    prefix = "cred_" if api == "credentials" else "conn_"
    assert frame.loc[0, login].startswith(prefix) and frame[other].isna().all()
    assert frame["api"].tolist() == [api, api]
    assert str(frame["index"].dtype) == "Int64" and str(frame["ok"].dtype) == "boolean"
    assert frame["duration_s"].dtype == "float64" and (frame["duration_s"] > 0).all()
    for name in ("source_id", "task_id", "username", "run_id", "error"):
        assert frame[name].dtype == "string", name
    for name in ("kind", "api", "status", "error_code"):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
    assert PASSWORD not in frame.to_csv() and "pass_bad" not in frame.to_csv()
    runs = History([journal]).runs
    assert runs.loc[runs["id"] == frame.loc[0, "run_id"], "username"].tolist() == ["ada"]


def test_outputs_frame_keeps_whole_numbers_and_tz_aware_dates(sim, journal):
    with client(sim, journal, "connections") as deck:
        ada = login(deck, "ada")
        runs = [
            dn.run_task(t, ada, {"days": 3} if t == "task_sim_usage" else {"months": 2}, deck=deck)
            for t in ("task_sim_bills", "task_sim_usage")
        ]
        runs = [r.wait(20) for r in runs]
    frame = dn.outputs_frame(runs)
    dates = [c for c in frame.columns if c == "date" or c.endswith("_date")]
    assert dates and all(
        str(frame[c].dtype) == "datetime64[us, UTC]" or str(frame[c].dtype).endswith(", UTC]") for c in dates
    )
    whole = [c for c in frame.columns if str(frame[c].dtype) == "Int64"]
    raw = [row for r in runs for rows in r.output.values() if isinstance(rows, list) for row in rows]
    ints = {k for row in raw for k, v in row.items() if isinstance(v, int) and not isinstance(v, bool)}
    assert ints and ints <= set(whole)  # a column missing from one item's rows is still Int64 (NA there)
    assert frame["amount_due"].dtype == "float64" and frame["run_id"].dtype == "string"
    empty = dn.outputs_frame([])
    assert list(empty.columns) == ["run_id", "task_id", "source_id", "item"]
