"""Shared by the recording tests: record a flow against the simulator, replay it with sockets
blocked, and the frames both give (timestamps and durations aside)."""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

import deck_nb as dn

SECRETS_SEEN: list[tuple[Path, list[str]]] = []  # every recording the tests make, with the secrets its session used
TIME_LIKE = ("_at", "seconds", "elapsed", "duration", "expires", "age", "time", "waited", "started", "ended")


@contextmanager
def no_network():
    """Any connect() raises: a replay that tried the network would fail loudly."""
    original = socket.socket.connect

    def refuse(self, *args, **kwargs):
        raise OSError("network blocked by the test: a replay must not connect")

    socket.socket.connect = refuse
    try:
        yield
    finally:
        socket.socket.connect = original


def frames() -> dict[str, pd.DataFrame]:
    history = dn.history()
    out = {}
    for name in ("runs", "connections", "credentials", "sessions", "interactions", "errors"):
        frame = getattr(history, name, None)
        if isinstance(frame, pd.DataFrame):
            keep = [c for c in frame.columns if not any(t in c.lower() for t in TIME_LIKE)]
            keep = [c for c in keep if not pd.api.types.is_datetime64_any_dtype(frame[c])]
            rows = frame[keep].astype(str)  # a batch's runs may end in another order at replay: compare as sets
            out[name] = rows.sort_values(list(rows.columns)).reset_index(drop=True) if keep else rows
    return out


def record_flow(flow, sim, path: Path, secrets: list[str], **record_options):
    """Run ``flow(deck)`` against the simulator inside ``dn.record``: (its result, frames, seconds)."""
    dn.use_history_file(None)
    started = time.perf_counter()
    options = _client_options(flow)
    with dn.record(path, **record_options), dn.Deck(api_key=sim.api_key, base_url=sim.base_url, **options) as deck:
        result = flow(deck)
    SECRETS_SEEN.append((path, [sim.api_key, *secrets]))
    assert_no_secrets(path, [sim.api_key, *secrets])
    return result, frames(), time.perf_counter() - started


def replay_flow(flow, path: Path, replaying=None):
    """The same flow from the recording alone: no key, no server, no socket."""
    dn.use_history_file(None)
    started = time.perf_counter()
    with no_network(), dn.Deck(replay=path, **_client_options(flow)) as deck:
        result = (replaying or flow)(deck)
    return result, frames(), time.perf_counter() - started


def _client_options(flow) -> dict:
    return getattr(flow, "client_options", {})


def assert_same_frames(recorded: dict, replayed: dict) -> None:
    """The same frames, but for the user names: a recording keeps ``auth_credentials`` only as a
    placeholder (a user name is personal data), so a replay names an account by the placeholder
    where the name came from Deck's answer (a credential), and as the code gave it otherwise."""
    assert recorded.keys() == replayed.keys()
    for name in recorded:
        before, after = recorded[name], replayed[name]
        if "username" in before.columns:
            # the code's own user name (sent again at replay) or the recording's placeholder, never another
            same = before["username"].fillna("") == after["username"].fillna("")
            placeholder = after["username"].fillna("").str.startswith("<redacted:")
            assert (same | placeholder).all(), f"history.{name} replays another user name"
            before, after = before.drop(columns="username"), after.drop(columns="username")
        pd.testing.assert_frame_equal(before, after, obj=f"history.{name}")


def assert_no_secrets(path: Path, secrets: list[str]) -> None:
    """None of the session's secrets in the file, in any spelling a line could hold."""
    import base64
    import json
    from urllib.parse import quote

    text = path.read_text()
    for secret in secrets:
        for form in {secret, quote(secret, safe=""), json.dumps(secret), base64.b64encode(secret.encode()).decode()}:
            assert form not in text, f"{path.name} holds a secret ({form[:3]}…)"


def assert_real_clock() -> None:
    """After a test: no replay left the process on virtual time (clients closed or collected)."""
    import gc

    from deck_nb import _clock

    gc.collect()
    assert not _clock.current().virtual, "a replay left the clock virtual"
