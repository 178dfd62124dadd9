"""MIME fuzz run: hostile messages through everything the console does with a received mail.

    .venv/bin/python bench/mime_fuzz.py [--count 100000] [--seed 0] [--smoke]

Each message comes from tests/hostile_mail.py's generator with its own seed (`seed * 1_000_003 + n`, so any
message can be made again from its number) and goes through `read_like_the_console`: the headers into the
mailbox index (SQLite), the body parsed, the console's message built, the email reader's lines laid out,
the attachments read back, and the output checked (no lone surrogate, no control character on screen).
Prints the messages tried, the exceptions (the target is 0), how many came out with a "could not decode"
mark, how many needed the whole-message fallback, and the time. Exit status 1 when an exception was seen.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from hostile_mail import hostile_message, read_like_the_console

_WHOLE_MESSAGE_FALLBACK = ("the message could not be read", "the message could not be parsed")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="a small run for CI (200 messages)")
    args = parser.parse_args()
    count = 200 if args.smoke else args.count

    errors: collections.Counter[str] = collections.Counter()
    first_seen: dict[str, int] = {}
    marked = fallbacks = total_bytes = 0
    slowest = (0.0, -1)
    started = time.perf_counter()
    for number in range(count):
        raw = hostile_message(random.Random(args.seed * 1_000_003 + number))
        total_bytes += len(raw)
        began = time.perf_counter()
        try:
            parsed, _ = read_like_the_console(raw)
        except Exception as error:  # counted, not raised: the point is how many
            kind = f"{type(error).__name__}: {str(error)[:120]}"
            if kind not in first_seen:
                first_seen[kind] = number
                traceback.print_exc(limit=-6, file=sys.stderr)
            errors[kind] += 1
            continue
        finally:
            spent = time.perf_counter() - began
            if spent > slowest[0]:
                slowest = (spent, number)
        if parsed.undecodable:
            marked += 1
            if any(u.startswith(_WHOLE_MESSAGE_FALLBACK) for u in parsed.undecodable):
                fallbacks += 1
        if not args.smoke and (number + 1) % 10_000 == 0:
            print(
                f"  {number + 1:,} messages, {sum(errors.values())} exceptions", file=sys.stderr, flush=True
            )
    elapsed = time.perf_counter() - started

    print(f"messages tried:        {count:,} (seed {args.seed}, {total_bytes / 1e6:.1f} MB)")
    print(f"exceptions:            {sum(errors.values()):,}")
    for kind, seen in errors.most_common():
        print(f"  {seen:>6,} × {kind}  (first: message {first_seen[kind]})")
    print(f"marked undecodable:    {marked:,}")
    print(f"whole-message fallback: {fallbacks:,}")
    print(f"time:                  {elapsed:.1f} s ({count / elapsed:,.0f} messages/s)")
    print(f"slowest message:       {slowest[0] * 1000:.0f} ms (message {slowest[1]})")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
