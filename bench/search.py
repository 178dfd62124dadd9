"""Search latency on a simulated workspace: typical queries typed prefix by prefix, p50/p95 per size.

    python bench/search.py [--sizes 10000,100000] [--keep DIR] [--repeat 3]

Each size is built with `standardiste simulate --backfill N --duration 1` (its build time printed), or
reused from --keep DIR when the file is there. Then every query below is searched as an agent types it: each
prefix from two characters on, as the console would search at each key press, `--repeat` times. Prints
figures, asserts nothing (the issue's targets: p95 <= 50 ms at 1M conversations; the console's start to a full
first screen, and its memory, at 1M within 1.2x of those at 10k: measured in a real pty, median of 3).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from standardiste.backends.local import Workspace
from standardiste.backends.local.search import search
from standardiste.backends.local.search_pair import open_second

# What agents type: an order's subject words in the shop's languages, a customer, a phrase, fields.
QUERIES = (
    "refund",
    "where is my order",
    "remboursement",
    "colis commande",
    "Rücksendung",
    "damaged item",
    '"not received"',
    "state:solved refund",
    "lang:de paket",
    "channel:email invoice",
    "after:2026-12-01 broken",
    "Müller",
)


SLOWEST = 6  # typed prefixes named at the end of each size's figures


def prefixes(query: str) -> list[str]:
    return [query[:n] for n in range(2, len(query) + 1) if not query[:n].endswith(" ")]


CONTACTS_PER_HOUR = 700  # about 17,000 a day: the seeds' Christmas peak of a shop of 14M orders a year


def build(path: Path, size: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            *(sys.executable, "-m", "standardiste", "simulate", "--db", str(path), "--backfill", str(size)),
            *("--duration", "1", "--seed", "1", "--rate", "0"),
            # The same daily volume at every size: 1M is two months of a busy shop (mostly closed long ago,
            # the last hours open), not a day of a shop a hundred times bigger (8 h of 1M: 195k open).
            *("--backfill-hours", str(max(8.0, size / CONTACTS_PER_HOUR))),
        ],
        check=True,
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def measure(path: Path, repeat: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Milliseconds per search, by query and by typed prefix, read as the console reads: the heads' index on a
    second connection beside the messages' (search_pair.py)."""
    ws = Workspace(path)
    second = open_second(str(path))
    try:
        timings: dict[str, list[float]] = {}
        typed_timings: dict[str, list[float]] = {}
        search(ws.db, "warm the page cache")
        for query in QUERIES:
            for _ in range(repeat):
                for typed in prefixes(query):
                    started = time.perf_counter()
                    # A half-typed field ("state:so") is refused: the console shows the error.
                    with contextlib.suppress(ValueError):
                        search(ws.db, typed, limit=50, heads_db=second)
                    elapsed = (time.perf_counter() - started) * 1000
                    timings.setdefault(query, []).append(elapsed)
                    typed_timings.setdefault(typed, []).append(elapsed)
        return timings, typed_timings
    finally:
        second.close()
        ws.close()


def console_start(path: Path, runs: int = 3) -> tuple[float, float, float]:
    """The console on `path` in a real pty: seconds from start to its first screen of the queue (the view
    bar's `N/M` with M > 0: `N/M+` while the head is shown and the rest is still read), to the whole queue
    loaded (`N/M`, no `+`), and its peak RSS in MB, medians of `runs`."""
    import re

    import pyte
    from _pty import COLUMNS, ROWS, PtyProcess, console_env

    first = re.compile(r"^ \d+/[1-9]\d*\+? │")
    loaded = re.compile(r"^ \d+/[1-9]\d* │")
    firsts, times, peaks = [], [], []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        env = console_env(tmp)
        for _ in range(runs):
            child = PtyProcess(
                [sys.executable, "-m", "standardiste", "--db", str(path), "--agent", "bench"], env
            )
            screen = pyte.Screen(COLUMNS, ROWS)
            stream = pyte.ByteStream(screen)
            index, shown, seen = 0, None, None
            deadline = time.perf_counter() + 180
            try:
                while shown is None and time.perf_counter() < deadline:
                    with child.lock:
                        fresh = child.chunks[index:]
                    for when, data in fresh:
                        index += 1
                        stream.feed(data)
                        if seen is None and any(first.search(line) for line in screen.display):
                            seen = when - child.started
                        if any(loaded.search(line) for line in screen.display):
                            shown = when - child.started
                            break
                    time.sleep(0.005)
                time.sleep(1.0)  # settled: the peak includes what follows the first screen
                peaks.append(child.peak_rss / 2**20)
            finally:
                child.stop()
            if shown is None:
                raise TimeoutError(f"the console on {path} showed no queue in 180 s")
            times.append(shown)
            firsts.append(shown if seen is None else seen)
    return statistics.median(firsts), statistics.median(times), statistics.median(peaks)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the workspace files in this directory")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="standardiste-search-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    for size in (int(s) for s in args.sizes.split(",")):
        path = folder / f"search-{size}.db"
        if path.exists():
            print(f"{size:>9} conversations: reusing {path}")
        else:
            seconds = build(path, size)
            print(f"{size:>9} conversations: built in {seconds:.1f} s, {os.path.getsize(path) / 1e6:.0f} MB")
        opened = time.perf_counter()
        Workspace(path).close()  # a file of an older index version rebuilds what changed, once
        print(f"{'':>9} opened in {time.perf_counter() - opened:.1f} s")
        first, start, rss = console_start(path)
        print(
            f"{'':>9} the console: first screen of the queue {first:.2f} s after start, all of it loaded "
            f"{start:.2f} s, peak RSS {rss:.0f} MB"
        )
        timings, typed_timings = measure(path, args.repeat)
        every = [t for values in timings.values() for t in values]
        print(
            f"{'':>9} all {len(every)} searches: p50 {statistics.median(every):.1f} ms, "
            f"p95 {percentile(every, 95):.1f} ms, max {max(every):.1f} ms"
        )
        for query, values in timings.items():
            print(
                f"{'':>12} {query!r:28} p50 {statistics.median(values):6.1f} ms  p95 {percentile(values, 95):6.1f} ms"
            )
        slowest = sorted(typed_timings.items(), key=lambda item: -statistics.median(item[1]))[:SLOWEST]
        print(
            f"{'':>9} slowest as typed (median): "
            + ", ".join(f"{t!r} {statistics.median(v):.1f} ms" for t, v in slowest)
        )
    if args.keep is None:
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
