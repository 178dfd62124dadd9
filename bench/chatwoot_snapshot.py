"""Chatwoot snapshot benchmark: 10,000 open conversations through the adapter, from the fake Chatwoot of the
tests (tests/chatwoot_fake.py) on 127.0.0.1, run in a child process so that only the adapter is measured.

    .venv/bin/python bench/chatwoot_snapshot.py [--count 10000] [--concurrency 4] [--smoke]

Prints the time of `connect()` + `snapshot()`, the CPU the adapter's process spent on the snapshot (REST pages of 25, fetched `concurrency` at a time once page 1
has told the count), the peak of Python allocations during the snapshot (tracemalloc) and the process's RSS
growth. The fake does not validate against the OpenAPI document here (the tests do): the figure is the
adapter's and the loopback's, not openapi-core's.
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


async def serve(count: int) -> None:
    """The child: a fake Chatwoot holding `count` open conversations; prints its port and token, then serves
    until its standard input closes."""
    from chatwoot_fake import FakeChatwoot

    fake = FakeChatwoot(check_spec=False, ping_every=3.0)
    now = time.time() - count
    channels = ("chat", "email", "social")
    for n in range(count):
        fake.add_conversation(channels[n % 3], f"Subject {n}", f"Message {n}", f"customer{n % 2000}",
                              broadcast=False, at=now + n)
    await fake.start()
    print(json.dumps({"port": fake.port, "token": fake.token}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await fake.stop()


async def measure(port: int, token: str, concurrency: int) -> dict[str, float]:
    import psutil
    from standardiste.backends.chatwoot import ChatwootBackend, parse_settings

    settings = parse_settings("bench", {"url": f"http://127.0.0.1:{port}", "account": 1,
                                        "statuses": ["open"], "page_concurrency": concurrency})
    with tempfile.TemporaryDirectory() as data:
        backend = ChatwootBackend("bench", settings, agent_id="ann", data_dir=Path(data), secret=lambda: token)
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
        count = len(snapshot.conversations)
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
        "conversations": count,
        "connect_s": round(connected - started, 3),
        "snapshot_s": round(done - connected, 3),
        # The adapter's own CPU (this process only): steadier than the wall time on a shared machine.
        "adapter_cpu_s": round(cpu, 3),
        "ms_per_1000": round((done - connected) / max(count, 1) * 1_000_000, 1),
        "peak_python_mb": round(peak / 1e6, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--smoke", action="store_true", help="200 conversations, for CI")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve))
        return
    count = 200 if args.smoke else args.count
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(count)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            raise SystemExit("the fake Chatwoot did not start")
        started = json.loads(line)
        figures = asyncio.run(measure(started["port"], started["token"], args.concurrency))
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    for name, value in figures.items():
        print(f"{name:>16}: {value}")
    if figures["conversations"] != count:
        raise SystemExit(f"expected {count} conversations, got {figures['conversations']}")


if __name__ == "__main__":
    main()
