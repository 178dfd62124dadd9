"""Zendesk snapshot benchmark: 10,000 unsolved tickets through the adapter, from the fake Zendesk of the tests
(tests/zendesk_fake.py) on 127.0.0.1, run in a child process so that only the adapter is measured.

    .venv/bin/python bench/zendesk_snapshot.py [--count 10000] [--customers 2000] [--smoke]

Prints the time of `connect()` (the agent, the agents, the groups, the views, Talk availability) and of
`snapshot()` (Export Search Results of `type:ticket status<solved`, cursor pages of 100, then the requesters
by Show Many Users, 100 a request), the CPU the adapter's process spent on the snapshot, the requests it
made, the peak of Python allocations during the snapshot (tracemalloc) and the process's RSS growth. The fake
still checks every request against the reference it was written from; it answers a repeated search from the
first page's result (its tickets do not change here), so that the figure is the adapter's and the loopback's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


async def serve(count: int, customers: int) -> None:
    """The child: a fake Zendesk holding `count` unsolved tickets; prints its port and token, then serves
    until its standard input closes (then prints what it saw)."""
    from zendesk_fake import FakeZendesk

    fake = FakeZendesk(record=False, cache_searches=True, account_limit=1_000_000, search_export_limit=1_000_000)
    now = time.time() - count
    channels = ("email", "form", "chat", "social", "phone")
    for n in range(count):
        fake.add_ticket(
            channels[n % 5],
            f"Subject {n}",
            f"Message {n}",
            f"customer{n % customers}",
            status=("new", "open", "pending")[n % 3],
            at=now + n,
        )
    await fake.start()
    print(json.dumps({"port": fake.port, "token": fake.token}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await fake.stop()
    print(json.dumps({"violations": fake.violations[:5]}), flush=True)


async def measure(port: int, token: str) -> dict[str, float]:
    import psutil
    from standardiste.backends.zendesk import ZendeskBackend, parse_settings

    settings = parse_settings("bench", {"url": f"http://127.0.0.1:{port}", "email": "ann@example.test"})
    with tempfile.TemporaryDirectory() as data:
        backend = ZendeskBackend("bench", settings, agent_id="ann", data_dir=Path(data), secret=lambda: token)
        process = psutil.Process()
        gc.collect()
        rss_before = process.memory_info().rss
        started = time.perf_counter()
        await backend.connect()
        connected = time.perf_counter()
        cpu_before = time.process_time()
        snapshot = await backend.snapshot()
        done = time.perf_counter()
        cpu = time.process_time() - cpu_before
        rss_after = process.memory_info().rss
        count, customers = len(snapshot.conversations), len(snapshot.customers)
        del snapshot
        # A second snapshot under tracemalloc (which slows Python down: not timed) for the allocation peak.
        gc.collect()
        tracemalloc.start()
        again = await backend.snapshot()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del again
        await backend.close()
    return {
        "tickets": count,
        "customers": customers,
        "connect_s": round(connected - started, 3),
        "snapshot_s": round(done - connected, 3),
        "adapter_cpu_s": round(cpu, 3),
        "ms_per_1000": round((done - connected) / max(count, 1) * 1_000_000, 1),
        "peak_python_mb": round(peak / 1e6, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--smoke", action="store_true", help="300 tickets, for CI")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve, args.customers))
        return
    count = 300 if args.smoke else args.count
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count), "--customers", str(args.customers)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    violations: list[str] = []
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            raise SystemExit("the fake Zendesk did not start")
        started = json.loads(line)
        figures = asyncio.run(measure(started["port"], started["token"]))
    finally:
        if child.stdin:
            child.stdin.close()
        if child.stdout is not None:
            ending = child.stdout.readline()
            violations = json.loads(ending)["violations"] if ending else []
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    for name, value in figures.items():
        print(f"{name:>16}: {value}")
    if violations:
        raise SystemExit(f"requests outside the reference: {violations}")
    if figures["tickets"] != count:
        raise SystemExit(f"expected {count} tickets, got {figures['tickets']}")


if __name__ == "__main__":
    main()
