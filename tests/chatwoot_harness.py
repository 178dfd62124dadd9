"""What the Chatwoot tests share: a running fake (chatwoot_fake.py), adapters built on it the way the console
builds them (from a [workspaces.NAME] table, the token through the secret lookup), and customer traffic.
What every help desk's tests share is helpdesk_harness.py."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from chatwoot_fake import FakeChatwoot
from helpdesk_harness import Traffic, context_for, running
from standardiste.backends.chatwoot import ChatwootBackend
from standardiste.console.core.model import Channel

OUTSIDE = "requests or answers outside Chatwoot's OpenAPI document"


def make_backend(fake: FakeChatwoot, data_dir: Path, name: str = "cw", **table: Any) -> ChatwootBackend:
    settings = {"url": fake.base_url, "account": fake.account, **table}
    backend = ChatwootBackend.from_config(name, settings, context_for(fake, data_dir))
    backend._silence = max(2.0, fake.ping_every * 4)  # the fake pings faster than Chatwoot's 3 s
    backend._retry = (0.1, 1.0)
    return backend


@contextlib.asynccontextmanager
async def fake_chatwoot(**options: Any) -> AsyncIterator[FakeChatwoot]:
    """A fake Chatwoot for the `with` block (pings every 0.5 s unless told), every exchange validated."""
    async with running(FakeChatwoot(**{"ping_every": 0.5, **options}), OUTSIDE) as fake:
        yield fake


class ChatwootTraffic(Traffic):
    """Customers writing in through the widget (chat), a mailbox (email) and the API inbox (social)."""

    channels: Sequence[Channel] = (Channel.EMAIL, Channel.CHAT, Channel.SOCIAL)

    async def new_conversation(self, channel: Channel, token: str, *, customer: str = "ann") -> None:
        await self.fake.new_conversation(channel.value, f"Contract {token}", f"Hello {token}", customer)


__all__ = ["OUTSIDE", "ChatwootTraffic", "fake_chatwoot", "make_backend"]
