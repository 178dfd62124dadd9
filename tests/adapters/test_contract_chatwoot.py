"""The contract kit (backends/testing.py) on the Chatwoot adapter, over the fake Chatwoot of
tests/chatwoot_fake.py (REST validated against Chatwoot's OpenAPI document, ActionCable on /cable)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from chatwoot_fake import FakeChatwoot
from chatwoot_harness import ChatwootTraffic, fake_chatwoot, make_backend
from helpdesk_harness import away, connected
from standardiste.backends.base import Backend
from standardiste.backends.chatwoot import ChatwootBackend
from standardiste.backends.testing import BackendContract


class TestChatwootContract(BackendContract):
    recover_within = 20.0

    @pytest.fixture
    async def fake(self) -> AsyncIterator[FakeChatwoot]:
        async with fake_chatwoot() as fake:
            yield fake

    @pytest.fixture
    async def backend(self, fake: FakeChatwoot, tmp_path: Path) -> AsyncIterator[ChatwootBackend]:
        self.fake, self.data = fake, tmp_path / "data"
        async with connected(make_backend(fake, self.data)) as backend:
            yield backend

    @pytest.fixture
    def traffic(self, fake: FakeChatwoot) -> ChatwootTraffic:
        return ChatwootTraffic(fake)

    def drop(self, backend: Backend) -> AbstractAsyncContextManager[None]:
        """Chatwoot goes away (REST and cable); customers' messages still reach it meanwhile."""
        return away(self.fake)

    async def reopen(self, backend: Backend) -> Backend:
        return make_backend(self.fake, self.data)
