"""The contract kit (backends/testing.py) on the local workspace stored in a real PostgreSQL server.

The console connects as a plain role with a password (`agent_pw`); the customers' traffic is another
connection, as another machine's. A drop is real: the console's connections are cut by the server
(`pg_terminate_backend`) and it may not connect again (CONNECT revoked) until the drop ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from postgres_server import PASSWORD, PASSWORD_ROLE
from standardiste.backends.base import Backend
from standardiste.backends.local import LocalBackend
from standardiste.backends.testing import BackendContract
from test_contract_local import POLL, WorkspaceTraffic


class TestPostgresContract(BackendContract):
    @pytest.fixture
    def dsn(self, postgres_server: Any) -> Iterator[str]:
        admin_dsn = postgres_server.new_schema()
        try:
            yield admin_dsn
        finally:
            postgres_server.drop_schema(admin_dsn)

    @pytest.fixture
    async def backend(self, dsn: str, postgres_server: Any) -> AsyncIterator[LocalBackend]:
        self.server = postgres_server
        agent_dsn = dsn.replace("postgresql://postgres@", f"postgresql://{PASSWORD_ROLE}@")
        backend = LocalBackend(agent_dsn, agent_id="alice", poll_interval=POLL, password=PASSWORD)
        await backend.connect()
        try:
            yield backend
        finally:
            await backend.close()

    @pytest.fixture
    def traffic(self, dsn: str, backend: LocalBackend) -> Iterator[WorkspaceTraffic]:
        traffic = WorkspaceTraffic(dsn)
        try:
            yield traffic
        finally:
            traffic.ws.close()

    @contextlib.asynccontextmanager
    async def drop(self, backend: Backend) -> AsyncIterator[None]:
        self.server.admin(
            "REVOKE CONNECT ON DATABASE tests FROM PUBLIC",
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{PASSWORD_ROLE}'",
        )
        try:
            yield
        finally:
            self.server.admin("GRANT CONNECT ON DATABASE tests TO PUBLIC")

    async def reopen(self, backend: Backend) -> Backend:
        assert isinstance(backend, LocalBackend)
        return LocalBackend(backend.path, agent_id=backend.agent_id, poll_interval=POLL, password=PASSWORD)
