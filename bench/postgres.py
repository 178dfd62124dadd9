"""The workspace on PostgreSQL side by side with the SQLite file, in one run.

    .venv/bin/python bench/postgres.py [--count 100000] [--rate 5000] [--smoke]

Starts a throwaway PostgreSQL server on 127.0.0.1 (as tests/postgres_server.py does: as the `postgres` OS
user when run as root; fsync off, as a benchmark of the console, not of the disk). For each storage:
1. loading `--count` conversations (one transaction, executemany) and opening them in the console, in a
   real pseudo-terminal (start to "All N" on screen);
2. events per second applied by the console while another process writes `--rate` changes per second,
   and the keystroke latency meanwhile (`/`, as bench/workspace.py measures it);
3. claim throughput: 20 processes racing for the same 1,000 conversations (tests/helpers/claimer.py);
4. change -> another console's event latency (p50, p95), across two processes.
Target (issue "A team on many machines"): p95 change -> other console ≤ 100 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
HELPERS = ROOT / "tests" / "helpers"


def flood(target: Any, rate: int, seconds: float, count: int, done: dict[str, float]) -> None:
    """Another process's writes, through the workspace's own connection type: `rate` updates a second."""
    from standardiste.backends.local import Workspace

    ws = Workspace(target)
    rng = random.Random(7)
    written = 0
    started = time.perf_counter()
    done["wall_start"] = time.time()
    while (elapsed := time.perf_counter() - started) < seconds:
        due = int(rate * elapsed) - written
        if due > 0:
            rows = [(time.time(), rng.randrange(1, count + 1)) for _ in range(due)]
            with ws.transaction():
                ws.db.executemany(
                    "UPDATE conversations SET updated_at = ?, unread = unread + 1, version = version + 1 "
                    "WHERE id = ?",
                    rows,
                )
            written += due
        time.sleep(0.02)
    done["written"] = written
    done["seconds"] = time.perf_counter() - started
    done["wall_end"] = time.time()
    ws.close()


def console_figures(target: Any, count: int, rate: int, flood_seconds: float, keys: int, tmp: Path) -> None:
    from workspace import PtyProcess, _env, percentile, prompt_latencies

    env = _env(tmp)
    argv = [sys.executable, "-m", "standardiste", "--db", str(target), "--agent", "bench"]
    child = PtyProcess(argv, env)
    done: dict[str, float] = {}
    try:
        child.wait_for(f"All {count}".encode(), timeout=300)
        print(f"  {count:,} conversations on screen {time.perf_counter() - child.started:.1f} s after start")
        writer = threading.Thread(target=flood, args=(target, rate, flood_seconds, count, done))
        events_start = time.perf_counter()
        writer.start()
        time.sleep(1.0)
        under_flood = prompt_latencies(child, keys, events_start + flood_seconds - 0.5)
        writer.join()
        time.sleep(1.5)
    finally:
        child.stop()
    stats = json.loads((tmp / "stats.json").read_text())
    window = (done["wall_start"], done["wall_end"] + 1.5)
    in_window = [(at, n) for at, n in stats["timeline"] if window[0] <= at <= window[1]]
    applied = sum(n for _, n in in_window)
    span = max(1e-9, (in_window[-1][0] - window[0]) if in_window else 1.0)
    print(
        f"  flood: {done['written']:,} changes written at {done['written'] / done['seconds']:,.0f}/s by another "
        f"process; applied {applied:,} as events at {applied / span:,.0f}/s"
    )
    if under_flood:
        print(
            f"  keystroke to frame under the flood: p50 {percentile(under_flood, 0.5) * 1000:.1f} ms, "
            f"p95 {percentile(under_flood, 0.95) * 1000:.1f} ms"
        )


def claim_throughput(target: Any, racers: int = 20, conversations: int = 1000) -> None:
    from standardiste.backends.local import Workspace
    from standardiste.console.core.model import Channel, Customer

    ws = Workspace(target)
    customer = Customer("c-race", "Race", email="race@example.com")
    with ws.transaction():
        ids = [
            ws.create_conversation(channel=Channel.CHAT, customer=customer, subject=f"r{n}")
            for n in range(conversations)
        ]
    ws.close()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(HELPERS / "claimer.py"),
                str(target),
                f"a{n}",
                str(ids[0]),
                str(ids[-1]),
                str(n),
                "claim",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(racers)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    wins = 0
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        wins += len(json.loads(out.strip().splitlines()[-1])["wins"])
    seconds = time.perf_counter() - started
    attempts = racers * conversations
    print(
        f"  claims: {racers} processes x {conversations:,} in {seconds:.1f} s: {attempts / seconds:,.0f} attempts/s, "
        f"{wins} won (one owner each: {wins == conversations})"
    )


async def _visibility(target: Any, changes: int) -> list[float]:
    from standardiste.backends.base import ConversationUpserted
    from standardiste.backends.local import LocalBackend

    console = LocalBackend(target, agent_id="watcher", catch_up_interval=30.0)
    await console.connect()
    await console.snapshot()
    writer = subprocess.Popen(
        [sys.executable, str(HELPERS / "pg_writer.py"), str(target), str(changes), "0.03"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    assert writer.stdin is not None
    writer.stdin.write("go\n")
    writer.stdin.flush()
    seen: dict[int, float] = {}
    events = console.events()
    try:
        while len(seen) < changes:
            batch = await asyncio.wait_for(events.__anext__(), 30)
            now = time.time()
            for event in batch:
                if isinstance(event, ConversationUpserted) and event.conversation.subject.startswith("seen "):
                    _, n, stamp = event.conversation.subject.split()
                    seen.setdefault(int(n), now - float(stamp))
    finally:
        await events.aclose()
        await console.close()
        writer.wait(timeout=30)
    return sorted(seen.values())


def visibility(target: Any, changes: int) -> None:
    from workspace import percentile

    latencies = asyncio.run(_visibility(target, changes))
    print(
        f"  change -> other console ({changes} changes, 2 processes): p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=5000)
    parser.add_argument("--keys", type=int, default=30)
    parser.add_argument("--flood-seconds", type=float, default=10.0)
    parser.add_argument("--smoke", action="store_true", help="a quick run: 2,000 rows, few keys, 4 racers")
    args = parser.parse_args()
    racers, race_items, changes = 20, 1000, 100
    if args.smoke:
        args.count, args.keys, args.flood_seconds, args.rate = 2000, 4, 3.0, 500
        racers, race_items, changes = 4, 200, 20
    from _data import make_workspace
    from postgres_server import running_postgres

    with running_postgres() as server, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for database in ("load", "race", "seen"):
            server.admin(f"CREATE DATABASE {database}")
        storages = {
            "SQLite file": (tmp / "load.db", tmp / "race.db", tmp / "seen.db"),
            "PostgreSQL": (server.dsn("load"), server.dsn("race"), server.dsn("seen")),
        }
        for name, (load, race, seen) in storages.items():
            print(f"{name}:")
            started = time.perf_counter()
            make_workspace(load, args.count)
            print(f"  load {args.count:,} conversations: {time.perf_counter() - started:.1f} s")
            own = tmp / name.split()[0]
            own.mkdir()
            console_figures(load, args.count, args.rate, args.flood_seconds, args.keys, own)
            claim_throughput(race, racers, race_items)
            visibility(seen, changes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
