"""The contract kit (backends/testing.py) on the Zendesk adapter, over the fake Zendesk of tests/zendesk_fake/
(written from Zendesk's API reference; every request it receives is checked against it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from helpdesk_harness import away, connected
from standardiste.backends.base import Backend
from standardiste.backends.testing import BackendContract
from standardiste.backends.zendesk import ZendeskBackend
from zendesk_fake import FakeZendesk
from zendesk_harness import ZendeskTraffic, fake_zendesk, make_backend


class TestZendeskContract(BackendContract):
    recover_within = 20.0

    @pytest.fixture
    async def fake(self) -> AsyncIterator[FakeZendesk]:
        async with fake_zendesk() as fake:
            yield fake

    @pytest.fixture
    async def backend(self, fake: FakeZendesk, tmp_path: Path) -> AsyncIterator[ZendeskBackend]:
        self.fake, self.data = fake, tmp_path / "data"
        async with connected(make_backend(fake, self.data, views=["All unsolved tickets"])) as backend:
            yield backend

    @pytest.fixture
    def traffic(self, fake: FakeZendesk) -> ZendeskTraffic:
        return ZendeskTraffic(fake)

    def drop(self, backend: Backend) -> AbstractAsyncContextManager[None]:
        """Zendesk goes away; customers' mail and forms still reach it meanwhile."""
        return away(self.fake)

    async def reopen(self, backend: Backend) -> Backend:
        return make_backend(self.fake, self.data, views=["All unsolved tickets"])
