"""Search on a workspace stored in PostgreSQL: the file's search (search.py), with PostgreSQL's full text.

The same query language (console/core/search_query.py), the same filters (`search._filters`, whose SQL both
databases speak: `instr` is defined for PostgreSQL in the schema) and the same snippets and spans. What
differs is the index: a `tsvector` per message body (a generated column) and per conversation in
`search_heads` (subject, customer name and email, kept by triggers on conversations and customers, as the
file's is), each with a GIN index, made in the write's own transaction, so never stale after a crash.

Accents are folded on both sides: in SQL by `standardiste_fold` (made here from Python's own fold of every
Latin letter, so that the index folds what the query folds: "Remboursé" is "rembourse") and in the query by
search_query.py. `@`, `.`, `/`, `_` and `-` split words, as the file's tokenizer splits them: a part of an
email address finds it. Ranking is `ts_rank` normalised by length (higher better); ties newest first.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ...console.core.search_query import Term, fold, parse
from ...console.core.search_text import clean
from ..optional import SearchHit
from .rows import qualify
from .search import SearchError, _filters, snippet_of
from .search_fields import INDEXES

# What the file's first pass bounds (search.BROAD), bounded here by the GIN index and LIMIT per index.
PER_INDEX = 400


def _fold_pairs() -> tuple[str, str]:
    """Every Latin letter that folds (NFD without marks, case folded) to one other letter, both cases:
    PostgreSQL's lower() in the C locale lowers only ASCII, so the upper cases are mapped too."""
    source, target = [], []
    for code in range(0xC0, 0x250):
        char = chr(code)
        folded = fold(char)
        if len(folded) == 1 and folded != char and char not in "'\\":
            source.append(char)
            target.append(folded)
    return "".join(source), "".join(target)


_FROM, _TO = _fold_pairs()

SCHEMA: tuple[str, ...] = (
    # sqlite's instr, for the filters search.py writes once for both databases.
    "CREATE OR REPLACE FUNCTION instr(haystack text, needle text) RETURNS integer "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT strpos(haystack, needle) $$",
    "CREATE OR REPLACE FUNCTION standardiste_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
    f"AS $$ SELECT regexp_replace(translate(replace(lower(t), 'ß', 'ss'), '{_FROM}', '{_TO}'), "
    "'[@./_\\-’‘]+', ' ', 'g') $$",
    "CREATE OR REPLACE FUNCTION standardiste_words(t text) RETURNS tsvector LANGUAGE sql IMMUTABLE "
    "PARALLEL SAFE AS $$ SELECT to_tsvector('simple', standardiste_fold(COALESCE(t, ''))) $$",
    "ALTER TABLE messages ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS "
    "(CASE WHEN direction <> 'system' THEN standardiste_words(left(body, 200000)) END) STORED",
    "CREATE INDEX IF NOT EXISTS messages_search ON messages USING gin (search)",
    # One row per conversation: its subject and its customer's name and email, as the file's search_heads.
    "CREATE TABLE IF NOT EXISTS search_heads (conversation_id BIGINT PRIMARY KEY, search tsvector NOT NULL)",
    "CREATE INDEX IF NOT EXISTS search_heads_search ON search_heads USING gin (search)",
    "CREATE OR REPLACE FUNCTION standardiste_head_of(c conversations) RETURNS tsvector LANGUAGE sql STABLE AS $$ "
    "SELECT standardiste_words(c.subject || ' ' || c.customer_name || ' ' || "
    "COALESCE((SELECT email FROM customers WHERE id = c.customer_id), '')) $$",
    "CREATE OR REPLACE FUNCTION standardiste_head_words() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO search_heads (conversation_id, search) VALUES (NEW.id, standardiste_head_of(NEW)) "
    "ON CONFLICT (conversation_id) DO UPDATE SET search = excluded.search; RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER conversations_search AFTER INSERT ON conversations "
    "FOR EACH ROW EXECUTE FUNCTION standardiste_head_words()",
    # Only a real change: an upsert sets every column, and a customer of 1,500 contacts must not have
    # 1,500 heads made again on each of them.
    "CREATE OR REPLACE TRIGGER conversations_search_upd AFTER UPDATE OF subject, customer_name, customer_id "
    "ON conversations FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject OR OLD.customer_name "
    "IS DISTINCT FROM NEW.customer_name OR OLD.customer_id IS DISTINCT FROM NEW.customer_id) "
    "EXECUTE FUNCTION standardiste_head_words()",
    "CREATE OR REPLACE FUNCTION standardiste_customer_words() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE search_heads h SET search = standardiste_head_of(c) FROM conversations c "
    "WHERE c.customer_id = NEW.id AND h.conversation_id = c.id; RETURN NULL; END $$",
    "CREATE OR REPLACE TRIGGER customers_search AFTER UPDATE OF email, name ON customers FOR EACH ROW "
    "WHEN (OLD.email IS DISTINCT FROM NEW.email OR OLD.name IS DISTINCT FROM NEW.name) "
    "EXECUTE FUNCTION standardiste_customer_words()",
    # An older workspace: the heads of its conversations, once (the triggers keep them from now on).
    "INSERT INTO search_heads (conversation_id, search) SELECT c.id, standardiste_head_of(c) FROM conversations c "
    "WHERE NOT EXISTS (SELECT 1 FROM search_heads h WHERE h.conversation_id = c.id)",
    # Fields alone (`state:solved`, `lang:d` as typed): the newest of a value, from its own index.
    *INDEXES,
)


