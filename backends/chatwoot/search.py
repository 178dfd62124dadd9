"""Search for the Chatwoot adapter (the optional `Search` capability, backends/optional.py).

Chatwoot searches message contents: `GET .../conversations?q=<text>&status=all` finds the conversations
with a message containing the text (as one phrase, case ignored: `ILIKE '%text%'` in its ConversationFinder),
25 a page, the latest activity first. The console's query language (console/core/search_query.py) is read:
its words and phrases are sent as one text; filters (`state:`, `tag:`, dates...) are refused as `Invalid`
(Chatwoot's `q` cannot take them), so the console says so and shows what the other backends found.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...console.core.search_query import fold, parse
from ..base import Invalid
from ..optional import SearchHit

if TYPE_CHECKING:
    from ...console.core.model import Conversation
    from .api import ChatwootApi

SNIPPET_CHARS = 160


def snippet_of(text: str, words: list[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A window of `text` around the first word found, and where each word is in it (case and accents
    folded for finding; the offsets are the text's own, which folding keeps for these alphabets)."""
    folded = fold(text)
    first = min((i for i in (folded.find(w) for w in words) if i >= 0), default=0)
    start = max(0, first - SNIPPET_CHARS // 3)
    window = text[start:start + SNIPPET_CHARS]
    folded_window = fold(window)
    spans: list[tuple[int, int]] = []
    if len(folded_window) == len(window):  # otherwise offsets would not line up: no highlight rather than a wrong one
        for word in words:
            at = folded_window.find(word)
            while at >= 0 and word:
                spans.append((at, at + len(word)))
                at = folded_window.find(word, at + len(word))
    return " ".join(window.split("\n")), tuple(sorted(spans))


class Searching:
    """`search` for the Chatwoot adapter (a mixin of ChatwootBackend)."""

    service: str

    if TYPE_CHECKING:

        @property
        def api(self) -> ChatwootApi: ...
        def _conversation(self, raw: Mapping[str, Any]) -> Conversation: ...

    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        parsed = parse(query)
        if parsed.errors:
            raise Invalid("; ".join(parsed.errors))
        if parsed.fields or parsed.after or parsed.before:
            raise Invalid(f"{self.service}: Chatwoot searches words in messages, not filters or dates")
        words = [token for term in parsed.terms for token in term.tokens]
        text = " ".join(words)
        hits: list[SearchHit] = []
        page = 1
        while len(hits) < limit:
            body = await self.api.http.get(
                f"{self.api.base}/conversations", q=text, status="all", assignee_type="all", page=page
            )
            found = list(((body or {}).get("data") or {}).get("payload") or [])
            for raw in found:
                conversation = self._conversation(raw)
                last = raw.get("last_non_activity_message") or {}
                content = str(last.get("content") or "") if isinstance(last, Mapping) else ""
                source = content if any(w in fold(content) for w in words) else conversation.subject
                snippet, spans = snippet_of(source, words)
                hits.append(SearchHit(
                    conversation_id=conversation.id,
                    score=float(-len(hits)),  # Chatwoot's own order (latest activity first) is the rank
                    snippet=snippet,
                    spans=spans,
                    conversation=conversation,
                ))
            if len(found) < 25:
                break
            page += 1
        return hits[:limit]


__all__ = ["Searching", "snippet_of"]
