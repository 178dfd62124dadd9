"""What a search backend does with text once it has it: whether it matches, and the snippet a result shows.

Shared by the backends that hold the text themselves (the local workspace, IMAP's fetched mail), so that a
hit reads the same wherever it came from: the snippet is sanitised first and its spans are offsets in the
sanitised text, so highlighting never needs markup and never bypasses the sanitiser. Pure: no SQLite.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from .sanitize import sanitize
from .search_query import Term, fold, tokens

SNIPPET_CHARS = 160
SNIPPET_LEAD = 40
# A snippet is looked for in the first this many characters of a body: a pasted log of megabytes costs
# no more than a long mail (the hit still counts; its snippet is then the body's start).
SNIPPET_SCAN = 50_000

_WORD = re.compile(r"[^\W_]+")


def day_start(day: date) -> float:
    """Midnight at the start of `day`, local time: an agent's "after:2026-12-01" is their own day."""
    return datetime(day.year, day.month, day.day).timestamp()


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", sanitize(text, single_line=True)).strip()


def term_in(term: Term, words: Sequence[str]) -> bool:
    """Whether the folded `words` of a text hold `term`: its tokens in a row, the last one a prefix when the
    term is one (as FTS5 reads `"a b"*`)."""
    wanted = term.tokens
    size = len(wanted)
    if not size:
        return True
    head, last = wanted[:-1], wanted[-1]
    for start in range(len(words) - size + 1):
        if tuple(words[start : start + size - 1]) != head:
            continue
        word = words[start + size - 1]
        if word == last or (term.prefix and word.startswith(last)):
            return True
    return False


def matches(terms: Sequence[Term], text: str) -> bool:
    """Every term in `text` (case and accents folded, cut where the index cuts words)."""
    words = tokens(text[: SNIPPET_SCAN * 4])
    return all(term_in(term, words) for term in terms)


def snippet_of(text: str, terms: Sequence[Term]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The sanitised text around its first match, and the (start, end) of every matching word in it."""
    cleaned = clean(text[:SNIPPET_SCAN])
    exact = {t for term in terms for t in (term.tokens[:-1] if term.prefix else term.tokens)}
    prefixes = tuple(term.tokens[-1] for term in terms if term.prefix)
    spans = [
        (m.start(), m.end())
        for m in _WORD.finditer(cleaned)
        if (folded := fold(m.group())) in exact or (prefixes and folded.startswith(prefixes))
    ]
    start = 0
    if spans and len(cleaned) > SNIPPET_CHARS:
        start = max(0, spans[0][0] - SNIPPET_LEAD)
        if start:  # begin at a word
            space = cleaned.find(" ", start)
            start = space + 1 if 0 <= space < spans[0][0] else start
    end = min(len(cleaned), start + SNIPPET_CHARS)
    if end < len(cleaned):
        space = cleaned.rfind(" ", start, end)
        end = space if space > (spans[0][1] if spans else start) else end
    lead = "…" if start else ""
    window = lead + cleaned[start:end] + ("…" if end < len(cleaned) else "")
    shift = len(lead) - start
    kept = tuple((s + shift, e + shift) for s, e in spans if s >= start and e <= end)
    return window, kept


__all__ = ["SNIPPET_CHARS", "clean", "day_start", "matches", "snippet_of", "term_in"]
