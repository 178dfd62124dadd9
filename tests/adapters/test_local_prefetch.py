"""A workspace file's snapshot read by a reader process forked at the console's start (local_prefetch.py).

Each scenario runs in a fresh interpreter, as the console does (the fork happens before anything else, with one
thread): the snapshot the backend takes from the child must be the one it would have read itself, a change
written around the child's read must reach the console either in the snapshot or through the change feed, and a
child that failed or read another schema leaves the backend to read the file itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app_harness import seed

SCENARIO = """
import asyncio, json, sqlite3, sys, time
from pathlib import Path
from standardiste.backends import local_prefetch

path = Path(sys.argv[1])
mode = sys.argv[2]
if mode == "failing":
    def _fail(path, out, *head):
        raise RuntimeError("the child cannot read")
    local_prefetch._read = _fail
if mode == "old-schema":
    def _old(path, out, *head):
        local_prefetch._dump((0, "0"), out)
        local_prefetch._dump(None, out)
    local_prefetch._read = _old
if mode == "cut-short":
    def _cut(path, out, *head):
        from standardiste.backends.local.rows import SCHEMA_VERSION
        local_prefetch._dump((0, SCHEMA_VERSION), out)
        out.write((1000).to_bytes(8, "little") + b"not a thousand bytes of rows")
    local_prefetch._read = _cut
if mode == "head-old-schema":
    _real_head = local_prefetch._read_head
    local_prefetch._read_head = lambda db, version, *rest: _real_head(db, "0", *rest)
if mode == "no-index":
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("DROP INDEX conversations_queue")
    db.close()
started = local_prefetch.start(path)
assert started is not None, "no prefetch"
if mode == "written-after":
    # Another console writes once the child has read (it has exited): the change is not in the
    # rows the child read, and must come through the change feed, from the position read with them.
    deadline = time.time() + 10
    while open(f"/proc/{started._pid}/stat").read().split()[2] != "Z" and time.time() < deadline:
        time.sleep(0.005)  # until the child is done (a zombie, not yet reaped)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 10000")
    db.execute("UPDATE conversations SET subject = 'changed meanwhile', version = version + 1 WHERE id = 1")
    db.close()

from standardiste.backends.local import LocalBackend, Workspace
from standardiste.backends.local import backend as backend_module
from standardiste.console.core.hub import HEAD_ROWS

backend_module.READY_HEAD_WAIT = 30.0  # a slow machine's child is waited for: the test is what it read

from_child = []
_prefetched = LocalBackend._prefetched
def _recorded(self):
    rows = _prefetched(self)
    from_child.append(rows is not None)
    return rows
LocalBackend._prefetched = _recorded

async def main():
    backend = LocalBackend(path, agent_id="alice", poll_interval=0.02)
    ready = backend.ready_head(HEAD_ROWS)
    head = None if ready is None else [c.id for c in ready.conversations]
    again = backend.ready_head(HEAD_ROWS)
    await backend.connect()
    snapshot = await backend.snapshot()
    used = local_prefetch.claim(path) is None and started._taken
    subjects = {c.id: c.subject for c in snapshot.conversations}
    seq = backend._seq
    events = []
    if mode == "written-after":
        async def first_batch():
            async for batch in backend.events():
                events.extend(batch)
                if any(getattr(e, "conversation", None) is not None and e.conversation.id == "local:1"
                       for e in events):
                    return
        await asyncio.wait_for(first_batch(), 10)
        for event in events:
            conversation = getattr(event, "conversation", None)
            if conversation is not None:
                subjects[conversation.id] = conversation.subject
    await backend.close()
    ws = Workspace(path)
    direct = {c.id: c.subject for c in ws.conversations()}
    queue_head = [c.id for c in ws.queue_head(HEAD_ROWS)]
    print(json.dumps({"head": head, "again": again is not None, "queue_head": queue_head, "used": used, "from_child": from_child, "subjects": subjects, "direct": direct, "seq": seq,
                      "last_change": ws.last_change(), "count": len(snapshot.conversations)}))

asyncio.run(main())
"""


def _run(tmp_path: Path, mode: str) -> dict[str, object]:
    """The scenario `mode` on a new workspace of eight conversations, in a fresh interpreter."""
    path = tmp_path / f"{mode}.db"
    seed(path)
    result = subprocess.run(
        [sys.executable, "-c", SCENARIO, str(path), mode], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_snapshot_from_the_reader_is_the_one_the_backend_would_read(tmp_path: Path) -> None:
    found = _run(tmp_path, "plain")
    assert found["used"] is True
    assert found["from_child"] == [True]
    assert found["count"] == 8
    assert found["subjects"] == found["direct"]


def test_a_change_written_around_the_read_reaches_the_console(tmp_path: Path) -> None:
    found = _run(tmp_path, "written-after")
    assert found["used"] is True
    assert found["from_child"] == [True]
    subjects = found["subjects"]
    assert isinstance(subjects, dict)
    assert subjects["local:1"] == "changed meanwhile"
    assert subjects == found["direct"]


def test_the_queue_s_head_is_ready_before_connecting_in_the_queue_s_order(tmp_path: Path) -> None:
    found = _run(tmp_path, "plain")
    assert found["head"] == found["queue_head"] and len(found["queue_head"]) == 8  # type: ignore[arg-type]
    assert found["again"] is False  # taken once
    assert found["from_child"] == [True] and found["count"] == 8  # the rest still from the reader


def test_no_ready_head_from_another_schema_or_a_file_without_the_queue_s_index(tmp_path: Path) -> None:
    for mode in ("head-old-schema", "no-index"):
        found = _run(tmp_path, mode)
        assert found["head"] is None, mode
        assert found["from_child"] == [True], mode
        assert found["subjects"] == found["direct"], mode


def test_a_child_that_failed_read_another_schema_or_wrote_short_leaves_the_backend_to_read_the_file(
    tmp_path: Path,
) -> None:
    for mode in ("failing", "old-schema", "cut-short"):
        found = _run(tmp_path, mode)
        assert found["from_child"] == [False], mode
        assert found["head"] is None, mode
        assert found["count"] == 8, mode
        assert found["subjects"] == found["direct"], mode
        assert found["seq"] == found["last_change"], mode
