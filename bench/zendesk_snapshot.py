"""Zendesk snapshot benchmark: 10,000 unsolved tickets through the adapter, from the fake Zendesk of the tests
(tests/zendesk_fake/) on 127.0.0.1, run in a child process so that only the adapter is measured.

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
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _helpdesk_snapshot import measure, run, serve


async def serve_fake(count: int, customers: int) -> None:
    """The child: a fake Zendesk holding `count` unsolved tickets; once stopped it reports what requests it
    saw outside the reference."""
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
    await serve(fake, lambda: {"violations": fake.violations[:5]})


def figures(port: int, token: str) -> dict[str, float]:
    from standardiste.backends.zendesk import ZendeskBackend, parse_settings

    settings = parse_settings("bench", {"url": f"http://127.0.0.1:{port}", "email": "ann@example.test"})
    return asyncio.run(
        measure(
            lambda data: ZendeskBackend("bench", settings, agent_id="ann", data_dir=data, secret=lambda: token),
            lambda snapshot: {"tickets": len(snapshot.conversations), "customers": len(snapshot.customers)},
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--smoke", action="store_true", help="300 tickets, for CI")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve_fake(args.serve, args.customers))
        return
    count = 300 if args.smoke else args.count
    found, report = run(__file__, [str(count), "--customers", str(args.customers)], "Zendesk", figures)
    if report.get("violations"):
        raise SystemExit(f"requests outside the reference: {report['violations']}")
    if found["tickets"] != count:
        raise SystemExit(f"expected {count} tickets, got {found['tickets']}")


if __name__ == "__main__":
    main()
