"""Word indexes of two columns of the conversations, for the search's fields that no B-tree index can serve.

- `search_tags`: the tags (a comma-separated list), cut into words: `tag:gift-card` looks up the phrase
  "gift card", and the field's own clause then checks the tag itself.
- `search_names`: the customer's name in trigrams: `customer:dupo` matches inside a name (`instr`), and a
  trigram index finds every name holding a piece of three letters or more, case folded.

Both are FTS5 tables over `conversations` (rowid = its id; the text is not stored twice), kept by triggers
in the write's own transaction as search.py's indexes are, not ranked (no lengths kept: columnsize=0). Each
lists a superset of the conversations that pass its field: a lookup that finds none proves that none pass.
"""

from __future__ import annotations

from ...console.core.search_query import tokens

# A piece shorter than this has no trigram: `customer:du` is looked for without the index.
TRIGRAM = 3


def _column_index(table: str, column: str, tokenize: str) -> tuple[str, ...]:
    """The table and its triggers; empty text is not indexed (most conversations have no tags)."""
    return (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5({column}, content='conversations', "
        f"content_rowid='id', tokenize='{tokenize}', columnsize=0)",
        f"CREATE TRIGGER IF NOT EXISTS {table}_ins AFTER INSERT ON conversations WHEN NEW.{column} != '' "
        f"BEGIN INSERT INTO {table} (rowid, {column}) VALUES (NEW.id, NEW.{column}); END",
        # The old text out before the new in, in one trigger (the order of two is not defined).
        f"CREATE TRIGGER IF NOT EXISTS {table}_upd AFTER UPDATE OF {column} ON conversations "
        f"WHEN OLD.{column} IS NOT NEW.{column} BEGIN "
        f"INSERT INTO {table} ({table}, rowid, {column}) SELECT 'delete', OLD.id, OLD.{column} "
        f"WHERE OLD.{column} != ''; "
        f"INSERT INTO {table} (rowid, {column}) SELECT NEW.id, NEW.{column} WHERE NEW.{column} != ''; END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_del AFTER DELETE ON conversations WHEN OLD.{column} != '' "
        f"BEGIN INSERT INTO {table} ({table}, rowid, {column}) VALUES ('delete', OLD.id, OLD.{column}); END",
    )


def _fill(table: str, column: str) -> str:
    return (
        f"INSERT INTO {table} (rowid, {column}) SELECT id, {column} FROM conversations WHERE {column} != ''"
    )


TAGS = _column_index("search_tags", "tags", "unicode61 remove_diacritics 2")
TAGS_FILL = _fill("search_tags", "tags")
NAMES = _column_index("search_names", "customer_name", "trigram")
NAMES_FILL = _fill("search_names", "customer_name")


def tag_match(value: str) -> str | None:
    """The MATCH text for `tag:value`, or None when the tag has no word to look up (punctuation only)."""
    words = tokens(value)
    return '"' + " ".join(words) + '"' if words else None  # tokens: letters and digits, no FTS5 syntax


def name_match(value: str) -> str | None:
    """The MATCH text for `customer:value`, or None when it is too short for a trigram."""
    if len(value) < TRIGRAM:
        return None
    return '"' + value.replace('"', '""') + '"'  # one string: a quote inside is doubled


__all__ = ["NAMES", "NAMES_FILL", "TAGS", "TAGS_FILL", "TRIGRAM", "name_match", "tag_match"]
