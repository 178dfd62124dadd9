"""Workspace benchmark, in a real pseudo-terminal, against a minimal Textual app as the baseline.

    .venv/bin/python bench/workspace.py [--count 100000] [--rate 5000] [--smoke] [--memory]

Measures, in one run:
1. process start to first painted frame, for a minimal Textual app and for the console (median of 3);
2. keystroke-to-frame latency (p50, p95, max) while moving through the queue with `j`/`k`: the time from
   writing the key to the pty to the first byte of the repaint. Keys are sent between the console's
   once-a-second clock repaints so that a tick is never taken for an answer;
3. events per second applied while another process writes changes into the workspace file at `--rate`,
   and the keystroke latency meanwhile, measured with `/` (it opens the filter prompt, whose placeholder
   text appears only in answer to that key, so the flood's repaints cannot be mistaken for it);
4. peak RSS of the console process with `--count` conversations.
`--memory` measures only RSS, in three parts: the peak while loading, at rest once the queue shows (the median
of a few seconds' samples), and the peak while the flood runs (the first-frame and key runs are skipped).
Targets (issue "The agent workspace"): first frame within 1.5× the minimal app's; keystroke p95 ≤ 16 ms;
≥ 5,000 events/s applied with keystroke p95 ≤ 16 ms; peak RSS ≤ 150 MB at 100k (issue 16: ≤ 120 MB, at rest
and through the flood).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pty import COLUMNS, ROWS, PtyProcess, percentile

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TERM="xterm-256color",
        COLUMNS=str(COLUMNS),
        LINES=str(ROWS),
        STANDARDISTE_CONFIG=str(tmp / "config.toml"),
        STANDARDISTE_DATA=str(tmp / "data"),
        STANDARDISTE_STATS=str(tmp / "stats.json"),
    )
    (tmp / "config.toml").write_text('agent = "bench"\nbell = false\n', encoding="utf-8")
    return env


def first_frame(argv: list[str], marker: bytes, env: dict[str, str], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        child = PtyProcess(argv, env)
        try:
            times.append(child.wait_for(marker, timeout=120) - child.started)
        finally:
            child.stop()
    return statistics.median(times)


LOAD_RUNS = 3


def load_times(child: PtyProcess, head_rows: int, count: int) -> tuple[float, float]:
    """Seconds from the start to the queue's head on screen, and to the whole of it. The view bar says
    "/200+" while only the head is in; a small workspace may be whole by the first frame, and then the head
    and the whole queue arrive together."""
    whole = f"All {count}".encode()
    first, when = child.wait_for_first([f"/{head_rows}+".encode(), whole], timeout=180)
    head = when - child.started
    return head, head if first == whole else child.wait_for(whole, timeout=180) - child.started


def move_latencies(child: PtyProcess, keys: int) -> list[float]:
    """`j`/`k` answered between clock ticks: send each key ~0.2-0.7 s after the last repaint burst."""
    latencies: list[float] = []
    direction = b"j"
    while len(latencies) < keys:
        child.quiet_for(0.15)
        for _ in range(3):
            sent, index = child.send(direction)
            answered = child.first_output_after(index)
            if answered is not None:
                latencies.append(answered - sent)
            direction = b"k" if direction == b"j" else b"j"
            time.sleep(0.08)
    return latencies[:keys]


def prompt_latencies(child: PtyProcess, keys: int, stop_at: float) -> list[float]:
    """`/` under a flood: the filter's placeholder appears only in answer to it."""
    latencies = []
    while len(latencies) < keys and time.perf_counter() < stop_at:
        sent, index = child.send(b"/")
        try:
            answered = child.wait_for(b"lter: words, or lang", timeout=3, since=index)
            latencies.append(answered - sent)
        except TimeoutError:
            latencies.append(3.0)
        child.send(b"\r")  # enter closes the empty prompt (an ESC could merge with the next key as alt+/)
        time.sleep(0.15)
    return latencies


PROBE_EVERY = 0.25  # seconds between two probes of the flood's write-to-screen latency

# A probe: the subject of the queue's first row (under the cursor since the start) becomes a new one, which
# shows on the screen the agent sees whatever else the flood moves.
_PROBE = "UPDATE conversations SET subject = ?, version = version + 1 WHERE id = ?"


