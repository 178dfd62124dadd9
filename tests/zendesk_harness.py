"""What the Zendesk tests share: a fake Zendesk (zendesk_fake.py), adapters built on it the way the console
builds them (from a [workspaces.NAME] table, the token through the secret lookup), and customer traffic."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from standardiste.backends.base import BackendContext
from standardiste.backends.zendesk import ZendeskBackend
from standardiste.console.core.model import Channel, Conversation
from zendesk_fake import FakeZendesk


def make_backend(fake: FakeZendesk, data_dir: Path, name: str = "zd", **table: Any) -> ZendeskBackend:
    context = BackendContext(agent_id="ann", data_dir=data_dir, secret=lambda _name: fake.token)
    settings = {
        "url": fake.base_url,
        "email": "ann@example.test",
        "poll": 0.2,
        "export_interval": 0.5,
        **table,
    }
    backend = ZendeskBackend.from_config(name, settings, context)
    backend._retry = (0.1, 1.0)
    return backend


class ZendeskTraffic:
    """Customers writing in by mail, the web form, a chat and a social network (tickets made as Zendesk
    makes them for each channel)."""

    channels: Sequence[Channel] = (Channel.EMAIL, Channel.FORM, Channel.CHAT, Channel.SOCIAL)

    def __init__(self, fake: FakeZendesk) -> None:
        self.fake = fake

    async def new_conversation(self, channel: Channel, token: str, *, customer: str = "ann") -> None:
        await self.fake.new_ticket(channel.value, f"Contract {token}", f"Hello {token}", customer)

    async def customer_writes(self, conversation: Conversation, token: str) -> None:
        await self.fake.customer_writes(int(conversation.id.partition(":")[2]), f"Again {token}")


__all__ = ["ZendeskTraffic", "make_backend"]
