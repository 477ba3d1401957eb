"""Giving a whole downloaded file its name in the folder, atomically: the name is taken by a hard
link from the temporary file, which fails if anything at all is there (a file, a folder, a link,
dangling or not), so two downloads into one folder at once never overwrite each other and nothing
is ever written through a link. A name already holding the very same bytes is this file (another
download of the same item saved it first); any other name in use moves on to ``name (2)`` …"""

from __future__ import annotations

import os
from pathlib import Path

from deck_nb.client._names import unique_name

from ._manifest import whole

MAX_TRIES = 1000


def claim(tmp: Path, dest: Path, size: int, sha256: str, taken: set[str]) -> Path:
    """Move the whole file ``tmp`` to ``dest``'s name or the next free one and answer where it is.
    ``taken`` (casefolded names) is the download's own record of names in use; it is kept up to date."""
    folder, name = dest.parent, dest.name
    for _ in range(MAX_TRIES):
        path = folder / name
        try:
            _take(tmp, path)
        except FileExistsError:
            if whole(path, size, sha256):
                tmp.unlink(missing_ok=True)
                return path
            taken.add(name.casefold())
            name = unique_name(dest.name, taken, folded=True)
            continue
        taken.add(name.casefold())
        return path
    raise FileExistsError(f"no free name like {dest.name!r} in {folder} after {MAX_TRIES} tries")


def _take(tmp: Path, path: Path) -> None:
    """``tmp`` renamed to ``path`` if nothing is there (``FileExistsError`` otherwise)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (FAT, some shares): an exclusive empty file, then the rename
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        os.replace(tmp, path)
        return
    tmp.unlink(missing_ok=True)
