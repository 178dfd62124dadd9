"""Search by fields alone (`state:solved`, `lang:d` as typed, `tag:refund`): exact results on every plan.

The file plans fields alone over indexes (backends/local/search_fields.py): the field fewest conversations
pass leads, a field none passes answers at once, tags are found through an FTS5 index of the tags column.
Its thresholds are made tiny here so that a few dozen conversations take every path, and each answer is
compared with the same filter written in Python. PostgreSQL (its planner's choice) must answer the same.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlite_steps import vm_steps
from standardiste.backends.local import Workspace, search_fields, search_postgres
from standardiste.backends.local import search as search_module
from standardiste.backends.local.search import search
from standardiste.console.core.model import Channel, Customer, Direction, Priority, State
from standardiste.console.core.search_text import day_start

NOW = 2_000_000.0
LANGUAGES = ("fr", "de", "en", "da")
STATES = (State.NEW, State.OPEN, State.SOLVED, State.ENDED)
CHANNELS = (Channel.EMAIL, Channel.PHONE, Channel.CHAT)
TAGS = ((), ("refund",), ("refund", "vip"), ("order-change",), ("vip",))
OWNERS = (None, "alice", "Bob")
NAMES = ("Jean Dupont", "Anna Müller", "Lars Larsson")


@dataclass
class Row:
    id: int
    created_at: float
    language: str
    state: str
    channel: str
    queue: str
    priority: int
    tags: str
    assignee: str | None
    snoozed_until: float | None
    customer_name: str


def search_in(ws: Workspace, text: str, **kwargs: Any) -> list[str]:
    engine = search_postgres.search if ws.dialect == "postgres" else search
    return [hit.conversation_id for hit in engine(ws.db, text, me="alice", now=NOW, **kwargs)]  # type: ignore[arg-type]


def populate(ws: Workspace, count: int = 60) -> list[Row]:
    rng = random.Random(17)
    rows = []
    for n in range(count):
        name = rng.choice(NAMES)
        # Times not in id order: "newest first" must come from created_at, not from the ids.
        created = 1_000_000.0 + rng.randrange(5_000) * 10.0 + (n % 3)
        channel = rng.choice(CHANNELS)
        ref = ws.create_conversation(
            channel=channel,
            customer=Customer(f"c-{n % 7}", name, language="en"),
            subject=f"subject {n}",
            created_at=created,
        )
        values = {
            "language": rng.choice(LANGUAGES).upper() if n % 11 == 0 else rng.choice(LANGUAGES),
            "state": rng.choice(STATES),
            "queue": rng.choice(("orders", "Returns")),
            "priority": rng.choice(list(Priority)),
            "tags": rng.choice(TAGS),
            "assignee": rng.choice(OWNERS),
            "snoozed_until": rng.choice((None, NOW - 60, NOW + 60)),
        }
        ws.update_conversation(ref, **values)
        rows.append(
            Row(
                ref, created, values["language"], values["state"].value,
                channel.value, values["queue"], int(values["priority"]), ",".join(sorted(values["tags"])),
                values["assignee"], values["snoozed_until"], name,
            )
        )  # fmt: skip
    return rows


def expected(rows: list[Row], test: Any, limit: int = 50) -> list[str]:
    passing = sorted((r for r in rows if test(r)), key=lambda r: (-r.created_at, -r.id))
    return [f"local:{r.id}" for r in passing[:limit]]


def tagged(row: Row, tag: str) -> bool:
    return f",{tag}," in f",{row.tags},"


# query -> the same filter in Python (views.py's words: lower-cased values, snoozed now whatever the state).
QUERIES: dict[str, Any] = {
    "state:solved": lambda r: r.state == "solved",
    "state:solved state:new": lambda r: r.state in ("solved", "new"),
    "state:snoozed": lambda r: r.snoozed_until is not None and r.snoozed_until > NOW,
    "state:solved state:snoozed": lambda r: r.state == "solved" or (r.snoozed_until or 0) > NOW,
    "lang:d": lambda r: False,
    "lang:de": lambda r: r.language.lower() == "de",
    "lang:da lang:fr": lambda r: r.language.lower() in ("da", "fr"),
    "channel:email": lambda r: r.channel == "email",
    "queue:returns": lambda r: r.queue.lower() == "returns",
    "queue:r": lambda r: False,
    "prio:urgent": lambda r: r.priority == int(Priority.URGENT),
    "owner:me": lambda r: (r.assignee or "").lower() == "alice",
    "owner:bob": lambda r: (r.assignee or "").lower() == "bob",
    "owner:none": lambda r: r.assignee is None,
    "owner:b": lambda r: False,
    "tag:refund": lambda r: tagged(r, "refund"),
    "tag:r": lambda r: False,
    "tag:vip tag:order-change": lambda r: tagged(r, "vip") or tagged(r, "order-change"),
    "tag:order": lambda r: False,
    "tag:refund,vip": lambda r: "refund,vip" in r.tags,
    "customer:müll": lambda r: "müll" in r.customer_name.lower(),
    "customer:zzz": lambda r: False,
    "customer:ars": lambda r: "ars" in r.customer_name.lower(),
    "customer:du": lambda r: "du" in r.customer_name.lower(),
    'customer:"a m"': lambda r: "a m" in r.customer_name.lower(),
    "customer:lars customer:dupont": lambda r: (
        "lars" in r.customer_name.lower() or "dupont" in r.customer_name.lower()
    ),
    "customer:jean state:solved": lambda r: "jean" in r.customer_name.lower() and r.state == "solved",
    "lang:de state:solved": lambda r: r.language.lower() == "de" and r.state == "solved",
    "channel:phone owner:none tag:vip": lambda r: (
        r.channel == "phone" and r.assignee is None and tagged(r, "vip")
    ),
    "state:ended lang:fr channel:phone": lambda r: (
        r.state == "ended" and r.language == "fr" and r.channel == "phone"
    ),
    "tag:refund customer:dupont": lambda r: tagged(r, "refund") and "dupont" in r.customer_name.lower(),
    "after:1970-01-12": lambda r: r.created_at >= day_start(date(1970, 1, 12)),
    "after:1970-01-12 before:1970-01-13": lambda r: (
        day_start(date(1970, 1, 12)) <= r.created_at < day_start(date(1970, 1, 13))
    ),
    "before:1970-01-13 channel:chat": lambda r: (
        r.created_at < day_start(date(1970, 1, 13)) and r.channel == "chat"
    ),
    "after:1970-01-13 lang:d": lambda r: False,
}


@pytest.mark.parametrize("limit", [50, 4])
def test_fields_alone_are_exact_on_every_plan(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    # Tiny thresholds: a field of fewer than 6 conversations leads, the recent window holds 8, the
    # sample 9, so that sixty conversations take every plan (small lead, rarest of several, by recency).
    monkeypatch.setattr(search_fields, "CAP", 6)
    monkeypatch.setattr(search_fields, "RECENT", 8)
    monkeypatch.setattr(search_fields, "SAMPLE", 9)
    rows = populate(ws)
    for query, test in QUERIES.items():
        assert search_in(ws, query, limit=limit) == expected(rows, test, limit), query


def test_a_field_no_conversation_passes_finds_nothing_with_words_too(ws: Workspace) -> None:
    rows = populate(ws, 12)
    ws.add_message(rows[0].id, direction=Direction.INBOUND, body="refund please", author="x")
    assert search_in(ws, "refund ") == [f"local:{rows[0].id}"]
    assert search_in(ws, "lang:d refund") == []
    assert search_in(ws, "tag:ref refund") == []
    assert search_in(ws, "owner:b refund") == []


def test_the_tags_index_follows_edits_and_deletes(ws: Workspace) -> None:
    one = ws.create_conversation(
        channel=Channel.EMAIL, customer=Customer("c", "C"), subject="x", tags=("gift",)
    )
    two = ws.create_conversation(channel=Channel.EMAIL, customer=Customer("c", "C"), subject="y")
    assert search_in(ws, "tag:gift") == [f"local:{one}"]
    ws.update_conversation(one, tags=("wrapping",))
    ws.update_conversation(two, tags=("gift", "urgent"))
    ws.update_conversation(two, state=State.SOLVED)  # not a tags change: the index is left alone
    assert search_in(ws, "tag:gift") == [f"local:{two}"]
    assert search_in(ws, "tag:wrapping") == [f"local:{one}"]
    ws.update_conversation(one, tags=())
    assert search_in(ws, "tag:wrapping") == []
    # The tags' words find "gift-card" for `tag:card`: the tag itself is then checked.
    card = ws.create_conversation(
        channel=Channel.CHAT, customer=Customer("c", "C"), subject="z", tags=("gift-card",)
    )
    assert search_in(ws, "tag:card") == [] and search_in(ws, "tag:gift-card") == [f"local:{card}"]
    assert search_in(ws, "tag:gift") == [f"local:{two}"]
    ws.db.execute("DELETE FROM conversations WHERE id = ?", (two,))
    assert search_in(ws, "tag:gift") == []
    if ws.dialect == "sqlite":  # FTS5's own check of the index against the conversations' tags
        ws.db.execute("INSERT INTO search_tags (search_tags) VALUES ('integrity-check')")


def test_the_names_index_follows_edits_and_deletes(ws: Workspace) -> None:
    one = ws.create_conversation(channel=Channel.EMAIL, customer=Customer("c1", "Jean Dupont"), subject="x")
    two = ws.create_conversation(channel=Channel.EMAIL, customer=Customer("c2", "Ola Nordmann"), subject="y")
    assert search_in(ws, "customer:dupo") == [f"local:{one}"]
    ws.update_conversation(one, customer_name="Jean Durand")
    ws.update_conversation(two, state=State.SOLVED)  # not a name change: the index is left alone
    assert search_in(ws, "customer:dupo") == [] and search_in(ws, "customer:duran") == [f"local:{one}"]
    assert search_in(ws, "customer:dman") == [f"local:{two}"]  # inside a word
    ws.db.execute("DELETE FROM conversations WHERE id = ?", (two,))
    assert search_in(ws, "customer:nordm") == []
    if ws.dialect == "sqlite":
        ws.db.execute("INSERT INTO search_names (search_names) VALUES ('integrity-check')")


def test_an_older_file_builds_only_the_index_tables_changed_since_on_open(
    file_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = Workspace(file_path)
    ref = ws.create_conversation(
        channel=Channel.EMAIL, customer=Customer("c", "C"), subject="kept", tags=("vip",)
    )
    # As if the tags' index had come in the current version and the file held the one before: no tags
    # index, no tags triggers.
    for (name,) in ws.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'search_tags_*'"
    ):
        ws.db.execute(f"DROP TRIGGER {name}")
    ws.db.execute("DROP TABLE search_tags")
    current = int(search_module.INDEX_VERSION)
    ws.db.execute("UPDATE meta SET value = ? WHERE key = 'search_index'", (str(current - 1),))
    ws.close()
    # The other indexes are older than that: filling them again would fail here.
    others = ("search_messages", "search_heads", "search_names")
    tables = {name: (current - 1, "SELECT no_such_function()") for name in others}
    tables["search_tags"] = (current, search_module.TABLES["search_tags"][1])
    monkeypatch.setattr(search_module, "TABLES", tables)
    reopened = Workspace(file_path)
    try:
        assert search_in(reopened, "tag:vip") == [f"local:{ref}"]
        assert search_in(reopened, "kept ") == [f"local:{ref}"]
        later = reopened.create_conversation(
            channel=Channel.EMAIL, customer=Customer("c", "C"), subject="new", tags=("vip",)
        )
        assert search_in(reopened, "tag:vip") == [f"local:{later}", f"local:{ref}"]
        reopened.add_message(later, direction=Direction.INBOUND, body="written later", author="C")
        assert search_in(reopened, "later ") == [f"local:{later}"]  # every trigger was made again
        stored = reopened.db.execute("SELECT value FROM meta WHERE key = 'search_index'").fetchone()[0]
        assert stored == search_module.INDEX_VERSION
    finally:
        reopened.close()


def test_an_old_field_alone_does_not_read_every_conversation(file_path: Path) -> None:
    # 3,000 conversations, the only solved ones the oldest: the walk reads the state's index, not the
    # table (counted in SQLite's virtual machine steps, against a count over the table).
    ws = Workspace(file_path)
    try:
        with ws.transaction():
            ws.db.executemany(
                "INSERT INTO conversations (channel, state, subject, customer_id, created_at, updated_at) "
                "VALUES ('email', ?, 's', 'c', ?, ?)",
                [("solved" if n < 3 else "open", float(n), float(n)) for n in range(3_000)],
            )
        assert len(search_in(ws, "state:solved")) == 3
        full = vm_steps(ws.db, lambda: ws.db.execute("SELECT count(*) FROM conversations WHERE +state = 'solved'").fetchone())  # fmt: skip
        assert vm_steps(ws.db, lambda: search_in(ws, "state:solved")) < full / 20
        assert vm_steps(ws.db, lambda: search_in(ws, "lang:d")) < full / 20
        assert vm_steps(ws.db, lambda: search_in(ws, "tag:r")) < full / 20
    finally:
        ws.close()


@pytest.fixture
def file_path(tmp_path: Path) -> Path:
    """The file's own plans and indexes."""
    return tmp_path / "workspace.db"


@pytest.fixture
def workspace_path(workspace_target: Any) -> Any:
    """Every other test runs on the file and on PostgreSQL."""
    return workspace_target
