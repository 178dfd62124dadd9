"""Another process on the same workspace file: writes what it is told and says when each write committed.

Run as a child process by tests/system/test_cross_process.py:

    python writer.py WORKSPACE

It reads one JSON request per line on stdin and answers one JSON line on stdout with `at`, the wall-clock
time just after the write committed (the parent compares it with when its event arrived):

    {"op": "create", "channel": "chat", "subject": "..."}        -> {"id": "local:7", "at": ...}
    {"op": "message", "id": "local:7", "body": "..."}           -> {"message_id": "local:12", "at": ...}
    {"op": "presence", "agent": "remote", "presence": "away"}   -> {"at": ...}
    {"op": "watch", "id": "local:7", "body": "...", "timeout": 5}
                                            -> {"watching": true}, later {"seen_at": ... or null}

`watch` tails the change feed, as a console would, until a message with that body appears in that
conversation: the other direction of visibility. It answers `watching` first, so that the parent writes
only once the watch has noted where the feed stands.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from standardiste.backends.local.workspace import Workspace
from standardiste.console.core.model import Agent, Channel, Customer, Direction, Presence

WATCH_POLL_SECONDS = 0.01


def _watch(ws: Workspace, conversation_id: str, body: str, timeout: float, since: int) -> float | None:
    deadline = time.time() + timeout
    seq = since
    while time.time() < deadline:
        for change in ws.changes_since(seq):
            seq = change.seq
            if change.kind != "message":
                continue
            message = ws.message(int(change.ref))
            if message.conversation_id == conversation_id and message.body == body:
                return time.time()
        time.sleep(WATCH_POLL_SECONDS)
    return None


def handle(ws: Workspace, request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "create":
        customer = Customer(f"cust-{request['subject']}", "Remote Customer", email="remote@example.com")
        row_id = ws.create_conversation(
            channel=Channel(request["channel"]), customer=customer, subject=request["subject"]
        )
        return {"id": f"local:{row_id}", "at": time.time()}
    if op == "message":
        message = ws.add_message(
            request["id"], direction=Direction.INBOUND, body=request["body"], author="customer"
        )
        return {"message_id": message.id, "at": time.time()}
    if op == "presence":
        ws.set_presence(request["agent"], Presence(request["presence"]))
        return {"at": time.time()}
    if op == "watch":
        since = ws.last_change()
        print(json.dumps({"watching": True}), flush=True)
        return {"seen_at": _watch(ws, request["id"], request["body"], float(request["timeout"]), since)}
    raise ValueError(f"unknown op {op!r}")


def main(argv: list[str]) -> int:
    ws = Workspace(argv[0])
    ws.upsert_agent(Agent(id="remote", name="Remote Agent", presence=Presence.AVAILABLE))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        print(json.dumps(handle(ws, json.loads(line))), flush=True)
    ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
