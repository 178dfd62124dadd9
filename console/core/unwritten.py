"""Drafts a full disk kept out of the drafts file: held in memory until they can be written.

When a draft cannot be written for its storage (a full disk, a read-only or failing file system), what the
agent typed must not be lost: `Drafts` keeps the latest version of each such draft here (or a `Removed` for
a removal that could not be written), answers `load` and `all` from it first, and `Drafts.flush` writes it
when space returns. The write still raises `DraftsUnwritable`, so the caller knows it is not on disk (and
a console killed meanwhile loses only what it could never have written).

Not thread-safe by itself: `Drafts` calls it under its own lock.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .storage import storage_problem

if TYPE_CHECKING:
    from .model import Draft


class DraftsUnwritable(OSError):
    """The draft is kept in memory, not in the file (the storage's fault); `Drafts.flush` writes it later."""

    def __init__(self, problem: str, detail: str) -> None:
        super().__init__(errno.ENOSPC if problem == "disk full" else errno.EIO, detail)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Removed:
    """A removal that could not be written: the draft is gone for the console, not yet from the file."""

    conversation_id: str
    key: str | None = None  # only the draft of that reply (drafts.py `discard(key=...)`)


class Unwritten:
    def __init__(self) -> None:
        self.pending: dict[str, Draft | Removed] = {}
        self.problem = ""

    def __len__(self) -> int:
        return len(self.pending)

    @contextmanager
    def writing(self, draft: Draft) -> Iterator[None]:
        """Around the write of `draft`: kept here if the storage refuses it, forgotten once it is written."""
        try:
            yield
        except sqlite3.OperationalError as error:
            self._refused(error)
            self.pending[draft.conversation_id] = draft
            raise DraftsUnwritable(self.problem, f"the draft is kept in memory: {error}") from error
        self.pending.pop(draft.conversation_id, None)

    @contextmanager
    def removing(self, conversation_id: str, key: str | None = None) -> Iterator[None]:
        """Around a removal. With `key`, a newer unwritten draft (another key) of the conversation stays."""
        pending = self.pending.get(conversation_id)
        concerned = pending is None or key is None or isinstance(pending, Removed) or pending.key == key
        try:
            yield
        except sqlite3.OperationalError as error:
            self._refused(error)
            if concerned:
                self.pending[conversation_id] = Removed(conversation_id, key)
            raise DraftsUnwritable(self.problem, f"the removal is kept in memory: {error}") from error
        if concerned:
            self.pending.pop(conversation_id, None)

    def _refused(self, error: sqlite3.OperationalError) -> None:
        problem = storage_problem(error)
        if problem is None:
            raise error  # not the storage's: a bug or a locked file, not to be hidden here
        self.problem = problem

    def load(self, conversation_id: str, on_disk: Draft | None) -> Draft | None:
        pending = self.pending.get(conversation_id)
        if pending is None:
            return on_disk
        return None if isinstance(pending, Removed) else pending

    def merge(self, on_disk: list[Draft]) -> list[Draft]:
        """`Drafts.all` with what is held here in place of the file's versions, most recent first."""
        if not self.pending:
            return on_disk
        drafts = {d.conversation_id: d for d in on_disk}
        for conversation_id, pending in self.pending.items():
            if isinstance(pending, Removed):
                drafts.pop(conversation_id, None)
            else:
                drafts[conversation_id] = pending
        return sorted(drafts.values(), key=lambda d: (-d.updated_at, d.conversation_id))

    def waiting(self) -> list[Draft | Removed]:
        return list(self.pending.values())


__all__ = ["DraftsUnwritable", "Removed", "Unwritten"]