def first_row(db: Path, agent: str) -> int:
    """The row id of the first conversation of the All view: the queue's first that is nobody's or `agent`'s."""
    from standardiste.backends.local import Workspace
    from standardiste.backends.local.rows import local_id

    ws = Workspace(db)
    try:
        return next(local_id(c.id) for c in ws.queue_head(HEAD_PROBE_ROWS) if c.assignee in (None, agent))
    finally:
        ws.close()


HEAD_PROBE_ROWS = 50


def flood(
    db: Path,
    rate: int,
    seconds: float,
    count: int,
    done: dict[str, float],
    probes: list[tuple[bytes, float]] | None = None,
    probe_row: int = 0,
) -> None:
    """Another process's writes: `rate` conversation updates per second, in batches every 20 ms; with
    `probes`, a probe (`_PROBE`) in a batch every PROBE_EVERY s, kept as (its subject, its commit's time)."""
    connection = sqlite3.connect(db, timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout = 30000")
    rng = random.Random(7)
    written = 0
    started = time.perf_counter()
    done["wall_start"] = time.time()
    tick = 0.02
    next_probe = 0.5
    while (elapsed := time.perf_counter() - started) < seconds:
        due = int(rate * elapsed) - written
        if due > 0:
            ids = [(time.time(), rng.randrange(1, count + 1)) for _ in range(due)]
            probe = None
            if probes is not None and elapsed >= next_probe:
                next_probe += PROBE_EVERY
                probe = f"probe {len(probes):04d} of the flood"
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                "UPDATE conversations SET updated_at = ?, unread = unread + 1, "
                "version = version + 1 WHERE id = ?",
                ids,
            )
            if probe is not None:
                connection.execute(_PROBE, (probe, probe_row))
            connection.execute("COMMIT")
            if probe is not None and probes is not None:
                probes.append((probe.encode(), time.perf_counter()))
            written += due
        time.sleep(tick)
    done["written"] = written
    done["seconds"] = time.perf_counter() - started
    done["wall_end"] = time.time()
    connection.close()


def probe_latencies(child: PtyProcess, probes: list[tuple[bytes, float]], since: int) -> list[float | None]:
    """Seconds from each probe's commit to the chunk of output that completed its subject (None: never)."""
    latencies: list[float | None] = []
    for subject, committed in probes:
        try:
            latencies.append(child.wait_for(subject, timeout=0.01, since=since) - committed)
        except TimeoutError:
            latencies.append(None)
    return latencies


def rest_rss(child: PtyProcess, seconds: float = 3.0) -> float:
    """The console's RSS at rest: the median of samples over `seconds`, nothing being written to the file."""
    process = psutil.Process(child.process.pid)
    samples = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        samples.append(process.memory_info().rss)
        time.sleep(0.05)
    return statistics.median(samples)


