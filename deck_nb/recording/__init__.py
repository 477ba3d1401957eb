"""Record a Deck session once, replay it anywhere: JSON-lines recordings with every secret replaced
by a placeholder, and a replay that answers from them with no network and virtual time.

    with dn.record("recordings/bills.deckrec"):      # in Lab, with your key
        bills = await dn.run_task("task_bills", conn)
    deck = dn.Deck(replay="recordings/bills.deckrec")  # in CI, no key; or DECK_NB_REPLAY=path

This package sits under the client (at deck_nb's transport seam, ``deck_nb._wire``): it imports
nothing from the client or the notebook layer. See docs/ci.md.
"""

from ._format import RecordingError, load
from ._replayer import FileNotKept, Replayer, ReplayMiss
from ._session import open_replay, record, replay

__all__ = ["FileNotKept", "RecordingError", "ReplayMiss", "Replayer", "load", "open_replay", "record", "replay"]
