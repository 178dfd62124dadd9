"""Search for the IMAP adapter (the optional `Search` capability, backends/optional.py), by the server's SEARCH.

The console's query language (console/core/search_query.py) is read and asked of the server as
`UID SEARCH CHARSET UTF-8`, in the inbox and in Sent (the agents' replies), with what IMAP can say:
- each word (and each word of a phrase) as `OR SUBJECT w OR FROM w BODY w`, so that the Received, To and
  DKIM headers that TEXT would also read do not match every mail. Servers match substrings with case folded
  but accents kept (Dovecot's i;unicode-casemap decomposes "é" to "e" + an accent, so "rembourse" finds
  "remboursé" but "theiere" not "théière"): a word is asked twice, as typed (folded) and as its parts that
  no accent can split ("the", "re"), and the candidates are checked here on the fetched text, as the local
  index reads words (whole words, the last one a prefix as it is typed, phrases in order, accents folded);
- `after:` as SINCE, a day early (the server's day is the mail's own time zone); the exact bound, and
  `before:` (a conversation opened before a day may hold a matching mail written after it), are checked
  here on the conversation's opening, as the local workspace does;
- the `/` filter's fields (`state:`, `owner:`, `tag:`, `lang:`, `prio:`, `queue:`, `customer:`...) on the
  conversations as the adapter builds them from its index and marks (keywords or its table), which is
  what the console shows; a query of fields only reads the index (the server's headers) without SEARCH.
Notes live in the adapter's file (never on the server) and are searched there.

Ranked: conversations whose subject holds every word first, then the newest matching mail first. At most
`VERIFY` candidate mails of each search are checked, the newest, so a word found in many thousand mails shows
the newest of them. Without a full-text index on the server (Dovecot's fts plugins) a SEARCH of bodies reads
every mail: about 35 ms per thousand mails on Dovecot here. Snippets are sanitised (console/core/search_text.py) and carry the spans of
the matching words.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from ...console.core.search_query import SearchQuery, Term, parse
from ...console.core.search_text import day_start, matches, snippet_of
from ...console.core.sla import SlaPolicy
from ...console.core.views import Filter, matcher
from ..base import Invalid, qualify
from ..optional import SearchHit
from .conversations import build_conversation, message_id, thread_of
from .index import INBOX, SENT, IndexedMessage
from .local_state import NoteRow

if TYPE_CHECKING:
    from ...console.core.model import Conversation
    from .command_link import CommandLink
    from .index import MailIndex
    from .local_state import Notes
    from .mark_writer import MarkWriter
    from .mime import ParsedMail
    from .session import ImapSession
    from .settings import ImapSettings
    from .workers import Worker

# Candidate mails checked here per kind of server search (as typed, accent-tolerant), the newest first.
VERIFY = 150
# After these a folded letter may carry an accent the server keeps (é, ç, ñ, š...): a word is cut there
# for the accent-tolerant search.
_MARKABLE = frozenset("aeiouycnsz")
_VOWELS = frozenset("aeiouy")
_IMAP_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parts_of(token: str) -> list[str]:
    """The pieces of a folded word that an accent on the server's side cannot split, two letters or more:
    "theiere" -> ["the", "re"] (théière is t h e ́ i e ̀ r e to the server). Cut after every letter that may
    carry an accent, or after vowels only when that leaves no piece ("cassee"); the word itself otherwise."""
    for markable in (_MARKABLE, _VOWELS):
        pieces: list[str] = []
        current = ""
        for index, ch in enumerate(token):
            current += ch
            if ch in markable and index < len(token) - 1:
                pieces.append(current)
                current = ""
        if current:
            pieces.append(current)
        kept = [p for p in pieces if len(p) >= 2]
        if kept:
            return kept
    return [token]


def _word(value: str) -> list[str]:
    return ["OR", "SUBJECT", value, "OR", "FROM", value, "BODY", value]


def criteria_for(query: SearchQuery, *, tolerant: bool) -> list[str]:
    """The UID SEARCH criteria of a query's words (ANDed, as IMAP ANDs a list), with SINCE for `after:`."""
    criteria: list[str] = []
    if query.after is not None:
        day = query.after - timedelta(days=1)
        criteria += ["SINCE", f"{day.day:02d}-{_IMAP_MONTHS[day.month - 1]}-{day.year}"]
    seen: set[str] = set()
    for term in query.terms:
        for token in term.tokens:
            for value in parts_of(token) if tolerant else [token]:
                if value not in seen:
                    seen.add(value)
                    criteria += _word(value)
    return criteria or ["ALL"]


