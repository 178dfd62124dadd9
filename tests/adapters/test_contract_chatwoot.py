"""The contract kit (backends/testing.py) on the Chatwoot adapter, over the fake Chatwoot of
tests/chatwoot_fake.py (REST validated against Chatwoot's OpenAPI document, ActionCable on /cable)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from chatwoot_fake import FakeChatwoot
from chatwoot_harness import ChatwootTraffic, make_backend
from standardiste.backends.base import Backend
from standardiste.backends.chatwoot import ChatwootBackend
from standardiste.backends.testing import BackendContract


class TestChatwootContract(BackendContract):
    recover_within = 20.0

    @pytest.fixture
    async def fake(self) -> AsyncIterator[FakeChatwoot]:
        fake = FakeChatwoot(ping_every=0.5)
        await fake.start()
        try:
            yield fake
        finally:
            await fake.stop()
        assert fake.violations == [], "requests or answers outside Chatwoot's OpenAPI document"

    @pytest.fixture
    async def backend(self, fake: FakeChatwoot, tmp_path: Path) -> AsyncIterator[ChatwootBackend]:
        self.fake, self.data = fake, tmp_path / "data"
        backend = make_backend(fake, self.data)
        await backend.connect()
        try:
            yield backend
        finally:
            await backend.close()

    @pytest.fixture
    def traffic(self, fake: FakeChatwoot) -> ChatwootTraffic:
        return ChatwootTraffic(fake)

    @contextlib.asynccontextmanager
    async def drop(self, backend: Backend) -> AsyncIterator[None]:
        """Chatwoot goes away (REST and cable); customers' messages still reach it meanwhile."""
        await self.fake.set_down(True)
        try:
            yield
        finally:
            await self.fake.set_down(False)

    async def reopen(self, backend: Backend) -> Backend:
        return make_backend(self.fake, self.data)
