"""Full-text search of the local workspace: what is found, ranked and shown, on both storages.

Real SQLite files in a temporary directory (the index is FTS5, kept by triggers: backends/local/search.py)
and a real PostgreSQL (tsvector and GIN, backends/local/search_postgres.py): every test that is not about
the file's own index runs on both.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from standardiste.backends.base import Invalid
from standardiste.backends.local import LocalBackend, Workspace, search_postgres
from standardiste.backends.local import search as search_module
from standardiste.backends.local.search import SearchError, day_start, search, snippet_of
from standardiste.backends.optional import Search
from standardiste.console.core.model import Channel, Customer, Direction, State
from standardiste.console.core.search_query import Term

DUPONT = Customer("c-dupont", "Jean Dupont", language="fr", email="jean.dupont@example.com")
MULLER = Customer("c-muller", "Anna Müller", language="de", email="anna@example.de")


def search_in(ws: Workspace, text: str, **kwargs: object) -> list[Any]:
    engine = search_postgres.search if ws.dialect == "postgres" else search
    return engine(ws.db, text, **kwargs)  # type: ignore[arg-type]


def ids(ws: Workspace, text: str, **kwargs: object) -> list[str]:
    return [hit.conversation_id for hit in search_in(ws, text, **kwargs)]


def conversation(
    ws: Workspace,
    subject: str,
    *bodies: str,
    customer: Customer = DUPONT,
    channel: Channel = Channel.EMAIL,
    at: float | None = None,
    **fields: object,
) -> str:
    row = ws.create_conversation(channel=channel, customer=customer, subject=subject, created_at=at)
    for body in bodies:
        ws.add_message(row, direction=Direction.INBOUND, body=body, author=customer.name)
    if fields:
        ws.update_conversation(row, **fields)
    return f"local:{row}"


def test_a_word_in_a_message_body(ws: Workspace) -> None:
    found = conversation(ws, "Question", "My parcel never arrived")
    conversation(ws, "Other", "All good, thanks")
    hits = search_in(ws, "parcel ")
    assert [h.conversation_id for h in hits] == [found]
    assert hits[0].snippet == "My parcel never arrived"
    assert hits[0].spans == ((3, 9),)
    assert hits[0].message_id is not None


def test_subject_customer_name_and_email(ws: Workspace) -> None:
    found = conversation(ws, "Invoice missing")
    conversation(ws, "Hello", customer=MULLER)
    assert ids(ws, "invoice ") == [found]
    assert ids(ws, "dupont ") == [found]
    assert ids(ws, "jean.dupont@example.com") == [found]


def test_a_prefix_as_typed(ws: Workspace) -> None:
    found = conversation(ws, "x", "Where is my refund?")
    assert ids(ws, "ref") == [found]
    assert ids(ws, "refu") == [found]
    assert ids(ws, "refu ") == []  # a finished word is a word


def test_a_phrase_keeps_its_order(ws: Workspace) -> None:
    right = conversation(ws, "a", "the card was declined today")
    conversation(ws, "b", "declined, the card said")
    assert ids(ws, '"card was declined"') == [right]
    assert sorted(ids(ws, "card declined ")) == sorted([right, f"local:{int(right[6:]) + 1}"])


def test_accents_and_case_fold_both_ways(ws: Workspace) -> None:
    accented = conversation(ws, "x", "Je veux être REMBOURSÉ")
    plain = conversation(ws, "y", "Pas encore rembourse")
    assert sorted(ids(ws, "remboursé ")) == sorted([accented, plain])
    assert sorted(ids(ws, "Rembourse ")) == sorted([accented, plain])


def test_open_and_closed_conversations(ws: Workspace) -> None:
    open_one = conversation(ws, "x", "blender broken")
    closed = conversation(ws, "y", "blender broken too", state=State.SOLVED, closed_at=1.0)
    assert sorted(ids(ws, "blender ")) == sorted([open_one, closed])
    assert ids(ws, "blender state:solved") == [closed]


def test_agent_replies_and_internal_notes_are_found_system_lines_are_not(ws: Workspace) -> None:
    found = conversation(ws, "x", "hello")
    ws.add_message(found, direction=Direction.OUTBOUND, body="We sent a voucher", author="alice")
    ws.add_message(found, direction=Direction.NOTE, body="customer is a reseller", author="alice")
    ws.add_message(found, direction=Direction.SYSTEM, body="call transferred")
    assert ids(ws, "voucher ") == [found]
    assert ids(ws, "reseller ") == [found]
    assert ids(ws, "transferred ") == []


def test_one_hit_per_conversation_the_best_message(ws: Workspace) -> None:
    found = conversation(
        ws, "x", "a long message that mentions a kettle once among many other words here", "kettle"
    )
    hits = search_in(ws, "kettle ")
    assert [h.conversation_id for h in hits] == [found]
    assert hits[0].snippet == "kettle"  # the shorter body ranks higher (bm25)


def test_ranking_puts_the_better_match_first_and_the_newest_among_equals(ws: Workspace) -> None:
    older = conversation(ws, "x", "toaster", at=1000.0)
    newer = conversation(ws, "y", "toaster", at=2000.0)
    weak = conversation(ws, "z", "toaster " + "filler " * 40, at=3000.0)
    assert ids(ws, "toaster ") == [newer, older, weak]


def test_fields_combine_with_words(ws: Workspace) -> None:
    german = conversation(ws, "x", "Paket fehlt", customer=MULLER, channel=Channel.FORM, tags=("shipping",))
    french = conversation(ws, "y", "Paket fehlt", assignee="alice")
    assert ids(ws, "paket lang:de") == [german]
    assert ids(ws, "paket channel:form") == [german]
    assert ids(ws, "paket tag:shipping") == [german]
    assert ids(ws, "paket tag:ship") == []
    assert ids(ws, "paket owner:me", me="alice") == [french]
    assert ids(ws, "paket owner:none") == [german]
    assert ids(ws, "paket customer:müll") == [german]
    assert ids(ws, "lang:de") == [german]  # fields alone: newest first


def test_dates(ws: Workspace) -> None:
    first = day_start(date(2026, 12, 1))
    early = conversation(ws, "x", "mixer", at=first - 60)
    on_the_day = conversation(ws, "y", "mixer", at=first + 60)
    later = conversation(ws, "z", "mixer", at=day_start(date(2026, 12, 3)))
    assert sorted(ids(ws, "mixer after:2026-12-01")) == sorted([on_the_day, later])
    assert ids(ws, "mixer before:2026-12-01") == [early]
    assert ids(ws, "mixer after:2026-12-01 before:2026-12-02") == [on_the_day]


def test_snoozed(ws: Workspace) -> None:
    snoozed = conversation(ws, "x", "iron", snoozed_until=ws.now() + 3600)
    conversation(ws, "y", "iron", snoozed_until=ws.now() - 3600)
    assert ids(ws, "iron state:snoozed") == [snoozed]


def test_a_hostile_body_gives_a_sanitised_snippet_with_spans_that_fit(ws: Workspace) -> None:
    conversation(ws, "x", "\x1b]0;pwned\x07Hello \x1b[2J refund\x1b]52;c;ZXZpbA==\x07 now\u202e")
    hit = search_in(ws, "refund ")[0]
    assert "\x1b" not in hit.snippet and "\x07" not in hit.snippet and "\u202e" not in hit.snippet
    ((start, end),) = hit.spans
    assert hit.snippet[start:end] == "refund"


def test_edits_merges_and_email_changes_keep_the_index_in_step(ws: Workspace) -> None:
    one = conversation(ws, "Subject alpha", "body bravo")
    two = conversation(ws, "other", "body charlie", customer=MULLER)
    ws.update_conversation(one, subject="Subject delta")
    assert ids(ws, "alpha ") == [] and ids(ws, "delta ") == [one]
    ws.db.execute("UPDATE messages SET body = 'body echo' WHERE body = 'body bravo'")
    assert ids(ws, "bravo ") == [] and ids(ws, "echo ") == [one]
    ws.db.execute(
        "UPDATE messages SET conversation_id = ? WHERE conversation_id = ?", (int(one[6:]), int(two[6:]))
    )
    assert ids(ws, "charlie ") == [one]
    ws.upsert_customer(Customer(DUPONT.id, DUPONT.name, email="jd@new.example"))
    assert ids(ws, "jd@new.example") == [one] and ids(ws, "jean.dupont@example.com") == []
    ws.db.execute("DELETE FROM messages WHERE body = 'body echo'")
    assert ids(ws, "echo ") == []
    if (
        ws.dialect == "sqlite"
    ):  # FTS5's own check of the index against the table's text: it raises when they disagree
        ws.db.execute("INSERT INTO search_messages (search_messages) VALUES ('integrity-check')")
        ws.db.execute("INSERT INTO search_heads (search_heads) VALUES ('integrity-check')")


def test_an_older_file_gets_its_index_filled_once_on_open(file_path: Path) -> None:
    ws = Workspace(file_path)
    found = conversation(ws, "Old subject", "old body from before search")
    # As a file made before search existed: no index tables, no triggers, no meta mark.
    ws.db.execute("DROP TABLE search_messages")
    ws.db.execute("DROP TABLE search_heads")
    ws.db.execute("DELETE FROM meta WHERE key = 'search_index'")
    ws.close()
    reopened = Workspace(file_path)
    try:
        assert ids(reopened, "before ") == [found]
        assert ids(reopened, "subject ") == [found]
        again = conversation(reopened, "new", "written after the upgrade")
        assert ids(reopened, "upgrade ") == [again]
    finally:
        reopened.close()


def test_an_index_table_lost_is_rebuilt_on_open(file_path: Path) -> None:
    ws = Workspace(file_path)
    found = conversation(ws, "x", "a body indexed before the loss")
    ws.db.execute("DROP TABLE search_messages")  # the mark in meta stays
    ws.close()
    reopened = Workspace(file_path)
    try:
        assert ids(reopened, "loss ") == [found]
    finally:
        reopened.close()


def test_an_index_of_another_version_is_made_again_triggers_and_all(file_path: Path) -> None:
    ws = Workspace(file_path)
    found = conversation(ws, "x", "kept across the upgrade")
    ws.db.execute("DROP TRIGGER search_messages_ins")  # as an older version without it
    ws.db.execute("UPDATE meta SET value = '0' WHERE key = 'search_index'")
    ws.close()
    reopened = Workspace(file_path)
    try:
        assert ids(reopened, "upgrade ") == [found]
        later = conversation(reopened, "y", "written by the new triggers")
        assert ids(reopened, "triggers ") == [later]
        reopened.db.execute("INSERT INTO search_messages (search_messages) VALUES ('integrity-check')")
    finally:
        reopened.close()


def test_a_bad_query_is_refused_with_its_reason(ws: Workspace) -> None:
    with pytest.raises(SearchError, match="unknown field"):
        search_in(ws, "colour:red")


def test_the_files_index_is_shared_by_every_connection(file_path: Path) -> None:
    ws, other = Workspace(file_path), Workspace(file_path)
    workspace_path = file_path
    try:
        found = conversation(other, "x", "written by another connection")
        assert ids(ws, "another ") == [found]
        raw = sqlite3.connect(workspace_path)
        raw.execute(
            "INSERT INTO messages (conversation_id, direction, body, created_at) VALUES (?, 'note', 'raw sql note', 1)",
            (int(found[6:]),),
        )
        raw.commit()
        raw.close()
        assert ids(ws, "raw sql") == [found]
    finally:
        other.close()
        ws.close()


async def test_the_backend_has_the_search_capability(alice: LocalBackend, ws: Workspace) -> None:
    found = conversation(ws, "x", "dishwasher leaks", assignee="alice")
    assert isinstance(alice, Search)
    hits = await alice.search("dishwasher owner:me")
    assert [h.conversation_id for h in hits] == [found]
    with pytest.raises(Invalid, match="YYYY-MM-DD"):
        await alice.search("after:soon")


def test_a_broad_query_ranks_the_newest_matches_and_filters_still_reach_the_oldest(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a million conversations would, with small numbers: 12 matches, only the newest 4 ranked at first.
    monkeypatch.setattr(search_module, "BROAD", 4)
    rows = [conversation(ws, "x", "teapot", at=1000.0 + n) for n in range(12)]
    oldest_solved = rows[0]
    ws.update_conversation(oldest_solved, state=State.SOLVED, closed_at=2000.0)
    assert ids(ws, "teapot ", limit=3) == rows[-1:-4:-1]  # equal scores: newest first
    assert ids(ws, "teapot state:solved") == [oldest_solved]
    assert len(ids(ws, "teapot ", limit=50)) == 12


def test_a_long_body_gives_a_window_around_the_match_with_spans_in_it() -> None:
    text = "word " * 100 + "the Blender\nbroke " + "tail " * 100
    snippet, spans = snippet_of(text, [Term(("blender",)), Term(("bro",), prefix=True)])
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) <= search_module.SNIPPET_CHARS + 2
    assert [snippet[s:e] for s, e in spans] == ["Blender", "broke"]


@pytest.fixture
def file_path(tmp_path: Path) -> Path:
    """The file's own index: FTS5 tables and triggers that only SQLite has."""
    return tmp_path / "workspace.db"


@pytest.fixture
def workspace_path(workspace_target: Any) -> Any:
    """Every other test runs on the file and on PostgreSQL."""
    return workspace_target
