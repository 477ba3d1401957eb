"""The data a run captured, from Deck Storage to disk and DataFrame: ``download`` (the files),
``extractions`` (the numbers read from them), ``screenshots`` (what the agent saw)."""

from ._download import download
from ._extractions import extractions, extractions_frame
from ._frame import FilesFrame
from ._screenshots import fetch_image, last_screenshot, screenshots

__all__ = [
    "FilesFrame",
    "download",
    "extractions",
    "extractions_frame",
    "fetch_image",
    "last_screenshot",
    "screenshots",
]
