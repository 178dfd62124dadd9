"""The workspace file's open conversations read by a second process while the console starts.

A console on 100k conversations spent 0.28 s of its one core fetching the rows from SQLite after its first
screen, and its start (imports, widgets) 0.3 s before that, with the machine's other cores idle. Here the
console forks at its very start, before its imports (the parent is then small and has no thread), and the
child reads the rows in one read transaction with the change log's position, and hands them over in an
anonymous file as marshal records (60 ms to load against 280 ms to fetch, measured at 100k). The snapshot
(local/backend.py) takes them when the file's schema is the one the child read; in every other case (another
file, a migration, a child that failed) it reads the file itself, as before. Changes written after the
child's read are in the change log past its position: the feed delivers them, as after any snapshot.

Only on Linux (fork without exec elsewhere is unsafe or slow), and only for the file the console will open as
its local workspace (`__main__.ahead_path`: the one `--db` names, or the default one).
"""

from __future__ import annotations

import gc
import marshal
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .local_columns import CONVERSATION_COLUMNS, LOADED_WHERE, RECENT_SECONDS

# The console reads the file's snapshot a fraction of a second after its start; a prefetch nobody claims by
# then (its console opened another workspace) is dropped, and its data with it.
UNCLAIMED_SECONDS = 30.0
# Rows per marshal record: the console decodes a record's rows and drops them before it loads the next one,
# so that 100k raw rows are never in its memory at once (whole, they were 60 MB over the 114 it needs).
ROWS_PER_RECORD = 2_000
_BUFFER = 1 << 20


@dataclass(frozen=True, slots=True)
class Prefetched:
    """What the child read in one read transaction: the change log's position, the schema version and the
    rows (CONVERSATION_COLUMNS), a record at a time."""

    seq: int
    schema_version: str | None
    records: Iterator[list[tuple[Any, ...]]]


class Prefetch:
    def __init__(self, path: Path, pid: int, fd: int) -> None:
        self.path = path
        self._pid = pid
        self._fd = fd
        self._lock = threading.Lock()
        self._taken = False
        timer = threading.Timer(UNCLAIMED_SECONDS, self.drop)
        timer.daemon = True
        self._timer = timer

    def take(self) -> Prefetched | None:
        """What the child read, once it is done (blocks until then); None if it failed or was dropped."""
        with self._lock:
            if self._taken:
                return None
            self._taken = True
            self._timer.cancel()
            if _reap(self._pid) != 0:
                os.close(self._fd)
                return None
            os.lseek(self._fd, 0, os.SEEK_SET)
            data = os.fdopen(self._fd, "rb", buffering=_BUFFER)  # closes the file once read
        try:
            seq, version = _load(data)
        except (EOFError, ValueError, TypeError):
            data.close()
            return None
        return Prefetched(int(seq), version, _records(data))

    def drop(self) -> None:
        """Not wanted: the child reaped and what it wrote freed."""
        with self._lock:
            if self._taken:
                return
            self._taken = True
            os.close(self._fd)
            _reap(self._pid)


def _records(data: BinaryIO) -> Iterator[list[tuple[Any, ...]]]:
    with data:
        while (record := _load(data)) is not None:
            yield record


# A record: its length in 8 bytes, then its marshal bytes, loaded whole (marshal.load on a file reads it in
# small pieces: 0.64 s for 100k rows against 0.06).
def _dump(value: object, out: BinaryIO) -> None:
    data = marshal.dumps(value)
    out.write(len(data).to_bytes(8, "little"))
    out.write(data)


def _load(data: BinaryIO) -> Any:
    size = data.read(8)
    if len(size) < 8:
        raise EOFError("a record cut short")
    body = data.read(int.from_bytes(size, "little"))
    return marshal.loads(body)


def _reap(pid: int) -> int:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return -1
    return os.waitstatus_to_exitcode(status)


_started: dict[Path, Prefetch] = {}


def start(path: Path) -> Prefetch | None:
    """Fork the reader of `path` (an existing file); None where it cannot run."""
    if not sys.platform.startswith("linux") or not path.is_file() or threading.active_count() > 1:
        return None
    # An anonymous file in memory: the child never waits for the console to read (a pipe holds 64 KB), and
    # nothing is left behind, whatever happens to either process.
    fd = os.memfd_create("standardiste-snapshot", os.MFD_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # the child: read, write, and leave without running anything of the parent's
        code = 1
        try:
            gc.disable()  # a short life, every row freed as written: the collector would walk them for nothing
            with os.fdopen(os.dup(fd), "wb", buffering=_BUFFER) as out:
                _read(path, out)
            code = 0
        finally:
            os._exit(code)
    prefetch = Prefetch(path.resolve(), pid, fd)
    prefetch._timer.start()
    _started[prefetch.path] = prefetch
    return prefetch


def claim(path: Path) -> Prefetch | None:
    """The prefetch started for this file, once: the first snapshot takes it."""
    return _started.pop(path.resolve(), None)


def _read(path: Path, out: BinaryIO) -> None:
    import sqlite3

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        # A file locked by a writer (a journal other than WAL, being migrated) fails the child soon, and the
        # console reads the file itself, rather than waiting on its reader.
        db.execute("PRAGMA busy_timeout = 2000")
        db.execute("BEGIN")  # the rows and the change log's position from the same moment
        (seq,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()
        found = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        _dump((int(seq), None if found is None else str(found[0])), out)
        rows = db.execute(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {LOADED_WHERE}",
            (time.time() - RECENT_SECONDS,),
        )
        while record := rows.fetchmany(ROWS_PER_RECORD):
            _dump(record, out)
        _dump(None, out)
        db.execute("COMMIT")
    finally:
        db.close()
