"""The embedded Deck: a faithful v2 API simulator on loopback, for notebooks, demos and tests.

It serves the original connections API and Deck's current credentials/sessions API on one ``/v2``
(``api="both"``, or either alone), over one world. It is the other side of the wire and imports
nothing from the client. Its behaviour for users is described in ``docs/simulator.md``.
"""

from ._app import Simulator
from ._catalog import BAD_PASSWORD, LOCKED_USERNAME, MFA_CODE, SECURITY_ANSWER
from ._server import SimulatorHandle, serve_forever, start

__all__ = [
    "BAD_PASSWORD",
    "LOCKED_USERNAME",
    "MFA_CODE",
    "SECURITY_ANSWER",
    "Simulator",
    "SimulatorHandle",
    "serve_forever",
    "start",
]
