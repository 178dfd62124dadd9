"""What the help-desk snapshot benchmarks (chatwoot_snapshot.py, zendesk_snapshot.py) share: the fake server
in a child process of its own (so that only the adapter is measured in this one), and the measure of one
adapter's `connect()` and `snapshot()`: time, the adapter's CPU, the peak of Python allocations (tracemalloc,
on a second snapshot: it slows Python down) and the RSS growth.

The child prints one JSON line `{"port", "token"}` once it serves, serves until its standard input closes,
then may print one more JSON line (what it saw: the Zendesk fake's violations).
"""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


async def serve(fake: Any, report: Callable[[], dict[str, Any]] | None = None) -> None:
    """The child's part: the fake serving until standard input closes, then its `report` if any."""
    await fake.start()
    print(json.dumps({"port": fake.port, "token": fake.token}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await fake.stop()
    if report is not None:
        print(json.dumps(report()), flush=True)


async def measure(make: Callable[[Path], Any], counts: Callable[[Any], dict[str, int]]) -> dict[str, float]:
    """Connect and snapshot the adapter `make` builds (given a data folder); `counts` names what the
    snapshot holds (its first figure is the one per 1000 is reckoned on)."""
    import psutil

    with tempfile.TemporaryDirectory() as data:
        backend = make(Path(data))
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
        counted = counts(snapshot)
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
        **counted,
        "connect_s": round(connected - started, 3),
        "snapshot_s": round(done - connected, 3),
        # The adapter's own CPU (this process only): steadier than the wall time on a shared machine.
        "adapter_cpu_s": round(cpu, 3),
        "ms_per_1000": round((done - connected) / max(count, 1) * 1_000_000, 1),
        "peak_python_mb": round(peak / 1e6, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 1e6, 1),
    }


def run(
    script: str,
    serve_args: Sequence[str],
    what: str,
    figures_of: Callable[[int, str], dict[str, float]],
) -> tuple[dict[str, float], dict[str, Any]]:
    """`script --serve ...` as the child, `figures_of(port, token)` here; the figures, printed, and the
    child's closing report (empty when it gave none). `what` names the fake in an error."""
    child = subprocess.Popen(
        [sys.executable, script, "--serve", *serve_args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    report: dict[str, Any] = {}
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            raise SystemExit(f"the fake {what} did not start")
        started = json.loads(line)
        figures = figures_of(started["port"], started["token"])
    finally:
        if child.stdin:
            child.stdin.close()
        if child.stdout is not None:
            ending = child.stdout.readline()
            report = json.loads(ending) if ending else {}
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    for name, value in figures.items():
        print(f"{name:>16}: {value}")
    return figures, report


__all__ = ["ROOT", "measure", "run", "serve"]
