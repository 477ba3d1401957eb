"""Serving the simulator with uvicorn: in the foreground (CLI) or on a background thread."""

from __future__ import annotations

import ipaddress
import logging
import sys
from typing import Any

from .._serve import ServerThread
from ._app import Simulator

log = logging.getLogger("deck_nb.simulator")
LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_exposed(host: str) -> None:
    if not is_loopback(host):
        print(
            f"WARNING: the Deck simulator is binding {host}, which is not loopback: anyone who can reach this "
            "address and learns the key can drive it. Use --host 127.0.0.1 unless you mean it.",
            file=sys.stderr,
            flush=True,
        )


class SimulatorHandle:
    """A running simulator: ``base_url`` (ends in ``/v2``), ``api_key``, ``stop()``; a context manager."""

    def __init__(self, simulator: Simulator, server: ServerThread) -> None:
        self.simulator = simulator
        self._server = server
        self.host = server.host
        self.port = server.port
        self.root_url = server.root_url
        self.base_url = f"{self.root_url}/v2"

    @property
    def api_key(self) -> str:
        return self.simulator.api_key

    @property
    def api(self) -> str:
        """Which API it serves: ``both``, ``connections`` or ``credentials``."""
        return self.simulator.api

    @property
    def running(self) -> bool:
        return self._server.running

    def stop(self, timeout: float = 10.0) -> None:
        self._server.stop(timeout)

    def control(self, method: str, path: str, json: Any = None) -> dict[str, Any]:
        """Call a ``/_sim`` control route (reset, clock/advance, faults, config, stats)."""
        import httpx

        response = httpx.request(
            method,
            f"{self.root_url}/_sim/{path.lstrip('/')}",
            json=json,
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.control("POST", "clock/advance", {"seconds": seconds})

    def reset(self) -> dict[str, Any]:
        return self.control("POST", "reset")

    def set_faults(self, **rates: Any) -> dict[str, Any]:
        return self.control("POST", "faults", rates)

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "stats")

    def storage(self, **knobs: Any) -> dict[str, Any]:
        """Storage knobs (``POST /_sim/storage``): url_ttl, encryption, large_size, and for the next run
        that stores files fail_extraction, large_file, truncate_file, oversize_file, file_names."""
        return self.control("POST", "storage", knobs)

    def review(self, task_run_id: str, decision: str) -> dict[str, Any]:
        """Approve or reject a ``review_required`` run, as a person would in Deck's console."""
        return self.control("POST", f"task-runs/{task_run_id}/review", {"decision": decision})

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Deck simulator {state} at {self.base_url}, api={self.api}, clock={self.simulator.clock.mode}>"


def start(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    time_scale: float = 1.0,
    clock: str = "real",
    rate_limit: str | None = "200/10s",
    api_key: str | None = None,
    api: str = "both",
    session_limit: int | str | None = 25,
    url_ttl: float = 300.0,
    encryption: bool = False,
    fail_extraction: int | list[int] | str | None = None,
    large_file: int | list[int] | str | None = None,
    large_size: int | None = None,
    log_level: str = "warning",
    timeout: float = 15.0,
) -> SimulatorHandle:
    """Start a simulator on a background thread and return once it accepts connections.

    ``api`` is ``"both"`` (the seed's connections and Deck's current credentials/sessions on one
    ``/v2``), ``"connections"`` or ``"credentials"``; ``session_limit`` caps concurrent sessions
    (``"off"``/None lifts it). Storage: ``url_ttl`` (seconds a signed URL lives, scaled by
    ``time_scale``), ``encryption`` (runs' ``input``/``output`` as ``enc_`` strings), and for the first
    run that stores files ``fail_extraction`` / ``large_file`` (file numbers from 1, or ``"all"``)
    with ``large_size`` bytes (default 50 MB); ``POST /_sim/storage`` changes them later.
    """
    warn_if_exposed(host)
    simulator = Simulator(
        time_scale=time_scale,
        clock=clock,
        rate_limit=rate_limit,
        api_key=api_key,
        api=api,
        session_limit=session_limit,
        storage={
            "url_ttl": url_ttl,
            "encryption": encryption,
            "fail_extraction": fail_extraction,
            "large_file": large_file,
            "large_size": large_size,
        },
    )
    server = ServerThread(simulator.app, host=host, port=port, log_level=log_level, name="deck-simulator")
    return SimulatorHandle(simulator, server.start(timeout))


def serve_forever(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    time_scale: float = 1.0,
    clock: str = "real",
    rate_limit: str | None = "200/10s",
    api_key: str | None = None,
    api: str = "both",
    session_limit: int | str | None = 25,
    url_ttl: float = 300.0,
    encryption: bool = False,
    fail_extraction: int | list[int] | str | None = None,
    large_file: int | list[int] | str | None = None,
    large_size: int | None = None,
) -> None:
    """Run in the foreground until interrupted; print exactly one 'ready' line to stdout."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    handle = start(
        host=host,
        port=port,
        time_scale=time_scale,
        clock=clock,
        rate_limit=rate_limit,
        api_key=api_key,
        api=api,
        session_limit=session_limit,
        url_ttl=url_ttl,
        encryption=encryption,
        fail_extraction=fail_extraction,
        large_file=large_file,
        large_size=large_size,
        log_level="info",
    )
    print(f"Deck simulator ready at {handle.base_url} — API key {handle.api_key}", flush=True)
    try:
        while handle.running:
            handle._server.join(0.5)
    except KeyboardInterrupt:
        print("stopping the Deck simulator", file=sys.stderr, flush=True)
    finally:
        handle.stop()
