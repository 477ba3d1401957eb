"""Which Deck API a client faces: the seed's (connections) or the current one (credentials and sessions).

``Deck(api="auto")`` (the default, or ``DECK_API`` in the environment) asks once, lazily, at the first
call whose request depends on the answer: ``GET /v2/credentials?limit=1`` — 200 means
``credentials``, 404 means ``connections``, anything else is raised as its ``DeckError``. A server that
serves both (the simulator's default) is therefore taken for the current API. Twins made with
``to_async()`` / ``to_sync()`` share one ``ApiChoice``, so they detect once between them.
"""

from __future__ import annotations

import os
import threading

from ._call import Call
from ._errors import APIStatusError

AUTO = "auto"
CREDENTIALS = "credentials"
CONNECTIONS = "connections"
CHOICES = (AUTO, CREDENTIALS, CONNECTIONS)

# The probe: cheap, and answered by the current API only (observers are not told: it is not the user's call).
PROBE = Call("GET", "/credentials", params={"limit": 1}, observe=False)


def resolve_api(api: str | None) -> str:
    """The requested API: the argument, else ``DECK_API``, else ``auto``; refuses anything else clearly."""
    value = api if api is not None else (os.environ.get("DECK_API") or AUTO)
    if not isinstance(value, str) or value.strip().lower() not in CHOICES:
        origin = "api" if api is not None else "DECK_API"
        raise ValueError(f"{origin} must be one of {', '.join(CHOICES)}, not {value!r}")
    return value.strip().lower()


class ApiChoice:
    """The requested API and, once known, the detected one; shared by a client and its twins."""

    def __init__(self, requested: str) -> None:
        self.requested = requested
        self.detected: str | None = None if requested == AUTO else requested
        self.lock = threading.Lock()  # sync shells: one probe even when threads race

    @property
    def current(self) -> str:
        """``credentials`` or ``connections`` when known; ``auto`` while not detected yet."""
        return self.detected or AUTO

    def learn(self, probe_error: BaseException | None) -> str:
        """Record the probe's outcome (``None``: it answered 200); a non-404 error is re-raised."""
        if probe_error is None:
            self.detected = CREDENTIALS
        elif isinstance(probe_error, APIStatusError) and probe_error.status_code == 404:
            self.detected = CONNECTIONS
        else:
            raise probe_error
        return self.detected
