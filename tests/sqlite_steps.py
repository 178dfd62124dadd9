"""How much work SQLite does for a call, counted in its virtual machine's steps: a measure of a plan (a walk
of an index against a scan of every row) that does not depend on the machine's speed, unlike a timing."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

EVERY = 10  # steps between two calls of the counter


def vm_steps(db: sqlite3.Connection, run: Callable[[], Any]) -> int:
    """The steps `run()` makes `db` take (to EVERY steps)."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0  # go on

    db.set_progress_handler(count, EVERY)
    try:
        run()
    finally:
        db.set_progress_handler(None, 0)
    return steps[0] * EVERY
