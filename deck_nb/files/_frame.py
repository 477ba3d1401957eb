"""The frame ``dn.download`` answers: a DataFrame whose HTML shows each ``path`` as a link that
opens the file in JupyterLab (a relative link, resolved against the notebook's folder). Every other
cell is escaped: a file name comes from a portal and may hold markup."""

from __future__ import annotations

import html
import os
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from deck_nb.history._categories import RESULTS
from deck_nb.history.frames import as_category

COLUMNS = [
    "run_id",
    "storage_id",
    "file_name",
    "file_type",
    "file_size",
    "path",
    "sha256",
    "result",
    "error",
    "fetched",
]


def _link(value: object) -> str:
    if not isinstance(value, str) or not value:
        return ""
    path = Path(value)
    try:
        target = os.path.relpath(path, Path.cwd())
    except ValueError:  # another drive (Windows)
        target = str(path)
    href = quote(Path(target).as_posix())
    return f"<a href='{html.escape(href, quote=True)}' target='_blank'>{html.escape(value)}</a>"


def _escaped(value: object) -> str:
    return (
        ""
        if value is None or value is pd.NA or (isinstance(value, float) and value != value)
        else html.escape(str(value))
    )


class FilesFrame(pd.DataFrame):
    """A DataFrame of downloaded files (``dn.download``); ``path`` cells are links in a notebook."""

    @property
    def _constructor(self):
        return FilesFrame

    def _repr_html_(self) -> str | None:  # type: ignore[override]
        if "path" not in self.columns:
            return super()._repr_html_()
        formatters = {c: (_link if c == "path" else _escaped) for c in self.columns}
        shown = self if len(self) <= 60 else pd.concat([self.head(30), self.tail(30)])
        table = shown.to_html(formatters=formatters, escape=False, index=True, na_rep="")
        more = f"<p>{len(self)} rows (first and last 30 shown)</p>" if len(self) > 60 else ""
        return f"<div class='deck-nb-files'>{table}{more}</div>"


def files_frame(rows: list[dict]) -> FilesFrame:
    frame = FilesFrame(pd.DataFrame.from_records(rows, columns=COLUMNS))
    for name in ("run_id", "storage_id", "file_name", "file_type", "path", "sha256", "error"):
        frame[name] = frame[name].astype("string")
    frame["result"] = as_category(frame["result"], RESULTS)  # the known set: frames concat as categoricals
    frame["file_size"] = frame["file_size"].astype("Int64")
    frame["fetched"] = frame["fetched"].astype("boolean")
    return frame
