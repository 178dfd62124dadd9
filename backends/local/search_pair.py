"""The two full-text indexes read side by side: the messages' on the caller's connection, the heads' on a
second connection in a thread of its own.

A search asks both indexes (search.py), and SQLite lets go of Python's lock while it reads, so the two run on
two cores at once. At a million conversations the messages' index takes about 60% of a search and the heads'
30%: "where is my ord" went from 45 to 30 ms. Without a second connection (a caller that has one only), the
two run one after the other, with the same results.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Statement = tuple[str, Sequence[Any]]

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _heads_thread() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-heads")
        return _pool


def _rows(db: sqlite3.Connection, statement: Statement) -> list[Any]:
    return db.execute(statement[0], statement[1]).fetchall()


def both(
    db: sqlite3.Connection, heads_db: sqlite3.Connection | None, messages: Statement, heads: Statement
) -> tuple[list[Any], list[Any]]:
    """The rows of `messages` on `db` and of `heads` on `heads_db` (on `db` after the first, without it)."""
    if heads_db is None:
        return _rows(db, messages), _rows(db, heads)
    pending = _heads_thread().submit(_rows, heads_db, heads)
    try:
        found = _rows(db, messages)
    finally:
        other = pending.result()  # waited for even when the first failed: the connection is free again
    return found, other


def open_second(path: str, *, cache_kib: int | None = None) -> sqlite3.Connection:
    """A second connection to the workspace file for the heads' index, usable from any one thread at a time;
    `cache_kib`: its page cache (SQLite's default, 2 MB, when None)."""
    db = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout = 60000")
    db.execute("PRAGMA query_only = ON")  # it reads the index, and nothing else
    if cache_kib is not None:
        db.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    return db


__all__ = ["both", "open_second"]
