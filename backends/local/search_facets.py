"""A conversation's language and channel as words of the full-text indexes, so that `lang:de pa` is one lookup.

A field narrows a search after the words have matched: the newest matches of the words are read, and the
field's SQL keeps those that pass (search.py). When the field is rare among the words' matches, that reads
every match: at a million conversations the two letters "pa", as typed toward "paket" under `lang:de`, match
43,000 messages (the folded Swedish "på"), none of them German, and all were joined to be sure (70 ms warm,
half a second cold). With the language and channel in the index, in a `facets` column of each message and
each head, FTS5 intersects the words with the field's own list: only German matches are read.

A facet is a letter and the value (`lde`, `cemail`), cut by the index's tokenizer as `tokens` cuts it, so
the lookup finds every row whose column value the field's SQL passes (and the SQL still checks each one).
The words of a query are kept to the text's columns: `lde` typed as a word does not match every German
conversation. The facet column weighs nothing in the ranking (`RANKS`).

The language and channel are set when a conversation is made and the workspace does not change them; a
change made by hand still reaches the index (`REINDEX_ON_CHANGE`).
"""

from __future__ import annotations

from ...console.core.search_query import SearchQuery, tokens

# The fields that are words of the index too: stored once per conversation, in every one of its rows.
FACET_FIELDS = {"lang": "l", "channel": "c"}


def facets_of(conversation: str) -> str:
    """SQL for the facet text of the conversation row named `conversation` (`c`, `NEW`, `OLD`)."""
    return f"'l' || {conversation}.language || ' c' || {conversation}.channel"


# The messages' index reads its text through this view: a message's body and its conversation's facets.
VIEW = (
    "CREATE VIEW IF NOT EXISTS search_message_text AS SELECT m.id AS id, m.body AS body, "
    f"{facets_of('c')} AS facets FROM messages m JOIN conversations c ON c.id = m.conversation_id "
    "WHERE m.direction != 'system'"
)
# A conversation's language or channel changed: each of its messages out under the old facets, in under the
# new (an FTS5 'delete' must be given the text that was indexed). Its head is search.py's update trigger.
REINDEX_ON_CHANGE = (
    "CREATE TRIGGER IF NOT EXISTS search_messages_facets AFTER UPDATE OF language, channel ON conversations "
    "WHEN OLD.language IS NOT NEW.language OR OLD.channel IS NOT NEW.channel BEGIN "
    "INSERT INTO search_messages (search_messages, rowid, body, facets) "
    f"SELECT 'delete', m.id, m.body, {facets_of('OLD')} FROM messages m "
    "WHERE m.conversation_id = OLD.id AND m.direction != 'system'; "
    f"INSERT INTO search_messages (rowid, body, facets) SELECT m.id, m.body, {facets_of('NEW')} "
    "FROM messages m WHERE m.conversation_id = NEW.id AND m.direction != 'system'; END"
)
# bm25's weight per column, the facets last at zero: a facet narrows, it does not rank.
RANKS = {"search_messages": "bm25(1.0, 0.0)", "search_heads": "bm25(1.0, 1.0, 0.0)"}
# The columns a query's words are matched in, per index.
TEXT_COLUMNS = {"search_messages": "body", "search_heads": "{subject customer}"}


def facet_match(query: SearchQuery) -> str:
    """The FTS5 expression of the query's facet fields (`facets : ("lde" OR "lfr") AND facets : "cemail"`),
    or "" when it has none. Values OR within a field, fields AND, as the fields' SQL has them."""
    parts = []
    for name, letter in FACET_FIELDS.items():
        phrases = ['"' + " ".join(tokens(letter + value)) + '"' for value in query.fields.get(name, ())]
        if phrases:
            parts.append("facets : (" + " OR ".join(phrases) + ")")
    return " AND ".join(parts)


def index_match(table: str, words: str, facets: str) -> str:
    """The MATCH text for `table`: the words in its text columns, and the facets."""
    matched = f"{TEXT_COLUMNS[table]} : ({words})"
    return f"{matched} AND {facets}" if facets else matched


__all__ = ["FACET_FIELDS", "RANKS", "REINDEX_ON_CHANGE", "VIEW", "facet_match", "facets_of", "index_match"]
