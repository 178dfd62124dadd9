"""A writer killed mid-transaction: tests/system/test_search_cli.py checks the search index afterwards.

    python search_writer.py WORKSPACE CONVERSATION_ID

Forever: open a write transaction, add a message with the body `kiwi<N>` and a note `note<N>`, say
`pending N`, wait with the transaction open for a line on stdin, commit, say `committed N`. The parent
kills it with SIGKILL while a transaction is open (it sends no line then, so the kill cannot race a commit):
the index must hold every committed body and none of the pending one.
"""

from __future__ import annotations

import sys

from standardiste.backends.local.workspace import Workspace
from standardiste.console.core.model import Direction


def main(argv: list[str]) -> int:
    ws = Workspace(argv[0])
    conversation_id = argv[1]
    n = 0
    while True:
        n += 1
        with ws.transaction():
            ws.add_message(conversation_id, direction=Direction.INBOUND, body=f"kiwi{n:05d}", author="c")
            ws.add_message(conversation_id, direction=Direction.NOTE, body=f"note{n:05d}", author="a")
            print(f"pending {n}", flush=True)
            if not sys.stdin.readline():
                return 0
        print(f"committed {n}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
