"""A change made on one machine reaches another machine's console within 100 ms (p95): two processes, two
connections to one PostgreSQL server, the change announced by NOTIFY and read from the log by seq.

The writer (tests/helpers/pg_writer.py) stamps each conversation's subject with the time of its commit;
this process runs the console's backend and notes when each arrives in its events. One machine's clock
serves both, so the difference is the whole path: commit, notification, read, event.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from standardiste.backends.base import ConversationUpserted
from standardiste.backends.local import LocalBackend

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
CHANGES = 60


@pytest.mark.timeout(120)
async def test_a_change_on_another_machine_is_seen_within_100_ms(pg_dsn: str) -> None:
    # No catch-up read within the test: only a notification can bring a change this fast.
    console = LocalBackend(pg_dsn, agent_id="alice", catch_up_interval=30.0)
    await console.connect()
    await console.snapshot()
    writer = subprocess.Popen(
        [sys.executable, str(HELPERS / "pg_writer.py"), pg_dsn, str(CHANGES), "0.03"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    latencies: dict[int, float] = {}
    events = console.events()
    try:
        assert writer.stdout is not None and writer.stdin is not None
        assert writer.stdout.readline().strip() == "ready"
        writer.stdin.write("go\n")
        writer.stdin.flush()
        deadline = time.monotonic() + 60
        while len(latencies) < CHANGES:
            batch = await asyncio.wait_for(events.__anext__(), max(0.1, deadline - time.monotonic()))
            arrived = time.time()
            for event in batch:
                if isinstance(event, ConversationUpserted) and event.conversation.subject.startswith("seen "):
                    _, n, stamp = event.conversation.subject.split()
                    latencies.setdefault(int(n), arrived - float(stamp))
        assert writer.wait(timeout=30) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
        await events.aclose()
        await console.close()
    ordered = sorted(latencies.values())
    p50, p95 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95) - 1]
    print(f"\nchange -> other console over PostgreSQL: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    assert p95 <= 0.100, f"p95 {p95 * 1000:.0f} ms (p50 {p50 * 1000:.0f} ms)"
