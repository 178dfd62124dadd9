"""Store benchmark: load 100k conversations from a workspace file, their memory, filter and sort times.

    .venv/bin/python bench/store.py [--count 100000] [--smoke]

Each figure is measured in a fresh child process so that memory is not muddied by the generator.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def measure(db: Path) -> dict[str, float]:
    import psutil
    from standardiste.backends.base import ConversationUpserted
    from standardiste.backends.local import Workspace
    from standardiste.console.core.store import Store
    from standardiste.console.core.views import ViewSet

    process = psutil.Process()
    gc.collect()
    rss_before = process.memory_info().rss
    started = time.perf_counter()
    ws = Workspace(db)
    conversations = ws.conversations()
    read_seconds = time.perf_counter() - started
    store = Store()
    from standardiste.backends.base import Snapshot

    store.load(Snapshot(conversations=conversations))
    del conversations
    load_seconds = time.perf_counter() - started
    gc.collect()
    rss_after = process.memory_info().rss
    now = time.time()
    from standardiste.console.core.sla import SlaPolicy
    from standardiste.console.core.views import VIEW_SCOPES

    views = ViewSet({name: scope for name, (_, scope) in VIEW_SCOPES.items()}, me="alice", sla=SlaPolicy())
    view = views["everyone"]
    timings: dict[str, list[float]] = {
        "sort_all_views": [],
        "filter_fields": [],
        "filter_words": [],
        "update_200": [],
    }
    for _ in range(5):
        t = time.perf_counter()
        views.rebuild(store.conversations, now)
        timings["sort_all_views"].append(time.perf_counter() - t)
        t = time.perf_counter()
        view.set_filter("lang:de channel:chat", store.conversations.values(), now)
        timings["filter_fields"].append(time.perf_counter() - t)
        t = time.perf_counter()
        view.set_filter("parcel müller", store.conversations.values(), now)
        timings["filter_words"].append(time.perf_counter() - t)
        view.set_filter("", store.conversations.values(), now)
        changed = list(store.conversations.values())[:200]
        t = time.perf_counter()
        changes = store.apply(
            [ConversationUpserted(c.evolve(assignee="bob", version=c.version + 1)) for c in changed], now
        )
        views.update(changes.conversations, store.conversations, now)
        timings["update_200"].append(time.perf_counter() - t)
    gc.collect()
    rss_views = process.memory_info().rss
    return {
        "conversations": len(store.conversations),
        "read_s": read_seconds,
        "load_s": load_seconds,
        "memory_mb": (rss_after - rss_before) / 2**20,
        "rss_mb": rss_after / 2**20,
        "views_mb": (rss_views - rss_after) / 2**20,
        "views": len(VIEW_SCOPES),
        **{f"{name}_ms": statistics.median(values) * 1000 for name, values in timings.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help="a small run for CI (2,000 conversations)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0
    count = 2000 if args.smoke else args.count
    from _data import make_workspace

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        t = time.perf_counter()
        make_workspace(db, count)
        print(f"generated {count:,} conversations in {time.perf_counter() - t:.1f} s")
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(db)], capture_output=True, text=True, check=True
        )
        figures = json.loads(out.stdout)
    print(
        f"load {figures['conversations']:,} conversations from the file: {figures['load_s']:.2f} s "
        f"(SQLite read {figures['read_s']:.2f} s)"
    )
    print(f"memory they take: {figures['memory_mb']:.0f} MB (process RSS {figures['rss_mb']:.0f} MB)")
    print(
        f"sort the {figures['views']:.0f} views (shared keys): {figures['sort_all_views_ms']:.0f} ms; "
        f"their memory: {figures['views_mb']:.0f} MB"
    )
    print(
        f"filter lang:de channel:chat: {figures['filter_fields_ms']:.0f} ms; "
        f"filter by words: {figures['filter_words_ms']:.0f} ms"
    )
    print(
        f"apply 200 changed conversations and re-place them in every view: {figures['update_200_ms']:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
