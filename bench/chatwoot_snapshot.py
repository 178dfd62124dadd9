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
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _helpdesk_snapshot import measure, run, serve


async def serve_fake(count: int) -> None:
    """The child: a fake Chatwoot holding `count` open conversations."""
    from chatwoot_fake import FakeChatwoot

    fake = FakeChatwoot(check_spec=False, ping_every=3.0)
    now = time.time() - count
    channels = ("chat", "email", "social")
    for n in range(count):
        fake.add_conversation(channels[n % 3], f"Subject {n}", f"Message {n}", f"customer{n % 2000}",
                              broadcast=False, at=now + n)
    await serve(fake)


def figures(port: int, token: str, concurrency: int) -> dict[str, float]:
    from standardiste.backends.chatwoot import ChatwootBackend, parse_settings

    settings = parse_settings("bench", {"url": f"http://127.0.0.1:{port}", "account": 1,
                                        "statuses": ["open"], "page_concurrency": concurrency})
    return asyncio.run(
        measure(
            lambda data: ChatwootBackend("bench", settings, agent_id="ann", data_dir=data, secret=lambda: token),
            lambda snapshot: {"conversations": len(snapshot.conversations)},
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--smoke", action="store_true", help="200 conversations, for CI")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve_fake(args.serve))
        return
    count = 200 if args.smoke else args.count
    found, _ = run(__file__, [str(count)], "Chatwoot", lambda port, token: figures(port, token, args.concurrency))
    if found["conversations"] != count:
        raise SystemExit(f"expected {count} conversations, got {found['conversations']}")


if __name__ == "__main__":
    main()
