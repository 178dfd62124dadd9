"""The messages' and the heads' full-text indexes read at once, on two connections (search_pair.py): the same
hits as one connection gives, and the two reads really overlap. Real SQLite files."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.backends.local import search as search_module
from standardiste.backends.local.search import search
from standardiste.backends.local.search_pair import open_second
from standardiste.console.core.model import Channel, Customer, Direction

ANNA = Customer("c-anna", "Anna Müller", language="de", email="anna@example.de")
JEAN = Customer("c-jean", "Jean Dupont", language="fr", email="jean@example.fr")
QUERIES = (
    "refund",
    "refund ",
    "paket",
    "lang:de paket",
    "dupont",
    "müller refund",
    '"not received"',
    "state:open",
)


def populate(ws: Workspace) -> None:
    with ws.transaction():
        for n in range(300):
            customer = ANNA if n % 3 else JEAN
            subject = "Refund for my Paket" if n % 5 == 0 else f"Question {n}"
            row = ws.create_conversation(channel=Channel.EMAIL, customer=customer, subject=subject)
            body = "the parcel was not received, I want a refund" if n % 4 == 0 else f"Paket {n} kaputt"
            ws.add_message(row, direction=Direction.INBOUND, body=body, author=customer.name)


@pytest.mark.parametrize("broad", [search_module.BROAD, 20])  # 20: the pass over every match too
def test_two_connections_find_what_one_finds(
    ws: Workspace, workspace_path: Path, monkeypatch: pytest.MonkeyPatch, broad: int
) -> None:
    monkeypatch.setattr(search_module, "BROAD", broad)
    populate(ws)
    second = open_second(str(workspace_path))
    try:
        for text in QUERIES:
            alone = search(ws.db, text, now=0.0)
            paired = search(ws.db, text, now=0.0, heads_db=second)
            assert paired == alone, text
            assert alone or text.startswith("state"), f"{text!r} should find something"
    finally:
        second.close()


def test_the_two_indexes_are_read_at_the_same_time(ws: Workspace, workspace_path: Path) -> None:
    populate(ws)
    second = open_second(str(workspace_path))
    # Each connection, at its first step, waits for the other to be reading too: one after the other,
    # the first would wait alone and the barrier break.
    barrier = threading.Barrier(2, timeout=5)
    met: list[str] = []

    def meeting(name: str, db: sqlite3.Connection) -> None:
        def step() -> int:
            if name not in met:
                met.append(name)
                barrier.wait()
            return 0

        db.set_progress_handler(step, 1)

    meeting("messages", ws.db)
    meeting("heads", second)
    try:
        assert search(ws.db, "refund ", now=0.0, heads_db=second)
        assert sorted(met) == ["heads", "messages"]
    finally:
        ws.db.set_progress_handler(None, 0)
        second.close()


async def backend_search(ws: Workspace, workspace_path: Path) -> sqlite3.Connection | None:
    """A backend on the populated file searches as one connection would; its second connection, as it
    was before the backend closed."""
    populate(ws)
    backend = LocalBackend(workspace_path, agent_id="alice")
    await backend.connect()
    try:
        hits = await backend.search("refund ")
        assert [h.conversation_id for h in hits] == [h.conversation_id for h in search(ws.db, "refund ")]
        return backend._search_heads
    finally:
        await backend.close()


async def test_the_backend_reads_both_at_once_and_closes_its_second_connection(
    ws: Workspace, workspace_path: Path
) -> None:
    second = await backend_search(ws, workspace_path)
    assert second is not None
    with pytest.raises(sqlite3.ProgrammingError):  # closed with the backend
        second.execute("SELECT 1")


async def test_without_a_second_connection_the_backend_still_searches(
    ws: Workspace, workspace_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from standardiste.backends.local import backend as backend_module

    def refused(path: str, **_: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(backend_module, "open_second", refused)
    assert await backend_search(ws, workspace_path) is None
