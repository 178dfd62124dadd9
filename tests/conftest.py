"""Fixtures every test file may use. Keep this small: a file's own fixtures live in that file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True, scope="session")
def _log_file_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Consoles started by tests (in-process or in a pty) log here, never into the user's own log folder."""
    import os

    previous = os.environ.get("STANDARDISTE_LOG")
    os.environ["STANDARDISTE_LOG"] = str(tmp_path_factory.mktemp("log") / "standardiste.log")
    yield
    if previous is None:
        os.environ.pop("STANDARDISTE_LOG", None)
    else:
        os.environ["STANDARDISTE_LOG"] = previous


@pytest.fixture
def workspace_path(tmp_path: Path) -> Path:
    """A path for a fresh workspace file (not created yet) in this test's own temporary directory."""
    return tmp_path / "workspace.db"


@pytest.fixture
def imap_server(tmp_path: Path) -> Iterator[Any]:
    """A real IMAP server (pymap) on 127.0.0.1 with an INBOX and a Sent folder (tests/mailservers.py)."""
    from mailservers import running_imap

    with running_imap(tmp_path / "imap") as server:
        yield server


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives."""
    from mailservers import running_smtp

    with running_smtp() as server:
        yield server


# Two agents' consoles (alice, bob) on one workspace file, and a plain `Workspace` to seed it and read it back.


@pytest.fixture
def ws(workspace_path: Path) -> Iterator[Any]:
    from standardiste.backends.local import Workspace

    workspace = Workspace(workspace_path)
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
async def alice(workspace_path: Path, ws: Any) -> AsyncIterator[Any]:
    from standardiste.backends.local import LocalBackend

    backend = LocalBackend(workspace_path, agent_id="alice")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
async def bob(workspace_path: Path, ws: Any) -> AsyncIterator[Any]:
    from standardiste.backends.local import LocalBackend

    backend = LocalBackend(workspace_path, agent_id="bob")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


# The workspace on PostgreSQL (tests/postgres_server.py): one throwaway server per test process, a database
# per test.


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    from postgres_server import running_postgres

    with running_postgres() as server:
        yield server


@pytest.fixture
def pg_dsn(postgres_server: Any) -> Iterator[str]:
    """A DSN of a fresh, empty workspace for this test (a schema of its own in the server's `tests`)."""
    dsn = postgres_server.new_schema()
    try:
        yield dsn
    finally:
        postgres_server.drop_schema(dsn)


@pytest.fixture(params=["sqlite", "postgres"])
def workspace_target(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The same workspace rules on both storages: a file, then a PostgreSQL database. A test module runs
    on both by overriding `workspace_path` with it (the `ws`, `alice` and `bob` fixtures then follow)."""
    if request.param == "sqlite":
        return tmp_path / "workspace.db"
    return request.getfixturevalue("pg_dsn")
