"""Serving the simulator with uvicorn: in the foreground (CLI) or on a background thread."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import sys
import threading
import time
from typing import Any

import uvicorn

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

    def __init__(self, simulator: Simulator, server: uvicorn.Server, thread: threading.Thread, host: str, port: int):
        self.simulator = simulator
        self._server = server
        self._thread = thread
        self.host = host
        self.port = port
        self.root_url = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
        self.base_url = f"{self.root_url}/v2"

    @property
    def api_key(self) -> str:
        return self.simulator.api_key

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

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

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<Deck simulator {state} at {self.base_url}, clock={self.simulator.clock.mode}>"


def _config(simulator: Simulator, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        simulator.app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_keep_alive=30,
        backlog=2048,
    )


def start(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    time_scale: float = 1.0,
    clock: str = "real",
    rate_limit: str | None = "200/10s",
    api_key: str | None = None,
    log_level: str = "warning",
    timeout: float = 15.0,
) -> SimulatorHandle:
    """Start a simulator on a background thread and return once it accepts connections."""
    warn_if_exposed(host)
    simulator = Simulator(time_scale=time_scale, clock=clock, rate_limit=rate_limit, api_key=api_key)
    server = uvicorn.Server(_config(simulator, host, port, log_level))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # not the main thread
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), name="deck-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    if not server.started:
        server.should_exit = True
        raise RuntimeError(f"the Deck simulator did not start on {host}:{port}")
    bound = server.servers[0].sockets[0].getsockname()[1]
    return SimulatorHandle(simulator, server, thread, host, bound)


def serve_forever(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    time_scale: float = 1.0,
    clock: str = "real",
    rate_limit: str | None = "200/10s",
    api_key: str | None = None,
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
        log_level="info",
    )
    print(f"Deck simulator ready at {handle.base_url} — API key {handle.api_key}", flush=True)
    try:
        while handle.running:
            handle._thread.join(0.5)
    except KeyboardInterrupt:
        print("stopping the Deck simulator", file=sys.stderr, flush=True)
    finally:
        handle.stop()
