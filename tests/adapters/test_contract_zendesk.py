"""The contract kit (backends/testing.py) on the Zendesk adapter, over the fake Zendesk of tests/zendesk_fake.py
(written from Zendesk's API reference; every request it receives is checked against it)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from standardiste.backends.base import Backend
from standardiste.backends.testing import BackendContract
from standardiste.backends.zendesk import ZendeskBackend
from zendesk_fake import FakeZendesk
from zendesk_harness import ZendeskTraffic, make_backend


class TestZendeskContract(BackendContract):
    recover_within = 20.0

    @pytest.fixture
    async def fake(self) -> AsyncIterator[FakeZendesk]:
        fake = FakeZendesk(export_window=1.0)
        await fake.start()
        try:
            yield fake
        finally:
            await fake.stop()
        assert fake.violations == [], "requests outside Zendesk's API reference"

    @pytest.fixture
    async def backend(self, fake: FakeZendesk, tmp_path: Path) -> AsyncIterator[ZendeskBackend]:
        self.fake, self.data = fake, tmp_path / "data"
        backend = make_backend(fake, self.data, views=["All unsolved tickets"])
        await backend.connect()
        try:
            yield backend
        finally:
            await backend.close()

    @pytest.fixture
    def traffic(self, fake: FakeZendesk) -> ZendeskTraffic:
        return ZendeskTraffic(fake)

    @contextlib.asynccontextmanager
    async def drop(self, backend: Backend) -> AsyncIterator[None]:
        """Zendesk goes away; customers' mail and forms still reach it meanwhile."""
        await self.fake.set_down(True)
        try:
            yield
        finally:
            await self.fake.set_down(False)

    async def reopen(self, backend: Backend) -> Backend:
        return make_backend(self.fake, self.data, views=["All unsolved tickets"])
