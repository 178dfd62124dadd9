"""Search for the Zendesk adapter (the optional `Search` capability, backends/optional.py).

Zendesk's own search (`GET /api/v2/search.json?query=type:ticket ...`, Search API) finds tickets, open and
closed, by words of their subject, description and comments, ranked; 100 a page and 1,000 in all at most.
The console's query language (console/core/search_query.py) is translated: words stay words (the one being
typed gets Zendesk's `*` wildcard), phrases stay "phrases", `tag:` is `tags:`, `state:` is `status:`,
`prio:` is `priority:`, `owner:me` is `assignee:me`, `after:`/`before:` are `created>=`/`created<`. The
other fields (`lang:`, `channel:`, `queue:`, `customer:`) are refused as `Invalid`: the console says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...console.core.search_query import fold, parse
from ..base import Invalid
from ..optional import SearchHit
from .mapping import status_for

if TYPE_CHECKING:
    from ...console.core.model import Conversation
    from .api import ZendeskApi

SNIPPET_CHARS = 160
RESULT_LIMIT = 1000
_STATES = {
    "new": "new",
    "open": "open",
    "pending": "pending",
    "solved": "solved",
    "waiting": "new",
    "active": "open",
    "ended": "solved",
}


def zendesk_query(text: str) -> tuple[str, list[str]]:
    """The Zendesk search query for the console's search text, and the folded words for snippets."""
    from ...console.core.model import State

    parsed = parse(text)
    if parsed.errors:
        raise Invalid("; ".join(parsed.errors))
    parts = ["type:ticket"]
    words: list[str] = []
    for term in parsed.terms:
        words.extend(term.tokens)
        if len(term.tokens) > 1:
            parts.append('"' + " ".join(term.tokens) + '"')
        else:
            parts.append(term.tokens[0] + ("*" if term.prefix else ""))
    for name, values in parsed.fields.items():
        for value in values:
            if name == "tag":
                parts.append(f"tags:{_plain(value)}")
            elif name == "state":
                status = _STATES.get(value) or (
                    status_for(State(value)) if value in State._value2member_map_ else None
                )
                if status is None:
                    raise Invalid(f"Zendesk has no status for state:{value}")
                parts.append(f"status:{status}")
            elif name == "prio":
                parts.append(f"priority:{_plain(value)}")
            elif name == "owner":
                parts.append("assignee:me" if value == "me" else f"assignee:{_plain(value)}")
            else:
                raise Invalid(f"Zendesk's search cannot filter on {name}:")
    if parsed.after:
        parts.append(f"created>={parsed.after.isoformat()}")
    if parsed.before:
        parts.append(f"created<{parsed.before.isoformat()}")
    return " ".join(parts), words


def _plain(value: str) -> str:
    """A field value as one search word: no quotes or spaces that would change the query."""
    return "".join(ch for ch in value if ch.isalnum() or ch in "-_.@")


def snippet_of(text: str, words: list[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    folded = fold(text)
    first = min((i for i in (folded.find(w) for w in words) if i >= 0), default=0)
    start = max(0, first - SNIPPET_CHARS // 3)
    window = " ".join(text[start : start + SNIPPET_CHARS].split("\n"))
    folded_window = fold(window)
    spans: list[tuple[int, int]] = []
    if len(folded_window) == len(window):
        for word in words:
            at = folded_window.find(word)
            while at >= 0 and word:
                spans.append((at, at + len(word)))
                at = folded_window.find(word, at + len(word))
    return window, tuple(sorted(spans))


class Searching:
    """`search` for the Zendesk adapter (a mixin of ZendeskBackend)."""

    service: str

    if TYPE_CHECKING:

        @property
        def api(self) -> ZendeskApi: ...
        def _conversation(self, raw: Mapping[str, Any]) -> Conversation: ...
        async def _learn_users(self, tickets: Any) -> None: ...

    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        text, words = zendesk_query(query)
        hits: list[SearchHit] = []
        page = 1
        limit = min(limit, RESULT_LIMIT)
        while len(hits) < limit:
            body = await self.api.search(text, page=page, per_page=min(100, limit))
            found = [
                r
                for r in body.get("results") or ()
                if isinstance(r, dict) and r.get("result_type", "ticket") == "ticket"
            ]
            await self._learn_users(found)
            for raw in found:
                conversation = self._conversation(raw)
                description = str(raw.get("description") or "")
                source = description if any(w in fold(description) for w in words) else conversation.subject
                snippet, spans = snippet_of(source, words)
                hits.append(
                    SearchHit(
                        conversation_id=conversation.id,
                        score=float(-len(hits)),
                        snippet=snippet,
                        spans=spans,
                        conversation=conversation,
                    )
                )
            if not body.get("next_page") or not found:
                break
            page += 1
        return hits[:limit]


__all__ = ["Searching", "snippet_of", "zendesk_query"]