def tsquery(terms: Sequence[Term]) -> str:
    """`to_tsquery('simple', ...)` text: each term's tokens in a row (`<->`), the last a prefix if typed."""
    parts = []
    for term in terms:
        words = [fold(token).replace("'", "''") for token in term.tokens]
        quoted = [f"'{word}'" for word in words]
        if term.prefix:
            quoted[-1] += ":*"
        parts.append("(" + " <-> ".join(quoted) + ")")
    return " & ".join(parts)


def search(
    db: Any, text: str, *, limit: int = 50, me: str | None = None, now: float | None = None
) -> list[SearchHit]:
    query = parse(text)
    if query.errors:
        raise SearchError("; ".join(query.errors))
    now = time.time() if now is None else now
    where, args = _filters(query, me=me, now=now)
    if not query.terms:
        return _by_filters(db, where, args, limit)
    condition = f" AND {where}" if where else ""
    match = tsquery(query.terms)
    best: dict[int, tuple[float, float, int | None]] = {}
    for sql in (
        "SELECT m.conversation_id, MAX(ts_rank(m.search, q.q, 1)), c.created_at, "
        "(array_agg(m.id ORDER BY ts_rank(m.search, q.q, 1) DESC, m.id DESC))[1] "
        "FROM (SELECT to_tsquery('simple', ?) AS q) q, messages m JOIN conversations c ON c.id = m.conversation_id "
        f"WHERE m.search @@ q.q{condition} GROUP BY m.conversation_id, c.created_at "
        "ORDER BY 2 DESC, 3 DESC LIMIT ?",
        "SELECT c.id, ts_rank(h.search, q.q, 1), c.created_at, NULL FROM (SELECT to_tsquery('simple', ?) AS q) q, "
        f"search_heads h JOIN conversations c ON c.id = h.conversation_id WHERE h.search @@ q.q{condition} "
        "ORDER BY 2 DESC, 3 DESC LIMIT ?",
    ):
        for conversation_id, rank, created, message_id in db.execute(sql, (match, *args, PER_INDEX)):
            seen = best.get(conversation_id)
            if seen is None or rank > seen[0]:
                best[conversation_id] = (float(rank), float(created), message_id)
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], -item[1][1], -item[0]))[:limit]
    return [_hit(db, query.terms, cid, rank, message_id) for cid, (rank, _created, message_id) in ranked]


def _by_filters(db: Any, where: str, args: list[Any], limit: int) -> list[SearchHit]:
    """Fields alone: the newest conversations that pass them, the snippet their subject (as the file's).
    PostgreSQL's planner picks the index (INDEXES, of value, created_at and id) from its statistics."""
    rows = db.execute(
        "SELECT id, subject, customer_name FROM conversations c "
        f"WHERE {where} ORDER BY c.created_at DESC, c.id DESC LIMIT ?",
        (*args, limit),
    ).fetchall()
    return [
        SearchHit(qualify(cid), 0.0, clean(f"{subject} — {name}"), (), None) for cid, subject, name in rows
    ]


def _hit(
    db: Any, terms: Sequence[Term], conversation_id: int, rank: float, message_id: int | None
) -> SearchHit:
    if message_id is not None:
        row = db.execute("SELECT body FROM messages WHERE id = ?", (message_id,)).fetchone()
        text = row[0] if row else ""
    else:
        row = db.execute(
            "SELECT c.subject, c.customer_name, COALESCE(u.email, '') FROM conversations c "
            "LEFT JOIN customers u ON u.id = c.customer_id WHERE c.id = ?",
            (conversation_id,),
        ).fetchone()
        text = f"{row[0]} — {row[1]} {row[2]}".strip() if row else ""
    snippet, spans = snippet_of(text, terms)
    return SearchHit(
        qualify(conversation_id), round(rank, 6), snippet, spans, qualify(message_id) if message_id else None
    )


__all__ = ["SCHEMA", "search", "tsquery"]
