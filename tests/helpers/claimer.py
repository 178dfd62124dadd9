"""One racer of the claim race: tries to take every conversation of a workspace file, in its own order.

Run as a child process by tests/system/test_claim_race.py:

    python claimer.py WORKSPACE AGENT_ID FIRST_ID LAST_ID SEED [claim|accept]

`claim` calls `Workspace.claim` (the expected loss is `OwnedByOther`); `accept` answers ringing calls
through the command layer, `commands.perform(Accept)` (the expected loss is `Conflict`). The racer opens
the file, prints `ready`, waits for `go` on stdin (so that every racer starts together, not as each
interpreter happens to finish starting), then tries FIRST_ID..LAST_ID in a shuffled order and prints one
JSON line: the ids it won, how many it lost to another owner, and any other error.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter

from standardiste.backends.base import Accept, Conflict
from standardiste.backends.local import commands
from standardiste.backends.local.rows import qualify
from standardiste.backends.local.workspace import OwnedByOther, Workspace
from standardiste.console.core.model import Conversation, State


def _take(ws: Workspace, mode: str, row_id: int, agent_id: str) -> Conversation:
    if mode == "claim":
        return ws.claim(row_id, agent_id)
    result = commands.perform(ws, Accept(conversation_id=qualify(row_id), agent_id=agent_id))
    assert result.conversation is not None
    return result.conversation


def main(argv: list[str]) -> int:
    path, agent_id, first, last, seed = argv[0], argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    mode = argv[5] if len(argv) > 5 else "claim"
    expected_loss: type[Exception] = OwnedByOther if mode == "claim" else Conflict
    ws = Workspace(path)
    order = list(range(first, last + 1))
    random.Random(seed).shuffle(order)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 2
    started = time.perf_counter()
    wins: list[int] = []
    lost = 0
    # Every unexpected failure is reported, never swallowed: the test fails on any of them.
    errors: Counter[str] = Counter()
    wrong = 0
    for row_id in order:
        try:
            conversation = _take(ws, mode, row_id, agent_id)
        except expected_loss as error:
            lost += 1
            if getattr(error, "owner", None) in (None, agent_id):
                wrong += 1  # a loss must name the other winner
        except Exception as error:
            errors[f"{type(error).__name__}: {error}"] += 1
        else:
            if conversation.assignee != agent_id or (
                mode == "accept" and conversation.state is not State.CONNECTED
            ):
                wrong += 1
            wins.append(row_id)
    elapsed = time.perf_counter() - started
    ws.close()
    report = {
        "agent": agent_id,
        "wins": wins,
        "lost": lost,
        "wrong": wrong,
        "errors": dict(errors),
        "elapsed": elapsed,
    }
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
