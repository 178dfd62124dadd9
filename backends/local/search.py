"""Full-text search over every conversation of the workspace file, open and closed (SQLite FTS5).

Two indexes, both kept in step by triggers, so they change in the transaction that changes the text and
are never stale after a crash, whichever process wrote:
- `search_messages`: the bodies of customer and agent messages and of internal notes (not system lines),
  an external-content index over `messages` (the text is not stored twice);
- `search_heads`: one row per conversation (rowid = its id): the subject, and the customer's name and email.
Each row of both also holds its conversation's language and channel as words (search_facets.py).

The fields (`lang:de`, `tag:refund`) are SQL over the conversations with indexes of their own, and fields
alone are planned over those indexes (search_fields.py; the tags' and names' word indexes are in
search_columns.py, kept by triggers as these are).

A workspace made before search existed gets the indexes on its next open, filled in the same transaction
that creates them (`ensure_index`); one of an older index version rebuilds the tables changed since
(`TABLES`). Words AND within one message or one head; one hit per conversation, the best-ranked (bm25) of
its rows; the snippet is that row's text around the first match, sanitised, with the spans of the
matching words so that a UI highlights them without markup.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ...console.core.search_query import SearchQuery, Term, parse
from ...console.core.search_text import SNIPPET_CHARS, day_start, snippet_of
from ...console.core.search_text import clean as _clean
from ..optional import SearchHit
from .rows import qualify
from .search_columns import NAMES, NAMES_FILL, TAGS, TAGS_FILL
from .search_facets import RANKS, REINDEX_ON_CHANGE, VIEW, facet_match, facets_of, index_match
from .search_fields import INDEXES, Clause, clauses, newest, passes_none, where
from .search_pair import both

# A new version rebuilds, on open, the index tables changed since the version a file holds (TABLES).
INDEX_VERSION = "7"
TOKENIZE = "unicode61 remove_diacritics 2"
# The prefix lengths FTS5 keeps an index for: a word typed letter by letter is a prefix query at each key
# from the third letter (MIN_PREFIX), and a prefix without its own index makes FTS5 merge the doclists of
# every word that starts with it, all of them, at every query and again for bm25's count (about 25 ms at a
# million conversations for "comm"; for "command", 6 letters were not enough: 31 ms to rank the newest
# 2,000 of "colis command", 13 ms with its own index). Past eight letters few words share a prefix.
PREFIXES = "3 4 5 6 7 8"
# A broad query ("order", a three-letter prefix) matches a large share of a million conversations, and bm25
# costs about three microseconds a match: the first pass ranks only the newest BROAD matches of each index
# (the rowid order, which FTS5 walks without ranking), in one pass over each index. Typing one more letter
# narrows it; filters that leave fewer than `limit` conversations of those send the query on over every match.
BROAD = 2_000

_HEAD_TEXT = (
    "NEW.customer_name || ' ' || COALESCE((SELECT email FROM customers WHERE id = NEW.customer_id), '')"
)
_HEAD_INSERT = (
    f"INSERT INTO search_heads (rowid, subject, customer, facets) VALUES (NEW.id, NEW.subject, {_HEAD_TEXT}, "
    f"{facets_of('NEW')})"
)
# A message's facets are its conversation's, read when it is indexed and when it leaves the index (the
# conversation outlives its messages: a message's row refers to it).
_MESSAGE_FACETS = f"(SELECT {facets_of('c')} FROM conversations c WHERE c.id = {{0}}.conversation_id)"
# Executed on every open (cheap: IF NOT EXISTS); the fill runs when meta has no `search_index` of this version.
SCHEMA = (
    VIEW,
    f"CREATE VIRTUAL TABLE IF NOT EXISTS search_messages USING fts5(body, facets, "
    f"content='search_message_text', content_rowid='id', tokenize='{TOKENIZE}', prefix='{PREFIXES}')",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS search_heads USING fts5(subject, customer, facets, "
    f"tokenize='{TOKENIZE}', prefix='{PREFIXES}')",
    "CREATE TRIGGER IF NOT EXISTS search_messages_ins AFTER INSERT ON messages WHEN NEW.direction != 'system' "
    "BEGIN INSERT INTO search_messages (rowid, body, facets) "
    f"VALUES (NEW.id, NEW.body, {_MESSAGE_FACETS.format('NEW')}); END",
    "CREATE TRIGGER IF NOT EXISTS search_messages_del AFTER DELETE ON messages WHEN OLD.direction != 'system' "
    "BEGIN INSERT INTO search_messages (search_messages, rowid, body, facets) "
    f"VALUES ('delete', OLD.id, OLD.body, {_MESSAGE_FACETS.format('OLD')}); END",
    # One trigger, the old text out before the new in: the order of two triggers is not defined, and
    # an FTS5 'delete' after the insert would drop the new row's length record (a "malformed" index).
    "CREATE TRIGGER IF NOT EXISTS search_messages_upd AFTER UPDATE OF body, direction, conversation_id "
    "ON messages BEGIN "
    "INSERT INTO search_messages (search_messages, rowid, body, facets) "
    f"SELECT 'delete', OLD.id, OLD.body, {_MESSAGE_FACETS.format('OLD')} WHERE OLD.direction != 'system'; "
    f"INSERT INTO search_messages (rowid, body, facets) SELECT NEW.id, NEW.body, {_MESSAGE_FACETS.format('NEW')} "
    "WHERE NEW.direction != 'system'; END",
    REINDEX_ON_CHANGE,
    f"CREATE TRIGGER IF NOT EXISTS search_heads_ins AFTER INSERT ON conversations BEGIN {_HEAD_INSERT}; END",
    # Only when the indexed text changes: most updates (state, owner, timers) leave the index alone.
    "CREATE TRIGGER IF NOT EXISTS search_heads_upd AFTER UPDATE OF subject, customer_name, customer_id, "
    "language, channel ON conversations WHEN OLD.subject IS NOT NEW.subject "
    "OR OLD.customer_name IS NOT NEW.customer_name OR OLD.customer_id IS NOT NEW.customer_id "
    "OR OLD.language IS NOT NEW.language OR OLD.channel IS NOT NEW.channel "
    f"BEGIN DELETE FROM search_heads WHERE rowid = OLD.id; {_HEAD_INSERT}; END",
    # Fields alone (`state:solved`, `after:`): the newest conversations that pass, walked newest first.
    "CREATE INDEX IF NOT EXISTS conversations_created ON conversations (created_at, id)",
    "CREATE TRIGGER IF NOT EXISTS search_heads_del AFTER DELETE ON conversations "
    "BEGIN DELETE FROM search_heads WHERE rowid = OLD.id; END",
    "CREATE TRIGGER IF NOT EXISTS search_heads_email AFTER UPDATE OF email ON customers "
    "WHEN OLD.email IS NOT NEW.email BEGIN "
    "DELETE FROM search_heads WHERE rowid IN (SELECT id FROM conversations WHERE customer_id = NEW.id); "
    "INSERT INTO search_heads (rowid, subject, customer, facets) SELECT c.id, c.subject, "
    f"c.customer_name || ' ' || NEW.email, {facets_of('c')} FROM conversations c WHERE c.customer_id = NEW.id; END",
    *TAGS,
    *NAMES,
    *INDEXES,
    # A message's conversation for the joins below, from an index and not from the messages' rows, which
    # hold the bodies and mails: 43,000 matches of "pa" under `lang:de` joined in 61 ms, not 97.
    "CREATE INDEX IF NOT EXISTS messages_search_conversation ON messages (id, conversation_id)",
)
# Each index table: the version that last changed it, and how it is filled from the tables' text. A file
# of an older version rebuilds only the tables changed since (the tags take seconds at a million
# conversations, the messages about a minute).
TABLES = {
    # 3: prefix indexes of 3 to 6 letters; 5: of 7 and 8 too; 7: the facets (search_facets.py).
    "search_messages": (
        7,
        "INSERT INTO search_messages (rowid, body, facets) SELECT id, body, facets FROM search_message_text",
    ),
    "search_heads": (
        7,
        "INSERT INTO search_heads (rowid, subject, customer, facets) SELECT c.id, c.subject, c.customer_name "
        f"|| ' ' || COALESCE(u.email, ''), {facets_of('c')} FROM conversations c "
        "LEFT JOIN customers u ON u.id = c.customer_id",
    ),
    "search_tags": (4, TAGS_FILL),  # 4: made
    "search_names": (6, NAMES_FILL),  # 6: made
}


REBUILDING = "rebuilding the search index once after an upgrade: about a minute a million messages"


def ensure_index(db: sqlite3.Connection, *, on_rebuild: Callable[[str], None] | None = None) -> None:
    """Create the indexes and triggers, and fill them once. Call inside the schema's write transaction.
    `on_rebuild` is told (REBUILDING) before an index of a file that holds conversations is filled."""
    assert db.in_transaction, "the index is created and filled in one transaction"
    row = db.execute("SELECT value FROM meta WHERE key = 'search_index'").fetchone()
    held = int(row[0]) if row is not None and row[0].isdigit() else 0
    if held > int(INDEX_VERSION):  # made by a newer console: its tables may not be these
        held = 0
    # An index table dropped by hand would come back empty under a mark that says it is filled.
    present = {
        name
        for (name,) in db.execute(
            f"SELECT name FROM sqlite_master WHERE name IN ({','.join('?' * len(TABLES))})", tuple(TABLES)
        )
    }
    stale = [name for name, (since, _fill) in TABLES.items() if name not in present or since > held]
    if not stale and held == int(INDEX_VERSION):
        for statement in SCHEMA:
            db.execute(statement)
        return
    # Missing, lost or older: made again from the tables' text; every trigger made again too.
    for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'search_*'"
    ).fetchall():
        db.execute(f'DROP TRIGGER "{name}"')
    if on_rebuild is not None and db.execute("SELECT 1 FROM conversations LIMIT 1").fetchone():
        on_rebuild(REBUILDING)
    for name in stale:
        db.execute(f"DROP TABLE IF EXISTS {name}")
    db.execute("DROP VIEW IF EXISTS search_message_text")  # its text may have changed with the version
    for statement in SCHEMA:
        db.execute(statement)
    for name in stale:
        db.execute(TABLES[name][1])
        if name in RANKS:
            db.execute(f"INSERT INTO {name} ({name}, rank) VALUES ('rank', ?)", (RANKS[name],))
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('search_index', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (INDEX_VERSION,),
    )


class SearchError(ValueError):
    """A query that cannot be searched: the message says why, in one line."""


def search(
    db: sqlite3.Connection,
    text: str,
    *,
    limit: int = 50,
    me: str | None = None,
    now: float | None = None,
    heads_db: sqlite3.Connection | None = None,
) -> list[SearchHit]:
    """The `limit` best conversations for `text` (search_query.py's language), best first. `heads_db`: a
    second connection to the file, on which the heads' index is read while `db` reads the messages'
    (search_pair.py)."""
    query = parse(text)
    if query.errors:
        raise SearchError("; ".join(query.errors))
    now = time.time() if now is None else now
    found = clauses(query, me=me, now=now)
    words = query.match()
    if words is None:
        return _by_filters(db, found, limit)
    if passes_none(db, found):  # `lang:d refund`, as typed: no conversation is in that language
        return []
    condition, args = where(found)
    try:
        # The newest matches of the words alone first: a facet costs bm25 a count of every row of its value
        # (a third of the file for `channel:email`), and the window needs none when the field is common.
        best = _window(db, heads_db, _matches(words, ""), condition, args, limit)
        if best is None:  # the window held too few: every match of the words and facets, filtered by SQLite
            best = _every_match(db, heads_db, _matches(words, facet_match(query)), condition, args, limit)
    except sqlite3.OperationalError as error:
        if "fts5" in str(error) or "syntax" in str(error):
            raise SearchError(f"cannot search for {text!r}: {error}") from error
        raise
    return [_hit(db, query.terms, row) for row in best]


# One candidate: (conversation id, bm25, created_at of the conversation, message id or None).
_Candidate = tuple[int, float, float, int | None]
# The MATCH text of the messages' index and of the heads' (search_facets.index_match).
_Matches = tuple[str, str]


def _matches(words: str, facets: str) -> _Matches:
    return index_match("search_messages", words, facets), index_match("search_heads", words, facets)


def _best_first(candidates: Iterable[_Candidate]) -> list[_Candidate]:
    # Best score first (bm25 is negative: lower is better), newest first among equal scores.
    return sorted(candidates, key=lambda c: (c[1], -c[2], -c[0]))


# The newest BROAD matches of an index, ranked as they are read: one pass over its doclists in rowid order
# (which FTS5 walks without ranking), so bm25 runs on BROAD rows at most; `n` is how many the window held.
_NEWEST = "SELECT rowid, rank, count(*) OVER () AS n FROM (SELECT rowid, rank FROM {0} WHERE {0} MATCH ? ORDER BY rowid DESC LIMIT ?)"


def _window(
    db: sqlite3.Connection,
    heads_db: sqlite3.Connection | None,
    match: _Matches,
    where: str,
    args: list[Any],
    limit: int,
) -> list[_Candidate] | None:
    """The best row per conversation among the newest BROAD matches of each index, filtered, joined and
    grouped by SQLite; None when an index held more matches than that and the window gave fewer than
    `limit` conversations (the caller then goes over every match)."""
    condition = f" WHERE {where}" if where else ""
    best: dict[int, _Candidate] = {}
    full = False
    messages_sql = (
        "SELECT m.conversation_id, MIN(w.rank), c.created_at, m.id, MAX(w.n) FROM ("
        + _NEWEST.format("search_messages")
        + ") w CROSS JOIN messages m INDEXED BY messages_search_conversation ON m.id = w.rowid "
        f"CROSS JOIN conversations c ON c.id = m.conversation_id{condition} GROUP BY m.conversation_id"
    )
    heads_sql = (
        "SELECT c.id, w.rank, c.created_at, NULL, w.n FROM ("
        + _NEWEST.format("search_heads")
        + f") w CROSS JOIN conversations c ON c.id = w.rowid{condition}"
    )
    for rows in both(
        db, heads_db, (messages_sql, (match[0], BROAD, *args)), (heads_sql, (match[1], BROAD, *args))
    ):
        # No row left by the filters: the window may have been full.
        full = full or not rows or max(row[4] for row in rows) >= BROAD
        for cid, rank, created, mid, _ in rows:
            seen = best.get(cid)
            if seen is None or rank < seen[1]:
                best[cid] = (cid, rank, created, mid)
    candidates = _best_first(best.values())
    if full and len(candidates) < limit:
        return None
    return candidates[:limit]


def _every_match(
    db: sqlite3.Connection,
    heads_db: sqlite3.Connection | None,
    match: _Matches,
    where: str,
    args: list[Any],
    limit: int,
) -> list[_Candidate]:
    """Every match of both indexes, filtered and reduced to one row per conversation by SQLite itself (a
    join, not a Python loop over every match). CROSS JOIN keeps the index the outer loop: left to choose,
    the planner may walk every unowned conversation and probe the index for each."""
    condition = f" AND {where}" if where else ""
    best: dict[int, _Candidate] = {}
    messages_sql = (
        "SELECT m.conversation_id, MIN(s.rank), c.created_at, m.id FROM search_messages s "
        "CROSS JOIN messages m INDEXED BY messages_search_conversation ON m.id = s.rowid "
        "CROSS JOIN conversations c ON c.id = m.conversation_id "
        f"WHERE search_messages MATCH ?{condition} GROUP BY m.conversation_id"
    )
    heads_sql = (
        "SELECT c.id, s.rank, c.created_at, NULL FROM search_heads s CROSS JOIN conversations c ON c.id = s.rowid "
        f"WHERE search_heads MATCH ?{condition}"
    )
    for rows in both(db, heads_db, (messages_sql, (match[0], *args)), (heads_sql, (match[1], *args))):
        for candidate in rows:
            seen = best.get(candidate[0])
            if seen is None or candidate[1] < seen[1]:
                best[candidate[0]] = candidate
    return _best_first(best.values())[:limit]


def _by_filters(db: sqlite3.Connection, found: list[Clause], limit: int) -> list[SearchHit]:
    """Fields alone: the newest conversations that pass them (search_fields.py); the snippet is the subject."""
    return [
        SearchHit(qualify(cid), 0.0, _clean(f"{subject} — {name}"), (), None)
        for cid, subject, name, _created in newest(db, found, limit)
    ]


def _filters(query: SearchQuery, *, me: str | None, now: float) -> tuple[str, list[Any]]:
    """SQL over `conversations c` for the query's fields, for both databases (search_fields.py)."""
    return where(clauses(query, me=me, now=now))


def _hit(db: sqlite3.Connection, terms: Sequence[Term], candidate: _Candidate) -> SearchHit:
    conversation_id, rank, _created, message_id = candidate
    if message_id is not None:
        row = db.execute("SELECT body FROM messages WHERE id = ?", (message_id,)).fetchone()
        text = row[0] if row else ""
    else:
        row = db.execute(
            "SELECT subject, customer FROM search_heads WHERE rowid = ?", (conversation_id,)
        ).fetchone()
        text = f"{row[0]} — {row[1].strip()}" if row else ""
    snippet, spans = snippet_of(text, terms)
    return SearchHit(
        qualify(conversation_id), round(-rank, 6), snippet, spans, qualify(message_id) if message_id else None
    )


__all__ = ["SCHEMA", "SNIPPET_CHARS", "SearchError", "day_start", "ensure_index", "search", "snippet_of"]
