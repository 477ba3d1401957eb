"""Plays the browser for a real Jupyter kernel: runs cells and sends the comm messages a front end
sends when a person types into a widget and clicks a button (as measured in the research notes)."""

from __future__ import annotations

import os
import queue
import sys
import time
from typing import Any

from jupyter_client import KernelManager

# An ipykernel that handles comm messages only after the running cell ends, as every ipykernel
# before 7.4 does (and Colab's, JupyterLite's): 7.4's shell_main, without its concurrent comm path.
SERIAL_KERNEL = """
import ipykernel.kernelbase as kb

async def shell_main(self, subshell_id, msg):
    async with self._main_asyncio_lock:
        await self.dispatch_shell(msg, subshell_id=subshell_id)

kb.Kernel.shell_main = shell_main
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


class KernelBrowser:
    """``renders``: the browser runs a form's page, which says "ready" once drawn (a jupyter_client
    script that draws nothing passes False). ``serial``: the kernel takes comms only between cells."""

    def __init__(self, env: dict[str, str], *, renders: bool = True, serial: bool = False) -> None:
        self.renders = renders
        self.km = KernelManager(kernel_name="python3")
        launcher = ["-c", SERIAL_KERNEL] if serial else ["-m", "ipykernel_launcher"]
        self.km.kernel_spec.argv = [sys.executable, *launcher, "-f", "{connection_file}"]  # this venv's python
        self.km.start_kernel(env={**os.environ, **env})
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.models: dict[str, dict[str, Any]] = {}  # comm id -> latest state
        self.stdout: list[str] = []
        self.errors: list[str] = []
        self.outputs: list[dict[str, Any]] = []

    def execute(self, code: str) -> str:
        return self.kc.execute(code)

    def pump(self, until, timeout: float = 60.0) -> None:
        """Read iopub until ``until(self)`` is true."""
        deadline = time.monotonic() + timeout
        while not until(self):
            if time.monotonic() > deadline:
                raise TimeoutError(f"kernel never got there; stdout={self.stdout!r} errors={self.errors!r}")
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "comm_open":
                state = self.models[content["comm_id"]] = dict(content["data"].get("state", {}))
                if self.renders and 'event: "ready"' in str(state.get("_esm", "")):
                    self.send(content["comm_id"], {"event": "ready"})  # what the page does once drawn
            elif kind == "comm_msg" and content["data"].get("method") in ("update", "echo_update"):
                self.models.setdefault(content["comm_id"], {}).update(content["data"].get("state", {}))
            elif kind == "stream":
                self.stdout.append(content["text"])
            elif kind == "error":
                self.errors.append("\n".join(content["traceback"]))
            elif kind in ("display_data", "execute_result", "update_display_data"):
                self.outputs.append(content)

    def find(
        self,
        *,
        model: str | None = None,
        dom_class: str | None = None,
        description: str | None = None,
        after: set[str] | None = None,
    ) -> str | None:
        for comm_id, state in self.models.items():
            if after and comm_id in after:
                continue
            if model and state.get("_model_name") != model:
                continue
            if dom_class and dom_class not in state.get("_dom_classes", []):
                continue
            if description and state.get("description") != description:
                continue
            return comm_id
        return None

    def type_into(self, comm_id: str, **state: Any) -> None:
        self._comm(comm_id, {"method": "update", "state": state, "buffer_paths": []})

    def click(self, comm_id: str) -> None:
        self._comm(comm_id, {"method": "custom", "content": {"event": "click"}})

    def send(self, comm_id: str, content: dict[str, Any]) -> None:
        """A custom message from the page (anywidget's ``model.send(content)``)."""
        self._comm(comm_id, {"method": "custom", "content": content})

    def _comm(self, comm_id: str, data: dict[str, Any]) -> None:
        self.kc.shell_channel.send(self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data}))

    def printed(self) -> str:
        return "".join(self.stdout)

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)