@dataclass(frozen=True, slots=True)
class _Found:
    row: IndexedMessage | None  # None for a note
    note: NoteRow | None
    in_subject: bool
    at: float
    text: str


class Searching:
    """`search` for the IMAP adapter (a mixin of ImapBackend)."""

    name: str
    agent_id: str
    settings: ImapSettings
    _marks: MarkWriter | None
    _bodies: dict[str, ParsedMail]

    if TYPE_CHECKING:

        @property
        def db(self) -> Worker: ...
        @property
        def index(self) -> MailIndex: ...
        @property
        def link(self) -> CommandLink: ...
        def _require_notes(self) -> Notes: ...
        def _remember(self, ref: str, parsed: ParsedMail) -> None: ...
        async def _download(self, role: str, rows: list[IndexedMessage]) -> dict[str, ParsedMail]: ...

    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        parsed = parse(query)
        if parsed.errors:
            raise Invalid("; ".join(parsed.errors))
        # The screen cancels a search when the agent types on; a command cut in the middle would cost the
        # connection (and a login for the next one), so the server's part runs to its end.
        task = asyncio.ensure_future(self._search(parsed, limit))
        return await asyncio.shield(task)

    async def _search(self, query: SearchQuery, limit: int) -> list[SearchHit]:
        now = time.time()
        if not query.terms:
            return await self.db.run(self._by_fields, query, limit, now)
        found = await self._candidates(query)
        by_thread: dict[str, _Found] = {}
        for item in found:
            thread = item.row.thread if item.row is not None else item.note.thread  # type: ignore[union-attr]
            seen = by_thread.get(thread)
            if seen is None or (item.in_subject, item.at) > (seen.in_subject, seen.at):
                by_thread[thread] = item
        conversations = await self.db.run(self._conversations, list(by_thread))
        keep = _passes(query, me=self.agent_id, now=now)
        best = {c.id: by_thread[thread_of(self.name, c.id)] for c in conversations}
        ranked = sorted(
            (c for c in conversations if keep(c)),
            key=lambda c: (best[c.id].in_subject, best[c.id].at),
            reverse=True,
        )[:limit]
        return [self._hit(c, best[c.id], query.terms, -float(n)) for n, c in enumerate(ranked)]

    # ------------------------------------------------------------------------------------------ server

    async def _candidates(self, query: SearchQuery) -> list[_Found]:
        exact = criteria_for(query, tolerant=False)
        tolerant = criteria_for(query, tolerant=True)
        folders = [(INBOX, self.settings.inbox)]
        if self.settings.sent:
            folders.append((SENT, self.settings.sent))
        rows: dict[str, IndexedMessage] = {}
        for role, folder in folders:
            uidvalidity, answers = await self.link.call(_searched, folder, role == SENT, tolerant, exact)
            for uids in answers:
                newest = sorted(uids, reverse=True)[:VERIFY]
                for row in await self.db.run(self.index.by_uids, role, uidvalidity, newest):
                    rows[row.ref] = row
        found: list[_Found] = []
        need_body: list[IndexedMessage] = []
        for row in rows.values():
            head = f"{row.subject}\n{row.from_name} {row.from_addr}"
            if matches(query.terms, head):
                found.append(_Found(row, None, matches(query.terms, row.subject), row.date, ""))
            else:
                need_body.append(row)
        for role in (INBOX, SENT):
            wanted = [r for r in need_body if r.role == role and r.ref not in self._bodies]
            if wanted:
                for ref, mail in (await self._download(role, wanted)).items():
                    self._remember(ref, mail)
        for row in need_body:
            # Words AND within one mail, its subject and sender included (as the server read it).
            mail = self._bodies.get(row.ref)
            head = f"{row.subject}\n{row.from_name} {row.from_addr}"
            if mail is not None and matches(query.terms, f"{head}\n{mail.body}"):
                found.append(_Found(row, None, matches(query.terms, row.subject), row.date, mail.body))
        notes = await self.db.run(_all_notes, self._require_notes())
        found.extend(
            _Found(None, n, False, n.created_at, n.body) for n in notes if matches(query.terms, n.body)
        )
        return found

    # ------------------------------------------------------------------------------------------ index

    def _conversations(self, threads: Sequence[str]) -> list[Conversation]:
        """Conversations of these threads as the console has them (database thread); gone ones left out."""
        assert self._marks is not None
        rows = self.index.threads(threads)
        marks = self._marks.marks_for(rows)
        built = (
            build_conversation(self.name, t, r, marks[t], self.settings.language, self.settings.queue)
            for t, r in rows.items()
            if r
        )
        return [c for c in built if c is not None]

    def _by_fields(self, query: SearchQuery, limit: int, now: float) -> list[SearchHit]:
        """Fields (and dates) alone: the newest conversations of the index that pass them."""
        assert self._marks is not None
        threads = self.index.all_threads()
        marks = self._marks.marks_for(threads)
        keep = _passes(query, me=self.agent_id, now=now)
        built = (
            build_conversation(self.name, t, rows, marks[t], self.settings.language, self.settings.queue)
            for t, rows in threads.items()
        )
        chosen = sorted(
            (c for c in built if c is not None and keep(c)), key=lambda c: c.updated_at, reverse=True
        )
        hits = []
        for n, conversation in enumerate(chosen[:limit]):
            snippet, _ = snippet_of(f"{conversation.subject} — {conversation.customer_name}", ())
            hits.append(SearchHit(conversation.id, -float(n), snippet, (), None, conversation))
        return hits

    def _hit(
        self, conversation: Conversation, found: _Found, terms: Sequence[Term], score: float
    ) -> SearchHit:
        if found.row is not None and not found.text:  # the subject or the sender
            text = f"{found.row.subject} — {found.row.from_name or found.row.from_addr}"
            snippet, spans = snippet_of(text, terms)
            return SearchHit(conversation.id, score, snippet, spans, None, conversation)
        snippet, spans = snippet_of(found.text, terms)
        if found.row is not None:
            mid = message_id(self.name, found.row)
        else:
            assert found.note is not None
            mid = qualify(self.name, f"note/{found.note.id}")
        return SearchHit(conversation.id, score, snippet, spans, mid, conversation)


