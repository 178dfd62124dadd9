"""The language and channel as words of the file's full-text indexes (backends/local/search_facets.py).

Real SQLite files: `lang:de pa` is one FTS5 lookup of German rows, not a join of every "pa" in the file;
the facets follow a conversation changed by hand, leave the ranking alone, and never match a typed word.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlite_steps import vm_steps
from standardiste.backends.local import Workspace
from standardiste.backends.local import search as search_module
from standardiste.backends.local.search import search
from standardiste.console.core.model import Channel, Customer, Direction

SVEN = Customer("c-sven", "Sven Berg", language="sv")
ANNA = Customer("c-anna", "Anna Müller", language="de")


def conversation(ws: Workspace, subject: str, body: str, customer: Customer, **kwargs: Any) -> int:
    row = ws.create_conversation(channel=Channel.EMAIL, customer=customer, subject=subject, **kwargs)
    ws.add_message(row, direction=Direction.INBOUND, body=body, author=customer.name)
    return row


def ids(ws: Workspace, text: str) -> list[str]:
    return [hit.conversation_id for hit in search(ws.db, text)]


def check(ws: Workspace) -> None:
    """FTS5's own check of each index: it raises when a row's words were taken out under other text."""
    for table in ("search_messages", "search_heads"):
        ws.db.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")


def test_a_language_rare_among_the_matches_reads_its_own_rows_only(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As at a million conversations, with small numbers: the newest BROAD matches of "pa" (the folded
    # Swedish "på") are all Swedish, and the German one is older.
    monkeypatch.setattr(search_module, "BROAD", 100)
    german = conversation(ws, "Paket", "pa ist kurz für Paket", ANNA, created_at=1.0)

    def more_swedish(count: int) -> None:
        with ws.transaction():
            for n in range(count):
                conversation(ws, "Fråga", f"jag väntar på paketet {n}", SVEN, created_at=10.0 + n)

    more_swedish(1_000)
    assert ids(ws, "lang:de pa") == [f"local:{german}"]
    assert ids(ws, "lang:sv pa ist") == []
    before = vm_steps(ws.db, lambda: ids(ws, "lang:de pa"))
    more_swedish(2_000)
    # The window of the newest "pa" holds no German row, so every match is looked at. Without the facets
    # that joins every one: 2,000 more Swedish matches are about 110,000 more steps. With them, FTS5
    # intersects "pa" with the German rows: a few more index pages read.
    assert vm_steps(ws.db, lambda: ids(ws, "lang:de pa")) < before + 10_000


def test_a_typed_word_never_matches_a_facet(ws: Workspace) -> None:
    conversation(ws, "Hallo", "Guten Tag", ANNA)
    assert ids(ws, "lde") == [] and ids(ws, "cemail") == []
    assert ids(ws, "lang:de cemail") == []


def test_a_language_or_channel_changed_by_hand_moves_every_row(ws: Workspace) -> None:
    row = conversation(ws, "Rücksendung", "Das Paket ist beschädigt", ANNA)
    ws.add_message(row, direction=Direction.OUTBOUND, body="Wir senden ein neues Paket", author="agent")
    ws.db.execute("UPDATE conversations SET language = 'fr', channel = 'chat' WHERE id = ?", (row,))
    found = [f"local:{row}"]
    assert ids(ws, "lang:fr paket") == found and ids(ws, "lang:fr neues") == found
    assert ids(ws, "lang:fr rucksendung") == found  # the head too
    assert ids(ws, "lang:de paket") == [] and ids(ws, "channel:email rucksendung") == []
    assert ids(ws, "channel:chat lang:fr beschadigt") == found
    ws.db.execute("UPDATE conversations SET subject = 'Retour' WHERE id = ?", (row,))
    ws.db.execute("UPDATE messages SET body = 'Le colis est abîmé' WHERE conversation_id = ? AND direction = 'inbound'", (row,))  # fmt: skip
    assert ids(ws, "lang:fr retour") == found and ids(ws, "channel:chat abime") == found
    ws.db.execute("DELETE FROM messages WHERE conversation_id = ?", (row,))
    assert ids(ws, "lang:fr colis") == []
    check(ws)


def test_the_facets_weigh_nothing_in_the_ranking(ws: Workspace) -> None:
    in_body = conversation(ws, "Question", "Where is my refund, please?", ANNA)
    in_subject = conversation(ws, "Refund", "Hello", ANNA)
    alone = {hit.conversation_id: hit.score for hit in search(ws.db, "refund ")}
    narrowed = {hit.conversation_id: hit.score for hit in search(ws.db, "lang:de channel:email refund ")}
    assert set(alone) == {f"local:{in_body}", f"local:{in_subject}"}
    assert narrowed == alone


def test_a_file_indexed_before_the_facets_gets_them_on_open(file_path: Path) -> None:
    ws = Workspace(file_path)
    row = conversation(ws, "Paket", "wo ist mein Paket", ANNA)
    # Version 6's tables: no facets column, the messages' text read from the table itself.
    ws.db.execute("DROP TABLE search_messages")
    ws.db.execute("DROP TABLE search_heads")
    ws.db.execute("DROP VIEW search_message_text")
    ws.db.execute(
        "CREATE VIRTUAL TABLE search_messages USING fts5(body, content='messages', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    ws.db.execute("CREATE VIRTUAL TABLE search_heads USING fts5(subject, customer)")
    ws.db.execute("UPDATE meta SET value = '6' WHERE key = 'search_index'")
    ws.close()
    told: list[str] = []
    reopened = Workspace(file_path, on_progress=told.append)
    try:
        assert told == [search_module.REBUILDING]  # the console says why it takes a minute at 1M
        assert ids(reopened, "lang:de mein") == [f"local:{row}"] and ids(reopened, "lang:fr mein") == []
        assert ids(reopened, "channel:email paket") == [f"local:{row}"]
        weights = reopened.db.execute("SELECT v FROM search_messages_config WHERE k = 'rank'").fetchone()
        assert weights == (search_module.RANKS["search_messages"],)
        check(reopened)
    finally:
        reopened.close()


@pytest.fixture
def file_path(tmp_path: Path) -> Path:
    return tmp_path / "workspace.db"


def test_a_new_or_current_file_opens_without_a_word_of_rebuilding(file_path: Path) -> None:
    told: list[str] = []
    Workspace(file_path, on_progress=told.append).close()  # new: empty indexes made, nothing to fill
    ws = Workspace(file_path, on_progress=told.append)
    conversation(ws, "x", "y", ANNA)
    ws.close()
    Workspace(file_path, on_progress=told.append).close()  # current: nothing rebuilt
    assert told == []


async def test_the_backend_passes_the_rebuild_on_to_the_hub(file_path: Path) -> None:
    from standardiste.backends.local import LocalBackend

    ws = Workspace(file_path)
    conversation(ws, "x", "y", ANNA)
    ws.db.execute("UPDATE meta SET value = '6' WHERE key = 'search_index'")
    ws.close()
    backend = LocalBackend(file_path, agent_id="alice")
    told: list[str] = []
    backend.on_connect_progress = told.append
    await backend.connect()
    try:
        assert told == [search_module.REBUILDING]
    finally:
        await backend.close()
