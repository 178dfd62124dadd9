"""The contract kit (backends/testing.py) on the Asterisk adapter, over the real Asterisk of the other
Asterisk tests (tests/asterisk_server.py). Customer traffic is calls placed into the Stasis application and
lines the customer says during them, from ARI connections of their own; the dropped link is a network
partition between the console and Asterisk (tests/helpers/asterisk_kit.py, LinkCutter), during which
customers still call."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from asterisk_server import AsteriskServer, asterisk
from helpers.asterisk_kit import LinkCutter, PhoneTraffic, make_backend
from standardiste.backends.asterisk import AsteriskBackend
from standardiste.backends.base import Backend
from standardiste.backends.testing import BackendContract

# One Asterisk for the whole run (one worker): a chroot of 345 MB each, and a PBX stopped by one test
# must not starve another's on two cores.
pytestmark = pytest.mark.xdist_group("asterisk")

__all__ = ["asterisk"]


class TestAsteriskContract(BackendContract):
    # The hub's backoff after the partition heals (1 s, 2 s, 4 s... with jitter).
    recover_within = 25.0

    @pytest.fixture
    async def backend(self, asterisk: AsteriskServer, tmp_path: Path) -> AsyncIterator[AsteriskBackend]:
        self.link = await LinkCutter(asterisk.http_port).start()
        self.made = (asterisk, tmp_path / "data", self.link.url)
        backend = make_backend(asterisk, tmp_path / "data", url=self.link.url)
        await backend.connect()
        try:
            yield backend
        finally:
            await backend.close()
            await self.link.close()
            await asyncio.to_thread(asterisk.hang_up_all)

    @pytest.fixture
    def traffic(self, asterisk: AsteriskServer) -> PhoneTraffic:
        return PhoneTraffic(asterisk)

    @contextlib.asynccontextmanager
    async def drop(self, backend: Backend) -> AsyncIterator[None]:
        self.link.cut()
        try:
            yield
        finally:
            self.link.mend()

    async def reopen(self, backend: Backend) -> Backend:
        server, data_dir, url = self.made
        return make_backend(server, data_dir, url=url)


class TestAsteriskTeamContract(TestAsteriskContract):
    """The same kit on a console of a team (docs/asterisk.md, "A team"): its own application, the customers'
    one held through the lease, the calls read from the team's file and taken by a claim. Customers call
    into the dialplan that tries again while the application changes hands (after the partition)."""

    @pytest.fixture
    async def backend(self, asterisk: AsteriskServer, tmp_path: Path) -> AsyncIterator[AsteriskBackend]:
        self.link = await LinkCutter(asterisk.http_port).start()
        team = str(tmp_path / "team.sqlite")
        self.made = (asterisk, tmp_path / "data", self.link.url, team)
        backend = make_backend(asterisk, tmp_path / "data", url=self.link.url, team=team)
        await backend.connect()
        try:
            yield backend
        finally:
            await backend.close()
            await self.link.close()
            await asyncio.to_thread(asterisk.hang_up_all)

    @pytest.fixture
    def traffic(self, asterisk: AsteriskServer) -> PhoneTraffic:
        return PhoneTraffic(asterisk, context="from-customer-team")

    async def reopen(self, backend: Backend) -> Backend:
        server, data_dir, url, team = self.made
        return make_backend(server, data_dir, url=url, team=team)


class TestAsteriskPostgresTeamContract(TestAsteriskTeamContract):
    """The kit on a team console whose team's queue is on PostgreSQL: read when a write NOTIFYs."""

    @pytest.fixture
    async def backend(
        self, asterisk: AsteriskServer, tmp_path: Path, pg_dsn: str
    ) -> AsyncIterator[AsteriskBackend]:
        self.link = await LinkCutter(asterisk.http_port).start()
        self.made = (asterisk, tmp_path / "data", self.link.url, pg_dsn)
        backend = make_backend(asterisk, tmp_path / "data", url=self.link.url, team=pg_dsn)
        await backend.connect()
        try:
            yield backend
        finally:
            await backend.close()
            await self.link.close()
            await asyncio.to_thread(asterisk.hang_up_all)
