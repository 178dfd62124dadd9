"""What the Zendesk tests share: a fake Zendesk (zendesk_fake/), adapters built on it the way the console
builds them (from a [workspaces.NAME] table, the token through the secret lookup), and customer traffic.
What every help desk's tests share is helpdesk_harness.py."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from helpdesk_harness import Traffic, context_for, running
from standardiste.backends.zendesk import ZendeskBackend
from standardiste.console.core.model import Channel
from zendesk_fake import FakeZendesk

OUTSIDE = "requests outside Zendesk's API reference"


def make_backend(fake: FakeZendesk, data_dir: Path, name: str = "zd", **table: Any) -> ZendeskBackend:
    settings = {
        "url": fake.base_url,
        "email": "ann@example.test",
        "poll": 0.2,
        "export_interval": 0.5,
        **table,
    }
    backend = ZendeskBackend.from_config(name, settings, context_for(fake, data_dir))
    backend._retry = (0.1, 1.0)
    return backend


@contextlib.asynccontextmanager
async def fake_zendesk(**options: Any) -> AsyncIterator[FakeZendesk]:
    """A fake Zendesk for the `with` block (its export's window 1 s unless told), every request checked."""
    async with running(FakeZendesk(**{"export_window": 1.0, **options}), OUTSIDE) as fake:
        yield fake


class ZendeskTraffic(Traffic):
    """Customers writing in by mail, the web form, a chat and a social network (tickets made as Zendesk
    makes them for each channel)."""

    channels: Sequence[Channel] = (Channel.EMAIL, Channel.FORM, Channel.CHAT, Channel.SOCIAL)

    async def new_conversation(self, channel: Channel, token: str, *, customer: str = "ann") -> None:
        await self.fake.new_ticket(channel.value, f"Contract {token}", f"Hello {token}", customer)


__all__ = ["OUTSIDE", "ZendeskTraffic", "fake_zendesk", "make_backend"]
