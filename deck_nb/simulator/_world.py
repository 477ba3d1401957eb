"""The simulated Deck: one world that both APIs act on.

Each part keeps its own file: the shared bookkeeping (``_state``), the one interaction logic
(``_dialogue``), the seed's connections, credentials and sessions of Deck's current API, the run
requests of both APIs and the run state machine they share.
"""

from __future__ import annotations

from ._connections import Connections
from ._credentials import Credentials
from ._run_requests import RunRequests
from ._runs import Runs
from ._sessions import Sessions
from ._storage import Storage

# Re-exported for callers that used to find them here.
from ._models import iso, micros, new_id  # noqa: F401  isort: skip


class World(RunRequests, Runs, Connections, Credentials, Sessions, Storage):
    """Sources, tasks, connections, credentials, sessions, task runs, storage, events and destinations."""
