"""Errors of fetching a stored file's bytes. They name the storage item and the file, never the
signed URL (it is a key to the file), and carry plain data only, so they pickle."""

from __future__ import annotations

from ._errors import APIError


class DownloadError(APIError):
    """A stored file could not be fetched; ``storage_id`` says which. No partial file is left."""

    def __init__(self, message: str, *, storage_id: str | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.storage_id = storage_id


class FileExpired(DownloadError):
    """The signed URL was refused (403) twice, with a fresh URL the second time."""


class FileGone(DownloadError):
    """The file is no longer kept (404: past its retention; Deck deletes files after 90 days)."""


class DownloadIncomplete(DownloadError):
    """The stream broke, stalled past its deadline or ended short of the item's ``file_size``."""


class DownloadTooLarge(DownloadError):
    """The body outgrew the item's ``file_size``: the download was stopped and discarded."""


__all__ = ["DownloadError", "DownloadIncomplete", "DownloadTooLarge", "FileExpired", "FileGone"]
