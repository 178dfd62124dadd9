"""The search box's language: words, "phrases", a prefix as you type, and the `/` filter's fields.

`refund dupon` finds conversations holding "refund" and a word starting with "dupon": the last word is a
prefix while it is being typed (a trailing space ends it). `"card declined"` is a phrase. `lang:de`,
`channel:email`, `state:solved`, `tag:refund`, `owner:me`, `queue:`, `prio:`, `customer:` narrow on stored
columns with the names and values of the `/` filter (views.py); `after:2026-12-01` and `before:` on the
day a conversation was opened (after is inclusive, before exclusive). Everything combines with AND.

Words are cut into tokens as SQLite's unicode61 tokenizer cuts them (letters and digits), so
"ref-1042" or "dupont@example.com" search as phrases of their tokens, and the FTS5 expression built here
holds only quoted tokens: nothing typed can be read as FTS5 syntax. Pure: no SQLite, no Textual.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from .views import KNOWN_VALUES, Filter

# Fields stored as columns (searchable); `sla` is computed from the clock and the policy, so it is not.
FIELDS = tuple(name for name in Filter.FIELDS if name != "sla")
DATE_FIELDS = ("after", "before")
# A prefix of one or two letters would match most of the index at the first key presses: such a last word
# is searched as a whole word until the third letter.
MIN_PREFIX = 3

_TOKEN = re.compile(r"[^\W_]+")
_PART = re.compile(
    r"""
    (?P<name>[A-Za-z]+):(?:"(?P<quoted>[^"]*)"?|(?P<value>[^\s"]*))   # field:value or field:"a value"
  | "(?P<phrase>[^"]*)(?P<closed>"?)                                 # "a phrase"
  | (?P<word>[^\s"]+)
    """,
    re.VERBOSE,
)


@functools.lru_cache(maxsize=65536)  # a snippet folds every word of its message: words repeat
def fold(text: str) -> str:
    """Case and accents folded, as `unicode61 remove_diacritics 2` folds them: "Remboursé" -> "rembourse"."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def tokens(text: str) -> list[str]:
    """The folded tokens of `text`, cut where the index cuts them."""
    return [fold(t) for t in _TOKEN.findall(unicodedata.normalize("NFC", text))]


@dataclass(frozen=True, slots=True)
class Term:
    """Tokens that must appear in this order; the last one a prefix when `prefix`."""

    tokens: tuple[str, ...]
    prefix: bool = False

    def fts(self) -> str:
        quoted = '"' + " ".join(self.tokens) + '"'
        return quoted + "*" if self.prefix else quoted


@dataclass(slots=True)
class SearchQuery:
    text: str = ""
    terms: list[Term] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)
    after: date | None = None
    before: date | None = None
    errors: list[str] = field(default_factory=list)

    def match(self) -> str | None:
        """The FTS5 MATCH expression, or None when only fields were given."""
        return " AND ".join(term.fts() for term in self.terms) or None

    def __bool__(self) -> bool:
        return bool(self.terms or self.fields or self.after or self.before)


def parse(text: str) -> SearchQuery:
    query = SearchQuery(text=text)
    parts = list(_PART.finditer(text))
    typing_last = bool(text) and not text[-1].isspace()
    for index, part in enumerate(parts):
        last = typing_last and index == len(parts) - 1
        name = part["name"]
        if name is not None:
            value = part["quoted"] if part["quoted"] is not None else part["value"]
            if _field(query, name.lower(), value, part[0]):
                continue
            _add_words(query, part[0], prefix=last)
        elif part["phrase"] is not None:
            found = tokens(part["phrase"])
            if found:
                # An unclosed phrase is still being typed: its last word is a prefix.
                query.terms.append(_term(found, prefix=last and not part["closed"]))
        else:
            _add_words(query, part["word"], prefix=last)
    if query.after and query.before and query.after >= query.before:
        query.errors.append(f"after:{query.after} is not before before:{query.before}: nothing can match")
    if not query and not query.errors:
        query.errors.append('nothing to search for: give a word, a "phrase" or a field such as state:solved')
    return query


def _field(query: SearchQuery, name: str, value: str, raw: str) -> bool:
    """Record `name:value`; False when it is not a field at all (a URL, "ref:1042" is text)."""
    if name in DATE_FIELDS:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            query.errors.append(f"{name}: wants a date YYYY-MM-DD, not {value!r}")
            return True
        setattr(query, name, day)
        return True
    if name == "sla":
        query.errors.append("sla: is worked out from the clock, not stored: it cannot be searched")
        return True
    if name not in FIELDS:
        if value.startswith("/"):  # a URL's scheme
            return False
        known = ", ".join((*FIELDS, *DATE_FIELDS))
        query.errors.append(f'unknown field {name!r} (fields: {known}; quote it to search the text: "{raw}")')
        return True
    value = value.strip().lower()
    if not value:
        query.errors.append(f"{name}: wants a value")
        return True
    known_values = KNOWN_VALUES.get(name)
    if known_values is not None and value not in known_values:
        query.errors.append(f"no {name} {value!r} ({', '.join(sorted(known_values))})")
        return True
    query.fields.setdefault(name, []).append(value)
    return True


def _add_words(query: SearchQuery, word: str, *, prefix: bool) -> None:
    found = tokens(word)
    if found:
        query.terms.append(_term(found, prefix=prefix))


def _term(found: list[str], *, prefix: bool) -> Term:
    return Term(tuple(found), prefix=prefix and len(found[-1]) >= MIN_PREFIX)


__all__ = ["DATE_FIELDS", "FIELDS", "MIN_PREFIX", "SearchQuery", "Term", "fold", "parse", "tokens"]
