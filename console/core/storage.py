"""Storage trouble: a full disk, a read-only or failing file system. Said in the status line, never raised.

A write that fails for lack of space must not take the console down (the traceback and the lost reply of
issue 11): what the agent typed stays in memory and is written when space returns, and the status line says
what is not being saved ("⚠ not saved: drafts, workspace (disk full)") until it is again. Each place that
writes reports here under its own name; `clear` when a write there succeeds again.
"""

from __future__ import annotations

import errno
import sqlite3

_ERRNO = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "quota exceeded",
    errno.EROFS: "read-only",
    errno.EIO: "I/O error",
}
# SQLite says it in words (SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR), as OperationalError.
_SQLITE = (
    ("disk is full", "disk full"),
    ("readonly", "read-only"),
    ("read-only", "read-only"),
    ("disk i/o error", "I/O error"),
)


def storage_problem(error: BaseException | None) -> str | None:
    """ "disk full", "read-only", "I/O error" or "quota exceeded" when `error` or one of its causes is the
    storage's; None for anything else (a bug, a refused command), which must not be hidden as storage."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        problem = getattr(error, "storage_problem", None)  # a storage of its own kind says it itself
        if isinstance(problem, str) and problem:
            return problem
        if isinstance(error, sqlite3.DatabaseError):
            text = str(error).lower()
            for words, problem in _SQLITE:
                if words in text:
                    return problem
        elif isinstance(error, OSError) and error.errno in _ERRNO:
            return _ERRNO[error.errno]
        error = error.__cause__ or error.__context__
    return None


class StorageTrouble:
    """What cannot be written now, by place ("workspace", "drafts", ...), for the status line."""

    def __init__(self) -> None:
        self._problems: dict[str, str] = {}

    def report(self, where: str, error: BaseException) -> bool:
        """Record `error` for `where` if it is a storage problem; True if it was (the caller then carries on)."""
        problem = storage_problem(error)
        if problem is None:
            return False
        self._problems[where] = problem
        return True

    def note(self, where: str, problem: str) -> None:
        """A problem already classified (a writer that keeps its own, as drafts do)."""
        self._problems[where] = problem or "cannot write"

    def clear(self, where: str) -> None:
        self._problems.pop(where, None)

    def has(self, where: str) -> bool:
        return where in self._problems

    def __bool__(self) -> bool:
        return bool(self._problems)

    def summary(self) -> str:
        """ "⚠ not saved: drafts, workspace (disk full)"; "" when all is written."""
        if not self._problems:
            return ""
        by_problem: dict[str, list[str]] = {}
        for where, problem in sorted(self._problems.items()):
            by_problem.setdefault(problem, []).append(where)
        parts = [f"{', '.join(places)} ({problem})" for problem, places in by_problem.items()]
        return "⚠ not saved: " + "; ".join(parts) + ", retrying"


__all__ = ["StorageTrouble", "storage_problem"]
