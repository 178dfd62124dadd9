"""Another machine's console, for the visibility test: writes COUNT conversations to a workspace, one every
GAP seconds, each subject carrying the wall-clock time it was committed at.

    python pg_writer.py TARGET COUNT GAP

Prints `ready`, waits for `go` on stdin, writes, prints `done`.
"""

from __future__ import annotations

import sys
import time

from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, Customer


def main(argv: list[str]) -> int:
    target, count, gap = argv[0], int(argv[1]), float(argv[2])
    ws = Workspace(target)
    customer = Customer("c-far", "Far Away", email="far@example.com")
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    for n in range(count):
        with ws.transaction():
            ws.create_conversation(
                channel=Channel.CHAT, customer=customer, subject=f"seen {n} {time.time():.6f}"
            )
        time.sleep(gap)
    ws.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
