"""Serving an ASGI app with uvicorn on a background thread: shared by the simulator and the
webhook receiver (a utility below both; it knows neither)."""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
import time
from typing import Any

import uvicorn


class PortInUse(OSError):
    """The port asked for is taken (another simulator, a Jupyter server, anything else)."""


def _port_taken(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


class ServerThread:
    """A uvicorn server on its own thread and loop; ``port`` is the one actually bound."""

    def __init__(self, app: Any, *, host: str, port: int, log_level: str = "warning", name: str = "server") -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=False,
            lifespan="on",
            timeout_keep_alive=30,
            backlog=2048,
        )
        self.host = host
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # not the main thread
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), name=name, daemon=True)
        self.port = 0

    def start(self, timeout: float = 15.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.005)
        if not self.server.started:
            self.server.should_exit = True
            self.thread.join(5)
            port = self.server.config.port
            if port and _port_taken(self.host, port):
                raise PortInUse(
                    f"port {port} on {self.host} is in use (another server is listening there): "
                    "choose another with --port, or --port 0 for a free one",
                )
            raise RuntimeError(f"the server did not start on {self.host}")
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
