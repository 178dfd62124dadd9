"""What the Chatwoot tests share: a running fake (chatwoot_fake.py), adapters built on it the way the console
builds them (from a [workspaces.NAME] table, the token through the secret lookup), and customer traffic."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chatwoot_fake import FakeChatwoot
from standardiste.backends.base import BackendContext
from standardiste.backends.chatwoot import ChatwootBackend
from standardiste.console.core.model import Channel, Conversation


def make_backend(fake: FakeChatwoot, data_dir: Path, name: str = "cw", **table: Any) -> ChatwootBackend:
    context = BackendContext(agent_id="ann", data_dir=data_dir, secret=lambda _name: fake.token)
    backend = ChatwootBackend.from_config(
        name, {"url": fake.base_url, "account": fake.account, **table}, context
    )
    backend._silence = max(2.0, fake.ping_every * 4)  # the fake pings faster than Chatwoot's 3 s
    backend._retry = (0.1, 1.0)
    return backend


class ChatwootTraffic:
    """Customers writing in through the widget (chat), a mailbox (email) and the API inbox (social)."""

    channels: Sequence[Channel] = (Channel.EMAIL, Channel.CHAT, Channel.SOCIAL)

    def __init__(self, fake: FakeChatwoot) -> None:
        self.fake = fake

    async def new_conversation(self, channel: Channel, token: str, *, customer: str = "ann") -> None:
        await self.fake.new_conversation(channel.value, f"Contract {token}", f"Hello {token}", customer)

    async def customer_writes(self, conversation: Conversation, token: str) -> None:
        await self.fake.customer_writes(int(conversation.id.partition(":")[2]), f"Again {token}")


__all__ = ["ChatwootTraffic", "make_backend"]
