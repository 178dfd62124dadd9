"""Changing the marks of a thread (status, assignee, tags, priority) where they live.

With keywords, the server is the truth: the thread's flags are fetched fresh before deciding (a claim made a
second ago on another console is seen), the keyword difference is stored on every inbox message of the
thread. Where the server offers CONDSTORE (Dovecot, Cyrus, Gmail...), the write is a compare-and-swap
(STORE UNCHANGEDSINCE the MODSEQ just read): of two agents claiming at the same instant, one gets in and the
other reads again and gets `Conflict`. Without CONDSTORE a claim is checked after the write: if two agents
wrote, every console reads the same winner (the smallest agent id, see `marks_from_flags`) and the loser
removes its keyword and gets `Conflict`; a narrow window remains where the first to check has already been
told yes when a second, smaller id arrives.
In the local table, a write transaction makes the change atomic for consoles sharing the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from ..base import Conflict, NotFound, Unavailable
from .command_link import CommandLink
from .conversations import effective_state
from .index import INBOX, IndexedMessage, MailIndex, transaction
from .local_state import Marks, TableMarks, is_ours, keywords_for, marks_from_flags
from .session import ImapSession
from .workers import Worker

Change = Callable[[Marks, Sequence[IndexedMessage]], Marks]
_ATTEMPTS = 5


def materialize(marks: Marks, rows: Sequence[IndexedMessage]) -> Marks:
    """The marks as they are now seen, to be written back: a thread reopened by the customer stays open."""
    inbox_uids = [r.uid for r in rows if r.role == INBOX]
    if marks.status is None:
        return replace(marks, status_uid=max(inbox_uids, default=0))
    return replace(marks, status=effective_state(rows, marks), status_uid=max(inbox_uids, default=0))


class MarkWriter:
    def __init__(
        self,
        *,
        link: CommandLink,
        db: Worker,
        index: MailIndex,
        table: TableMarks,
        keywords: bool,
        inbox: str,
    ) -> None:
        self.link = link
        self.db = db
        self.index = index
        self.table = table
        self.keywords = keywords
        self.inbox = inbox

    def marks_for(self, threads: Mapping[str, Sequence[IndexedMessage]]) -> dict[str, Marks]:
        """Marks of many threads (database thread)."""
        if self.keywords:
            return {
                thread: marks_from_flags((r.uid, r.flags) for r in rows if r.role == INBOX)
                for thread, rows in threads.items()
            }
        stored = self.table.get_many(threads)
        return {thread: stored.get(thread, Marks()) for thread in threads}

    async def change(self, thread: str, change: Change, *, claimant: str | None = None) -> None:
        """Apply `change(current marks, rows) -> new marks` (it may raise `Conflict` or `Invalid`).

        `claimant`: the agent taking the thread, checked again after the write (keyword mode).
        """
        if self.keywords:
            await self._change_keywords(thread, change, claimant)
        else:
            await self.db.run(self._change_table, thread, change)

    def _change_table(self, thread: str, change: Change) -> None:
        with transaction(self.index.db):
            rows = self.index.thread_rows(thread)
            if not any(r.role == INBOX for r in rows):
                raise NotFound(f"no conversation {thread} in the inbox")
            current = materialize(self.table.get(thread), rows)
            self.table.put(thread, change(current, rows))

    async def _change_keywords(self, thread: str, change: Change, claimant: str | None) -> None:
        rows = await self.db.run(self.index.thread_rows, thread)
        inbox = [r for r in rows if r.role == INBOX]
        if not inbox:
            raise NotFound(f"no conversation {thread} in the inbox")
        async with self.link.session() as (session, worker):
            info = await worker.run(session.ensure_selected, self.inbox)
            if info.uidvalidity != inbox[0].uidvalidity:
                raise Unavailable("the server renumbered the inbox; the index is catching up, try again")
            uids = [r.uid for r in inbox]
            for _ in range(_ATTEMPTS):
                if session.condstore:
                    fresh, modseq = await worker.run(session.changed_flags, uids, 0)
                else:
                    fresh, modseq = await worker.run(session.fetch_flags, uids), None
                if not fresh:
                    raise NotFound(f"the messages of {thread} are no longer in the inbox")
                await self.db.run(self.index.set_flags, INBOX, fresh)
                rows = [
                    replace(r, flags=fresh[r.uid]) if r.uid in fresh else r
                    for r in rows
                    if r.role != INBOX or r.uid in fresh
                ]
                current = materialize(marks_from_flags(fresh.items()), rows)
                wanted = keywords_for(change(current, rows))
                if await self._store(session, worker, fresh, wanted, modseq):
                    break
            else:
                raise Conflict("this conversation kept changing under us; look again and retry")
            if claimant and modseq is None:
                await self._check_claim(session, worker, list(fresh), claimant)

    async def _store(
        self,
        session: ImapSession,
        worker: Worker,
        flags: Mapping[int, frozenset[str]],
        wanted: frozenset[str],
        modseq: int | None,
    ) -> bool:
        """Write the keyword difference; with a MODSEQ, only if nothing changed since (False: read again)."""
        stale = sorted({f for values in flags.values() for f in values if is_ours(f)} - wanted)
        missing = sorted(wanted - set.intersection(*(set(v) for v in flags.values())))
        steps = [("+FLAGS.SILENT", missing), ("-FLAGS.SILENT", stale)]
        steps = [(operation, keywords) for operation, keywords in steps if keywords]
        if modseq is not None and steps:
            # The first step is the compare-and-swap: two consoles claiming at once cannot both get in.
            operation, keywords = steps.pop(0)
            if await worker.run(session.store_unchanged_since, list(flags), operation, keywords, modseq):
                return False
        for operation, keywords in steps:
            if operation.startswith("+"):
                await worker.run(session.add_flags, list(flags), keywords)
            else:
                holders = [uid for uid, values in flags.items() if values & set(keywords)]
                await worker.run(session.remove_flags, holders, keywords)
        if missing or stale:
            await self.db.run(self.index.set_flags, INBOX, await worker.run(session.fetch_flags, list(flags)))
        return True

    async def _check_claim(
        self, session: ImapSession, worker: Worker, uids: list[int], claimant: str
    ) -> None:
        after = await worker.run(session.fetch_flags, uids)
        await self.db.run(self.index.set_flags, INBOX, after)
        marks = marks_from_flags(after.items())
        if marks.assignee != claimant:
            mine = keywords_for(Marks(assignee=claimant))
            updated = await worker.run(session.remove_flags, uids, sorted(mine))
            await self.db.run(self.index.set_flags, INBOX, updated)
            raise Conflict(
                f"{marks.assignee} took this conversation at the same moment", owner=marks.assignee
            )
