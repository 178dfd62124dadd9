"""What only the workspace on PostgreSQL has: its schema and versions, roles and passwords, TLS, and changes
announced across machines (LISTEN/NOTIFY with a catch-up by seq). A real server (tests/postgres_server.py).
The workspace's rules themselves are the file's tests, run on both storages (test_local_*.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from postgres_server import PASSWORD, PASSWORD_ROLE, READ_ONLY_ROLE, running_postgres
from standardiste.backends.base import (
    AuthError,
    ConversationUpserted,
    Invalid,
    MessageAdded,
    Reply,
    Unavailable,
)
from standardiste.backends.local import LocalBackend, Workspace, migrations
from standardiste.backends.local.database import (
    DatabaseUnavailable,
    SchemaTooNew,
    WriteRefused,
    as_target,
    shown,
)
from standardiste.backends.local.postgres import translate
from standardiste.console.core.model import Channel, Customer, Direction
from standardiste.console.core.storage import storage_problem

ANN = Customer(id="c-ann", name="Ann", email="ann@example.com")


def as_role(dsn: str, role: str) -> str:
    return dsn.replace("postgresql://postgres@", f"postgresql://{role}@")


@pytest.fixture
def ws(pg_dsn: str) -> Iterator[Workspace]:
    workspace = Workspace(pg_dsn)
    try:
        yield workspace
    finally:
        workspace.close()


# ------------------------------------------------------------------------------------------ the SQL


def test_parameters_are_translated_outside_quotes_and_percent_signs_doubled() -> None:
    assert translate("SELECT a FROM t WHERE b = ? AND c = '?' AND d LIKE '100%'") == (
        "SELECT a FROM t WHERE b = %s AND c = '?' AND d LIKE '100%%'"
    )
    assert translate("SELECT 1 WHERE a = :me AND b IN (:w0, :w1) AND c = ':no'", named=True) == (
        "SELECT 1 WHERE a = %(me)s AND b IN (%(w0)s, %(w1)s) AND c = ':no'"
    )


def test_a_dsn_is_never_a_path_and_its_password_is_never_shown() -> None:
    assert as_target("postgresql://alice@db.shop:5433/team") == "postgresql://alice@db.shop:5433/team"
    assert as_target("~/team.db") == Path("~/team.db").expanduser()
    assert shown("postgresql://alice:s3cret@db.shop:5433/team?sslmode=verify-full") == (
        "postgresql://alice@db.shop:5433/team?sslmode=verify-full"
    )


# ------------------------------------------------------------------------------------------ schema


def test_a_new_database_gets_the_schema_its_triggers_and_version(ws: Workspace) -> None:
    tables = {
        r[0] for r in ws.db.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    }
    assert {
        "conversations",
        "messages",
        "agents",
        "customers",
        "changes",
        "command_keys",
        "csat",
        "offers",
    } <= tables
    triggers = {r[0] for r in ws.db.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
    assert {"conversations_ins", "messages_upd", "offers_del", "typing_del", "changes_notify"} <= triggers
    assert migrations.stored_version(ws.db, "postgres") == migrations.CURRENT


def test_row_ids_follow_explicit_ones_as_on_the_file(ws: Workspace) -> None:
    """The backfill writes ids itself; a conversation made after them takes the next one, never a taken one."""
    ws.db.execute(
        "INSERT INTO conversations (id, channel, state, customer_id, created_at, updated_at) "
        "VALUES (?, 'chat', 'waiting', 'c-x', 0, 0)",
        (41,),
    )
    assert ws.create_conversation(channel=Channel.CHAT, customer=ANN, subject="next") == 42


def test_a_workspace_of_a_newer_version_is_refused_with_a_plain_message(pg_dsn: str) -> None:
    first = Workspace(pg_dsn)
    first.db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(migrations.CURRENT + 1),))
    first.close()
    with pytest.raises(SchemaTooNew, match=rf"schema version {migrations.CURRENT + 1}.*update standardiste"):
        Workspace(pg_dsn)


async def test_the_console_says_a_newer_workspace_is_not_for_it(pg_dsn: str) -> None:
    first = Workspace(pg_dsn)
    first.db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    first.close()
    backend = LocalBackend(pg_dsn, agent_id="alice")
    with pytest.raises(Invalid, match="schema version 99"):
        await backend.connect()
    await backend.close()


def test_an_older_workspace_is_migrated_once_on_open(
    pg_dsn: str, workspace_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for target in (pg_dsn, workspace_path):
        Workspace(target).close()  # this version
        step = "ALTER TABLE conversations ADD COLUMN mood TEXT NOT NULL DEFAULT 'calm'"
        later = migrations.CURRENT + 1
        monkeypatch.setattr(migrations, "CURRENT", later)
        monkeypatch.setattr(migrations, "STEPS", {later: {"postgres": (step,), "sqlite": (step,)}})
        ws = Workspace(target)
        try:
            assert migrations.stored_version(ws.db, ws.dialect) == later
            row = ws.create_conversation(channel=Channel.CHAT, customer=ANN, subject="moods")
            assert (
                ws.db.execute("SELECT mood FROM conversations WHERE id = ?", (row,)).fetchone()[0] == "calm"
            )
        finally:
            ws.close()
        Workspace(
            target
        ).close()  # already at 2: the step is not run again (it would fail: the column exists)
        monkeypatch.undo()


# ------------------------------------------------------------------------------------------ roles


async def test_a_read_only_supervisor_reads_and_is_told_plainly_when_a_write_is_refused(
    pg_dsn: str, postgres_server: Any
) -> None:
    owner = Workspace(pg_dsn)
    row = owner.create_conversation(channel=Channel.EMAIL, customer=ANN, subject="Where is my parcel?")
    owner.close()
    schema = pg_dsn.rpartition("%3D")[2]
    postgres_server.grant_read_only("tests")
    postgres_server.admin(
        f"GRANT USAGE ON SCHEMA {schema} TO {READ_ONLY_ROLE}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {READ_ONLY_ROLE}",
        database="tests",
    )
    supervisor = Workspace(as_role(pg_dsn, READ_ONLY_ROLE))
    try:
        assert supervisor.require(row).subject == "Where is my parcel?"
        with pytest.raises(WriteRefused, match=f"role '{READ_ONLY_ROLE}' may only read") as refused:
            supervisor.claim(row, "sam")
        assert storage_problem(refused.value) == "write refused: read-only role"
    finally:
        supervisor.close()

    backend = LocalBackend(as_role(pg_dsn, READ_ONLY_ROLE), agent_id="sam", register=False)
    troubles: list[BaseException | None] = []
    backend.on_write_trouble = troubles.append
    await backend.connect()
    try:
        snapshot = await backend.snapshot()
        assert [c.subject for c in snapshot.conversations] == ["Where is my parcel?"]
        with pytest.raises(AuthError, match="may only read"):
            await backend.perform(Reply(conversation_id=f"local:{row}", body="On its way", key="k-ro"))
        assert troubles and storage_problem(troubles[-1]) == "write refused: read-only role"
    finally:
        await backend.close()


# ------------------------------------------------------------------------------------------ passwords


def test_a_password_role_connects_with_its_password_from_each_source(
    pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = as_role(pg_dsn, PASSWORD_ROLE)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    with pytest.raises(DatabaseUnavailable) as refused:
        Workspace(dsn, password="wrong-password")
    assert "password authentication failed" in str(refused.value) and "wrong-password" not in str(
        refused.value
    )

    Workspace(dsn, password=PASSWORD).close()  # (the role makes the workspace) from the keyring (`standardiste login`), through the adapter
    monkeypatch.setenv("PGPASSWORD", PASSWORD)  # libpq's own variable
    Workspace(dsn).close()
    monkeypatch.delenv("PGPASSWORD")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:*:*:{PASSWORD_ROLE}:{PASSWORD}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    Workspace(dsn).close()


async def test_the_adapter_asks_the_keyring_only_when_the_dsn_has_no_password(
    pg_dsn: str, tmp_path: Path
) -> None:
    from standardiste.backends.base import BackendContext

    asked: list[str] = []

    def secret(name: str) -> str:
        asked.append(name)
        return PASSWORD

    context = BackendContext(agent_id="alice", data_dir=tmp_path, secret=secret)
    backend = LocalBackend.from_config("team", {"db": as_role(pg_dsn, PASSWORD_ROLE)}, context)
    await backend.connect()
    try:
        assert asked == ["team"]
        assert (await backend.snapshot()).me == "alice"
    finally:
        await backend.close()


# ------------------------------------------------------------------------------------------ TLS


@pytest.fixture(scope="module")
def tls_server() -> Iterator[Any]:
    with running_postgres(tls=True) as server:
        yield server


def test_tls_with_verify_full_checks_the_server_certificate(tls_server: Any, tmp_path: Path) -> None:
    assert tls_server.tls is not None
    role = f"{PASSWORD_ROLE}_tls"
    good = tls_server.dsn("tests", user=role, sslmode="verify-full", sslrootcert=str(tls_server.tls.ca))
    ws = Workspace(good, password=PASSWORD)
    try:
        assert ws.db.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()[0] is True
    finally:
        ws.close()
    from mailservers import make_certificates

    stranger = make_certificates(tmp_path / "other")  # another CA: the server's certificate is not trusted
    bad = tls_server.dsn("tests", user=role, sslmode="verify-full", sslrootcert=str(stranger.ca))
    with pytest.raises(DatabaseUnavailable, match="certificate verify failed"):
        Workspace(bad, password=PASSWORD)


# ------------------------------------------------------------------------------------------ change feed


@pytest.fixture
async def alice(pg_dsn: str) -> AsyncIterator[LocalBackend]:
    # No catch-up read for a minute: what arrives sooner came by NOTIFY.
    backend = LocalBackend(pg_dsn, agent_id="alice", catch_up_interval=60.0)
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


async def _next_events(events: Any, wanted: Any, timeout: float) -> list[Any]:
    seen: list[Any] = []
    deadline = time.monotonic() + timeout
    while not any(wanted(e) for e in seen):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"nothing wanted within {timeout} s: {seen}"
        seen.extend(await asyncio.wait_for(events.__anext__(), remaining))
    return seen


async def test_a_change_on_another_connection_is_announced_at_once(alice: LocalBackend, pg_dsn: str) -> None:
    await alice.snapshot()
    events = alice.events()
    other = Workspace(pg_dsn)  # another machine's console
    try:
        latencies = []
        for n in range(20):
            started = time.perf_counter()
            other.create_conversation(channel=Channel.CHAT, customer=ANN, subject=f"ping {n}")
            await _next_events(
                events,
                lambda e, n=n: isinstance(e, ConversationUpserted) and e.conversation.subject == f"ping {n}",
                5,
            )
            latencies.append(time.perf_counter() - started)
        latencies.sort()
        # Far below the minute of the catch-up read: NOTIFY woke it (bench/postgres.py measures the p95).
        assert latencies[len(latencies) // 2] < 0.5, latencies
    finally:
        other.close()
        await events.aclose()


async def test_a_lost_notification_costs_a_delay_not_a_change(pg_dsn: str) -> None:
    backend = LocalBackend(pg_dsn, agent_id="alice", catch_up_interval=0.3)
    await backend.connect()
    await backend.snapshot()
    events = backend.events()
    other = Workspace(pg_dsn)
    try:
        other.db.execute("ALTER TABLE changes DISABLE TRIGGER changes_notify")  # nothing is announced now
        row = other.create_conversation(channel=Channel.CHAT, customer=ANN, subject="unannounced")
        other.add_message(row, direction=Direction.INBOUND, body="hello?")
        seen = await _next_events(events, lambda e: isinstance(e, MessageAdded), 5)
        assert [e.conversation.subject for e in seen if isinstance(e, ConversationUpserted)] == [
            "unannounced"
        ]
    finally:
        other.close()
        await events.aclose()
        await backend.close()


async def test_a_lost_connection_is_unavailable_and_a_new_connect_resumes(
    alice: LocalBackend, pg_dsn: str, postgres_server: Any
) -> None:
    """The server cuts the console's connections: its events end with Unavailable (the hub then closes, waits
    and connects again: the kit's reconnect test), and what was written meanwhile is in the next snapshot."""
    await alice.snapshot()
    events = alice.events()
    postgres_server.admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name LIKE 'standardiste%' AND pid <> pg_backend_pid()"
    )
    with pytest.raises(Unavailable, match="lost the database"):
        await _next_events(events, lambda e: False, 10)
    other = Workspace(pg_dsn)
    other.create_conversation(channel=Channel.EMAIL, customer=ANN, subject="written while away")
    other.close()
    await alice.close()
    await alice.connect()
    assert [c.subject for c in (await alice.snapshot()).conversations] == ["written while away"]