def _searched(
    session: ImapSession, folder: str, readonly: bool, tolerant: list[str], exact: list[str]
) -> tuple[int, list[list[int]]]:
    """(UIDVALIDITY, UIDs) in one folder (the link's thread): the accent-tolerant search's, and when it found
    more than can be checked, the search as typed too (its matches are among them, and likelier)."""
    info = session.ensure_selected(folder, readonly=readonly)
    answers = [session.search_uids(tolerant)]
    if exact != tolerant and len(answers[0]) > VERIFY:
        answers.append(session.search_uids(exact))
    session.pending_changes()  # the index catches up through the watcher, not here
    return info.uidvalidity, answers


def _all_notes(notes: Notes) -> list[NoteRow]:
    return [
        NoteRow(*row) for row in notes.db.execute("SELECT id, thread, author, body, created_at FROM notes")
    ]


def _passes(query: SearchQuery, *, me: str, now: float) -> Callable[[Conversation], bool]:
    """The query's fields as the `/` filter reads them, and its dates on the day a conversation opened."""
    fields = matcher(Filter(fields=query.fields), me=me, now=now, sla=SlaPolicy())
    after = day_start(query.after) if query.after is not None else None
    before = day_start(query.before) if query.before is not None else None
    return lambda c: (
        fields(c) and (after is None or c.created_at >= after) and (before is None or c.created_at < before)
    )


__all__ = ["VERIFY", "Searching", "criteria_for", "parts_of"]
