"""The workspace file's open conversations read by a second process while the console starts.

A console on 100k conversations spent 0.28 s of its one core fetching the rows from SQLite after its first
screen, and its start (imports, widgets) 0.3 s before that, with the machine's other cores idle. Here the
console forks at its very start, before its imports (the parent is then small and has no thread), and the
child reads the rows in one read transaction with the change log's position, and hands them over in an
anonymous file as marshal records (60 ms to load against 280 ms to fetch, measured at 100k). The snapshot
(local/backend.py) takes them when the file's schema is the one the child read; in every other case (another
file, a migration, a child that failed) it reads the file itself, as before. Changes written after the
child's read are in the change log past its position: the feed delivers them, as after any snapshot.

The queue's head first: in the same transaction, before the rest, the child reads the queue's first rows by
its index (local_queue_order.py) with the agents, into a memory file of their own, and says so on a pipe. The
console takes them before its first frame (`Prefetch.head`, `LocalBackend.ready_head`), which then shows the
queue: the head came 0.1 s after the first frame when the console read it itself once connected.

Only on Linux (fork without exec elsewhere is unsafe or slow), and only for the file the console will open as
its local workspace (`__main__.ahead_path`: the one `--db` names, or the default one).
"""

from __future__ import annotations

import gc
import marshal
import os
import select
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from .local_columns import AGENT_COLUMNS, CONVERSATION_COLUMNS, LOADED_WHERE, RECENT_SECONDS

# The console reads the file's snapshot a fraction of a second after its start; a prefetch nobody claims by
# then (its console opened another workspace) is dropped, and its data with it.
UNCLAIMED_SECONDS = 30.0
# Rows per marshal record: the console decodes a record's rows and drops them before it loads the next one,
# so that 100k raw rows are never in its memory at once (whole, they were 60 MB over the 114 it needs).
ROWS_PER_RECORD = 2_000
# The head's rows: as many as the console asks for (console/core/hub.py HEAD_ROWS, checked by a test).
HEAD_ROWS = 200
_BUFFER = 1 << 20
_HEAD_READY = b"h"


@dataclass(frozen=True, slots=True)
class Prefetched:
    """What the child read in one read transaction: the change log's position, the schema version and the
    rows (CONVERSATION_COLUMNS), a record at a time."""

    seq: int
    schema_version: str | None
    records: Iterator[list[tuple[Any, ...]]]


@dataclass(frozen=True, slots=True)
class PrefetchedHead:
    """The queue's first rows (at most HEAD_ROWS, in the queue's order) and the agents, read in the
    transaction of the rest: `schema_version` says which schema their columns are."""

    schema_version: str | None
    rows: list[tuple[Any, ...]]
    agents: list[tuple[Any, ...]]


class Prefetch:
    def __init__(self, path: Path, pid: int, fd: int, head_fd: int, head_ready: int) -> None:
        self.path = path
        self._pid = pid
        self._fd = fd
        self._head_fd = head_fd
        self._head_ready = (
            head_ready  # the pipe's end the child writes _HEAD_READY to, once the head is written
        )
        self._lock = threading.Lock()
        self._taken = False
        self._head_taken = False
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
            self._close_head()
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

    def head(self, wait: float) -> PrefetchedHead | None:
        """The queue's head, if the child has written it within `wait` seconds; once. None otherwise (the
        child failed, read a file without the queue's index, or is slower than the console): the console then
        reads the head itself once connected."""
        with self._lock:
            if self._taken or self._head_taken:
                return None
            self._head_taken = True
            try:
                ready, _, _ = select.select([self._head_ready], [], [], wait)
                if not ready or os.read(self._head_ready, 1) != _HEAD_READY:
                    return None
                with os.fdopen(os.dup(self._head_fd), "rb", buffering=_BUFFER) as data:
                    data.seek(0)
                    version, rows, agents = _load(data)
                return PrefetchedHead(None if version is None else str(version), list(rows), list(agents))
            except (OSError, EOFError, ValueError, TypeError):
                return None
            finally:
                self._close_head()

    def _close_head(self) -> None:
        """The head's file and pipe, given back once taken or no longer wanted (the child's write, if it comes
        later, fails on the closed pipe and the child goes on with the rest)."""
        for fd in (self._head_fd, self._head_ready):
            if fd >= 0:
                os.close(fd)
        self._head_fd = self._head_ready = -1

    def drop(self) -> None:
        """Not wanted: the child reaped and what it wrote freed."""
        with self._lock:
            if self._taken:
                return
            self._taken = True
            self._close_head()
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
    head_fd = os.memfd_create("standardiste-head", os.MFD_CLOEXEC)
    head_ready, head_written = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # the child: read, write, and leave without running anything of the parent's
        code = 1
        try:
            gc.disable()  # a short life, every row freed as written: the collector would walk them for nothing
            os.close(head_ready)
            with (
                os.fdopen(os.dup(fd), "wb", buffering=_BUFFER) as out,
                os.fdopen(os.dup(head_fd), "wb", buffering=_BUFFER) as head_out,
            ):
                _read(path, out, head_out, head_written)
            code = 0
        finally:
            os._exit(code)
    os.close(head_written)
    prefetch = Prefetch(path.resolve(), pid, fd, head_fd, head_ready)
    prefetch._timer.start()
    _started[prefetch.path] = prefetch
    return prefetch


def claim(path: Path) -> Prefetch | None:
    """The prefetch started for this file, once: the first snapshot takes it."""
    return _started.pop(path.resolve(), None)


def peek(path: Path) -> Prefetch | None:
    """The prefetch started for this file, left for the snapshot to claim (the head is taken before it)."""
    return _started.get(path.resolve())


def _read(path: Path, out: BinaryIO, head_out: BinaryIO, head_written: int) -> None:
    import sqlite3

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        # A file locked by a writer (a journal other than WAL, being migrated) fails the child soon, and the
        # console reads the file itself, rather than waiting on its reader.
        db.execute("PRAGMA busy_timeout = 2000")
        db.execute("BEGIN")  # the rows and the change log's position from the same moment
        (seq,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()
        found = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = None if found is None else str(found[0])
        cutoff = time.time() - RECENT_SECONDS
        _read_head(db, version, cutoff, head_out, head_written)
        _dump((int(seq), version), out)
        rows = db.execute(f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {LOADED_WHERE}", (cutoff,))
        while record := rows.fetchmany(ROWS_PER_RECORD):
            _dump(record, out)
        _dump(None, out)
        db.execute("COMMIT")
    finally:
        db.close()


def _read_head(db: Any, version: str | None, cutoff: float, out: BinaryIO, written: int) -> None:
    """The queue's first rows by its index, and the agents; nothing on a file without the index, where the
    same read would sort every open row."""
    indexed = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'conversations_queue'")
    if indexed.fetchone() is None:
        return
    from .local_queue_order import HEAD_WHERE, ORDER

    rows = db.execute(
        f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {HEAD_WHERE} ORDER BY {ORDER} LIMIT ?",
        (cutoff, HEAD_ROWS),
    ).fetchall()
    agents = db.execute(f"SELECT {AGENT_COLUMNS} FROM agents ORDER BY id").fetchall()
    _dump((version, rows, agents), out)
    out.flush()
    try:
        os.write(written, _HEAD_READY)
    except OSError:  # the console no longer waits for it (BrokenPipeError): the rest is still wanted
        pass
    finally:
        os.close(written)
