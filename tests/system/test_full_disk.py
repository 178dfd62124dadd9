"""The real console on a REAL full file system: no crash, the storage trouble said, the draft written later.

A small ext4 image is mounted on a loop device (a size-limited tmpfs where loop devices are missing), the
workspace file and the console's data (drafts, outbox) live on it, and once the console runs the disk is
filled to the last byte. The agent opens a conversation (an unjournalled "viewing" write), types a reply
(the drafts' debounced save) and moves around: before issue 11's fix the console died with a traceback and
the reply was gone. Now it carries on, says "not saved" in the status line, keeps the text in memory, and
writes it once the filler file is removed. Mounting needs root: in CI (CI=true) it must work; elsewhere,
not root, the test is skipped.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_harness import Contact, seed
from standardiste.console.core.model import Channel
from test_console_crash import Console, _wait

REPLY = "Dear John, the invoice is attached"


def _run(*command: str | Path) -> bool:
    return subprocess.run([str(c) for c in command], capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs this test as root: it mounts a small file system")
        pytest.skip("mounting a small file system needs root (CI runs it as root)")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    image = tmp_path / "disk.img"
    mounted = (
        _run("truncate", "-s", "12M", image)
        and _run("mkfs.ext4", "-q", "-F", "-m", "0", image)  # -m 0: no blocks reserved for root
        and _run("mount", "-o", "loop", image, mnt)
    ) or _run("mount", "-t", "tmpfs", "-o", "size=4M", "tmpfs", mnt)
    if not mounted:
        pytest.fail("as root, neither a loop-mounted ext4 image nor a tmpfs could be mounted")
    try:
        yield mnt
    finally:
        if not _run("umount", mnt):
            _run("umount", "-l", mnt)


def _fill(directory: Path) -> Path:
    """Write a file until the file system has not one byte left."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
    assert os.statvfs(directory).f_bavail == 0
    return filler


def _draft(data: Path, conversation_id: str) -> str | None:
    path = data / "drafts-alice.db"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        row = connection.execute(
            "SELECT body FROM drafts WHERE conversation_id = ?", (conversation_id,)
        ).fetchone()
    return row[0] if row else None


def test_a_full_disk_is_said_and_the_draft_is_written_when_space_returns(small_disk: Path) -> None:
    db = small_disk / "ws.db"
    john, _ = seed(
        db,
        [
            Contact(Channel.EMAIL, "John Smith", "en", "Invoice request", age=600),
            Contact(Channel.EMAIL, "Anna Müller", "de", "Rechnung", age=300),
        ],
        now=time.time(),
    )
    (small_disk / "config.toml").write_text('agent = "alice"\nundo_seconds = 0\nbell = false\n')
    console = Console(small_disk, db)  # config, drafts and outbox on the small disk too
    try:
        console.read_until(b"Invoice request")
        _wait(lambda: (small_disk / "data" / "drafts-alice.db").exists())
        time.sleep(0.5)
        filler = _fill(small_disk)

        console.type("\r")  # open John's email: the "viewing" mark cannot be written
        console.type("r")
        console.type(REPLY)  # its debounced draft save cannot be written either
        console.read_until(b"not saved", timeout=15)
        console.type("\x1b")  # leave the composer: the text lives on in memory
        time.sleep(0.3)
        console.type("jk\r")  # move around: more refused writes
        time.sleep(1.0)
        assert console.process.poll() is None, "the console died on a full disk"
        assert b"Traceback" not in console.output
        assert _draft(small_disk / "data", john) is None  # really refused by the disk, not written

        filler.unlink()
        freed = time.monotonic()
        _wait(lambda: _draft(small_disk / "data", john) == REPLY, timeout=20)
        print(f"draft written {time.monotonic() - freed:.1f} s after space returned")
        assert console.process.poll() is None

        console.type("\x11")  # ctrl+q: nothing is cut off, it quits
        assert console.process.wait(timeout=20) == 0
    finally:
        if console.process.poll() is None:
            console.kill()
    assert b"Traceback" not in console.output
