"""What the Asterisk adapter's tests share: a backend on the test Asterisk, customers calling and saying
things as the outside world does (their own ARI connection), and a link between the console and Asterisk
that can be cut (a TCP proxy), for the reconnect checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from asterisk_server import AsteriskServer
from standardiste.backends.asterisk import AsteriskBackend
from standardiste.backends.base import BackendContext, split_id
from standardiste.console.core.model import Channel, Conversation

AGENT = "alice"
PHONES = {
    "alice": "Local/alice@agent-phones",
    "bob": "Local/bob@agent-phones",
    "carol": "Local/noanswer@agent-phones",
    "dave": "Local/busy@agent-phones",
}


def make_backend(
    server: AsteriskServer,
    data_dir: Path,
    *,
    url: str | None = None,
    agent: str = AGENT,
    name: str = "pbx",
    **table: Any,
) -> AsteriskBackend:
    """An adapter built as the console builds it: from a [workspaces.NAME] table and a context."""
    settings: dict[str, Any] = {
        "url": url or server.url,
        "user": server.user,
        "app": server.app,
        "queues": ["sales", "support", "contract"],
        "phone": PHONES[agent],
        "agent_phones": [f"{a}={p}" for a, p in PHONES.items() if a != agent],
        "callback_dial": "Local/{number}@customers",
        "ring_seconds": 3.0,
        "languages": ["+33=fr", "support=de"],
    }
    settings.update(table)
    password = server.password

    def secret(key: str) -> str:
        assert key == name, key
        return password

    context = BackendContext(agent_id=agent, data_dir=data_dir, secret=secret)
    return AsteriskBackend.from_config(name, settings, context)


def number_of(customer: str) -> str:
    """A stable French mobile number for a customer's name: the same name is the same caller."""
    digits = int(hashlib.sha256(customer.encode()).hexdigest(), 16) % 10**8
    return f"+336{digits:08d}"


class PhoneTraffic:
    """Customers calling the test Asterisk, and saying things during their call (the channel variable
    STANDARDISTE_MESSAGES, as an IVR or a transcription would write it), through ARI connections of their
    own."""

    channels: Sequence[Channel] = (Channel.PHONE, Channel.CALLBACK)

    def __init__(self, server: AsteriskServer, context: str = "from-customer-ring") -> None:
        self.server = server
        self.context = context  # the dialplan customers call into (asterisk_server.py)

    async def new_conversation(self, channel: Channel, token: str, *, customer: str = "ann") -> None:
        await asyncio.to_thread(
            self.server.call,
            number_of(customer),
            f"{customer.title()} {token}",
            "queue-sales",
            callback=channel is Channel.CALLBACK,
            context=self.context,
        )

    async def customer_writes(self, conversation: Conversation, token: str) -> None:
        await asyncio.to_thread(self.says, split_id(conversation.id)[1], f"Again {token}")

    def says(self, channel_id: str, line: str) -> None:
        try:
            found = self.server.ari(
                "GET", f"/channels/{channel_id}/variable", variable="STANDARDISTE_MESSAGES"
            )
            before = found["value"]
        except httpx.HTTPStatusError as error:  # 404 while nothing was said yet
            if error.response.status_code != 404:
                raise
            before = ""
        value = f"{before}\n{line}" if before else line
        self.server.ari(
            "POST", f"/channels/{channel_id}/variable", variable="STANDARDISTE_MESSAGES", value=value
        )


def stasis_channels(server: AsteriskServer) -> list[dict[str, Any]]:
    return [c for c in server.ari("GET", "/channels") if c["dialplan"]["app_name"] == "Stasis"]


def bridge_members(server: AsteriskServer, bridge_id: str) -> list[str]:
    try:
        return list(server.ari("GET", f"/bridges/{bridge_id}")["channels"])
    except httpx.HTTPStatusError:
        return []


async def eventually(check: Callable[[], Any], timeout: float = 5.0, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await asyncio.to_thread(check)
        if found:
            return found
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        await asyncio.sleep(0.1)


class LinkCutter:
    """A TCP proxy between the console and Asterisk's HTTP port. `cut()` breaks the console's side of
    every connection and refuses new ones, as a network partition does, while Asterisk's side stays open
    (Asterisk has not noticed yet: the application stays registered, so customers' calls still enter it).
    Asterisk's side is closed only at `close()`, after the console has gone (closing it earlier would make
    Asterisk unregister the application the console's new websocket holds)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.is_cut = False
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._upstreams: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> LinkCutter:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/ari"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._clients.add(writer)
        self._upstreams.add(up_writer)
        for task in (
            asyncio.create_task(self._pump(reader, up_writer, discard=False)),
            asyncio.create_task(self._pump(up_reader, writer, discard=True)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, discard: bool
    ) -> None:
        """Copy until EOF; towards a cut client, keep reading and drop the bytes (Asterisk writes on)."""
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if writer.is_closing():
                    if discard:
                        continue
                    return
                writer.write(data)
                with contextlib.suppress(OSError):
                    await writer.drain()
        if not discard:
            return
        writer.close()

    def cut(self) -> None:
        self.is_cut = True
        for writer in list(self._clients):
            writer.transport.abort()
        self._clients.clear()

    def mend(self) -> None:
        self.is_cut = False

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in [*self._clients, *self._upstreams]:
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.sleep(0)