def memory(args: argparse.Namespace, db: Path, env: dict[str, str], console_argv: list[str]) -> None:
    """RSS of the console loading `--count` conversations, at rest, and through the flood."""
    child = PtyProcess(console_argv, env)
    try:
        child.wait_for(f"All {args.count}".encode(), timeout=180)
        child.quiet_for(0.5)
        loading = child.peak_rss
        rest = rest_rss(child)
        child.peak_rss = 0
        done: dict[str, float] = {}
        writer = threading.Thread(target=flood, args=(db, args.rate, args.flood_seconds, args.count, done))
        writer.start()
        writer.join()
        time.sleep(1.0)  # the console drains what is left
        flooded = child.peak_rss
        after = rest_rss(child)
    finally:
        child.stop()
    mb = 2**20
    print(
        f"RSS with {args.count:,} conversations: peak while loading {loading / mb:.0f} MB, at rest "
        f"{rest / mb:.0f} MB, peak through a flood of {done['written'] / done['seconds']:,.0f}/s for "
        f"{done['seconds']:.0f} s {flooded / mb:.0f} MB, at rest after it {after / mb:.0f} MB (target ≤ 120 MB)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=5000, help="changes per second written during the flood")
    parser.add_argument("--keys", type=int, default=60)
    parser.add_argument("--flood-seconds", type=float, default=12.0)
    parser.add_argument("--smoke", action="store_true", help="a quick run for CI: 2,000 rows, few keys")
    parser.add_argument("--memory", action="store_true", help="only RSS: loading, at rest, through the flood")
    args = parser.parse_args()
    if args.smoke:
        args.count, args.keys, args.flood_seconds, args.rate = 2000, 6, 3.0, 500
    from _data import make_workspace
    from standardiste.console.core.hub import HEAD_ROWS

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = _env(tmp)
        db = make_workspace(tmp / "bench.db", args.count)
        python = sys.executable
        if args.memory:
            memory(args, db, env, [python, "-m", "standardiste", "--db", str(db), "--agent", "bench"])
            return 0
        minimal = first_frame([python, str(ROOT / "bench" / "minimal_app.py")], b"minimal ready", env)
        console_argv = [python, "-m", "standardiste", "--db", str(db), "--agent", "bench"]
        console = first_frame(console_argv, b"max wait", env)
        print(
            f"first frame: minimal app {minimal * 1000:.0f} ms, console {console * 1000:.0f} ms "
            f"({console / minimal:.2f}x; target ≤ 1.5x)"
        )

        heads, wholes = [], []
        for run in range(LOAD_RUNS):
            child = PtyProcess(console_argv, env)
            try:
                head, loaded = load_times(child, HEAD_ROWS, args.count)
            except BaseException:
                child.stop()
                raise
            heads.append(head)
            wholes.append(loaded)
            if run < LOAD_RUNS - 1:
                child.stop()
        print(
            f"the queue's first {HEAD_ROWS} rows on screen {statistics.median(heads):.2f} s after start, "
            f"all {args.count:,} conversations {statistics.median(wholes):.2f} s (target: usable within 0.6 s; "
            f"medians of {LOAD_RUNS})"
        )
        try:  # the last run's console goes on: keys, then the flood
            moves = move_latencies(child, args.keys)
            print(
                f"keystroke to frame, moving through {args.count:,} (j/k, {len(moves)} keys): "
                f"p50 {percentile(moves, 0.5) * 1000:.1f} ms, p95 {percentile(moves, 0.95) * 1000:.1f} ms, "
                f"max {max(moves) * 1000:.1f} ms (target p95 ≤ 16 ms)"
            )
            done: dict[str, float] = {}
            probes: list[tuple[bytes, float]] = []
            writer = threading.Thread(
                target=flood,
                args=(db, args.rate, args.flood_seconds, args.count, done, probes, first_row(db, "bench")),
            )
            events_start = time.perf_counter()
            flood_from, _ = child.output_since(0)
            writer.start()
            time.sleep(1.0)
            under_flood = prompt_latencies(child, args.keys, events_start + args.flood_seconds - 0.5)
            writer.join()
            time.sleep(1.0)  # let the console drain what is left
            on_screen = probe_latencies(child, probes, flood_from)
        finally:
            child.stop()
        stats = json.loads((tmp / "stats.json").read_text())
        window = (done["wall_start"], done["wall_end"] + 1.0)
        in_window = [(at, n) for at, n in stats["timeline"] if window[0] <= at <= window[1]]
        applied = sum(n for _, n in in_window)
        span = max(1e-9, (in_window[-1][0] - window[0]) if in_window else 1.0)
        print(
            f"flood: {done['written']:,} changes written in {done['seconds']:.1f} s "
            f"({done['written'] / done['seconds']:,.0f}/s) by another process; the console applied "
            f"{applied:,} of them as events in {span:.1f} s ({applied / span:,.0f}/s) in "
            f"{len(in_window)} batches, longest batch {stats['longest_batch_seconds'] * 1000:.0f} ms "
            f"(target ≥ 5,000/s)"
        )
        if on_screen:
            seen = [latency for latency in on_screen if latency is not None]
            print(
                f"a change written under the flood, to the screen ({len(on_screen)} probes, "
                f"{len(on_screen) - len(seen)} never shown): "
                + (
                    f"p50 {percentile(seen, 0.5) * 1000:.0f} ms, p95 {percentile(seen, 0.95) * 1000:.0f} ms, "
                    f"max {max(seen) * 1000:.0f} ms (target: within 250 ms)"
                    if seen
                    else "none shown"
                )
            )
        if under_flood:
            print(
                f"keystroke to frame under the flood (/, {len(under_flood)} keys): "
                f"p50 {percentile(under_flood, 0.5) * 1000:.1f} ms, "
                f"p95 {percentile(under_flood, 0.95) * 1000:.1f} ms, max {max(under_flood) * 1000:.1f} ms"
            )
        print(
            f"peak RSS of the console with {args.count:,} conversations: {child.peak_rss / 2**20:.0f} MB "
            f"(target ≤ 120 MB, issue 16)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
