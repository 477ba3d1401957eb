"""The journal's SQLite file: opened (WAL on disk, so each committed record survives a killed
kernel), its tables made, and a file written by an older deck_nb brought up to date."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ._schema import INDEXES, RESOURCE_COLUMNS, SCHEMA


def open_store(path: Path | None) -> sqlite3.Connection:
    """The journal's database at ``path`` (its folder made), or in memory; autocommit: a record
    that writes several rows is one ``transaction``."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False, isolation_level=None)
    if path is not None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # survives a killed process; see README
    db.executescript(SCHEMA)
    migrate(db)
    db.executescript(INDEXES)
    return db


def migrate(db: sqlite3.Connection) -> None:
    """Add the columns a file written by an older deck_nb lacks (its rows keep NULL there)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(resources)")}
    for name, decl in RESOURCE_COLUMNS.items():
        if name not in have:
            db.execute(f"ALTER TABLE resources ADD COLUMN {name} {decl}")


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One transaction: all of the block's writes or none. The connection is autocommit, where a
    bare ``with db:`` would commit each statement on its own (and a failed record would leave half
    of its rows); a block inside another's transaction joins it."""
    if db.in_transaction:
        yield
        return
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
