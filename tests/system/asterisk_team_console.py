"""One agent's team console on the real Asterisk, as a process of its own (tests/system/
test_asterisk_team_processes.py starts three on one team's queue):

    python asterisk_team_console.py SETTINGS_JSON

SETTINGS_JSON: the `[workspaces.pbx]` table (url, user, app, queues, phone, team, ring_seconds...) plus
`agent`, `data_dir` and `mode`. The ARI password comes from STANDARDISTE_TEST_ARI_PASSWORD. The console
connects and reads its events as the hub does, and prints one JSON line per thing the parent checks:
`{"ready": ...}`, `{"holding": true|false}` when it takes or loses the customers' application,
`{"call": id, "state": ..., "assignee": ..., "customer": ..., "at": t}` on each change of a call, and `{"won": id}` / `{"lost": id, "why": ...}` for each accept. In `auto` mode it
accepts every call it sees ringing for nobody (the agents racing); in `manual` mode it reads `accept ID`
and `quit` on stdin.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from standardiste.backends.asterisk import AsteriskBackend
from standardiste.backends.base import Accept, BackendContext, BackendError, ConversationUpserted
from standardiste.console.core.model import Channel, Conversation, State


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def accept(backend: AsteriskBackend, conversation_id: str) -> None:
    try:
        await backend.perform(Accept(conversation_id=conversation_id))
    except BackendError as error:
        say(lost=conversation_id, why=str(error))
    else:
        say(won=conversation_id)


async def run(settings: dict[str, Any]) -> None:
    agent, data_dir, mode = settings.pop("agent"), Path(settings.pop("data_dir")), settings.pop("mode")
    password = os.environ["STANDARDISTE_TEST_ARI_PASSWORD"]
    context = BackendContext(agent_id=agent, data_dir=data_dir, secret=lambda key: password)
    backend = AsteriskBackend.from_config("pbx", settings, context)
    await backend.connect()
    snapshot = await backend.snapshot()
    tried: set[str] = set()
    tasks: set[asyncio.Task[None]] = set()

    def start(conversation_id: str) -> None:
        task = asyncio.create_task(accept(backend, conversation_id))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def shown(conversation: Conversation) -> None:
        if conversation.channel is not Channel.PHONE:
            return
        cid = conversation.id
        free = conversation.state is State.RINGING and conversation.assignee is None
        if mode == "auto" and free and cid not in tried:
            tried.add(cid)
            start(cid)
        say(
            call=cid,
            state=conversation.state.value,
            assignee=conversation.assignee,
            customer=conversation.customer_name,
            at=time.time(),
        )

    async def follow() -> None:
        for conversation in snapshot.conversations:  # what the console shows first (after a restart too)
            shown(conversation)
        async for batch in backend.events():
            for event in batch:
                if isinstance(event, ConversationUpserted):
                    shown(event.conversation)

    async def holding() -> None:
        held = None
        while True:
            now = backend._queue_ari is not None
            if now != held:
                held = now
                say(holding=now)
            await asyncio.sleep(0.05)

    async def commands() -> None:
        reader = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
        )
        while line := (await reader.readline()).decode().strip():
            word, _, rest = line.partition(" ")
            if word == "accept":
                start(rest)
            elif word == "quit":
                return

    followers = [asyncio.create_task(follow()), asyncio.create_task(holding())]
    say(ready=agent)
    try:
        await commands()  # until `quit` or the end of stdin
    finally:
        for task in [*followers, *tasks]:
            task.cancel()
        await backend.close()
        say(closed=agent)


if __name__ == "__main__":
    asyncio.run(run(json.loads(sys.argv[1])))
