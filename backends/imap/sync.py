"""Catching a folder up with the server, and applying what the server says while we wait (IDLE or NOOP).

No message is announced twice and none is missed across reconnects: new UIDs are fetched from the persisted
UIDNEXT, rows are inserted with INSERT OR IGNORE (so a repeated fetch adds nothing), and UIDNEXT is saved
only after the rows are. A new UIDVALIDITY means the server renumbered the folder: the index is rebuilt, and
messages whose Message-ID was already known are not announced again. Expunges and flag changes are found by
comparing UID sets and fetching flags (only those changed since the last MODSEQ when the server offers
CONDSTORE), and while waiting, from the server's untagged EXPUNGE and FETCH responses, which name messages by
sequence number: `uids` keeps the sequence-to-UID map that needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .index import Fetched, FolderState, IndexedMessage, MailIndex
from .mime import ParsedMail, parse_headers, parse_message
from .session import ImapSession, MailboxInfo, RawMessage
from .workers import Worker


@dataclass(slots=True)
class SyncResult:
    added: list[IndexedMessage] = field(default_factory=list)
    # Bodies of added messages when they were downloaded (to announce them with their text).
    bodies: dict[int, ParsedMail] = field(default_factory=dict)
    # Added rows that are not news: their Message-ID was known before the server renumbered the folder.
    known_again: set[str] = field(default_factory=set)
    changed_threads: set[str] = field(default_factory=set)

    def merge(self, other: SyncResult) -> None:
        self.added.extend(other.added)
        self.bodies.update(other.bodies)
        self.known_again |= other.known_again
        self.changed_threads |= other.changed_threads

    def __bool__(self) -> bool:
        return bool(self.added or self.changed_threads)


@dataclass(slots=True)
class FolderSync:
    """One folder (`role` in the index) seen through one session."""

    role: str
    session: ImapSession
    imap: Worker
    db: Worker
    index: MailIndex
    max_body_chars: int
    max_fetch_bytes: int
    # The folder's UIDs in sequence order, as the server numbers them (valid after `catch_up(full=True)`).
    uids: list[int] = field(default_factory=list)
    info: MailboxInfo | None = None
    highestmodseq: int | None = None

    async def catch_up(self, info: MailboxInfo, *, full: bool, bodies: bool) -> SyncResult:
        """Bring the index up to date with the folder just selected (`info`)."""
        self.info = info
        result = SyncResult()
        stored = await self.db.run(self.index.folder_state, self.role)
        if stored is not None and stored.uidvalidity != info.uidvalidity:
            result.known_again = await self.db.run(self.index.reset_folder, self.role)
            stored = None
        if stored is None:
            full = True
        self.highestmodseq = stored.highestmodseq if stored else None
        start = stored.uidnext if stored else 1
        if full:
            self.uids = await self.imap.run(self.session.all_uids)
            new_uids = [u for u in self.uids if u >= start]
        else:
            new_uids = await self.imap.run(self.session.uids_from, start)
            self.uids = sorted({*self.uids, *new_uids})
        result.merge(await self._add(new_uids, bodies=bodies))
        if full:
            result.changed_threads |= await self._reconcile()
        uidnext = max([start, info.uidnext, *(u + 1 for u in new_uids)])
        if info.highestmodseq is not None and full:
            self.highestmodseq = max(self.highestmodseq or 0, info.highestmodseq)
        await self.db.run(
            self.index.set_folder_state,
            self.role,
            FolderState(info.uidvalidity, uidnext, self.highestmodseq),
        )
        return result

    async def new_messages(self, *, bodies: bool) -> SyncResult:
        """Fetch what arrived since the last catch-up (after an EXISTS, or on a poll)."""
        assert self.info is not None
        stored = await self.db.run(self.index.folder_state, self.role)
        start = stored.uidnext if stored else 1
        new_uids = await self.imap.run(self.session.uids_from, start)
        result = await self._add(new_uids, bodies=bodies)
        if new_uids:
            self.uids = sorted({*self.uids, *new_uids})
            await self.db.run(
                self.index.set_folder_state,
                self.role,
                FolderState(self.info.uidvalidity, max(new_uids) + 1, self.highestmodseq),
            )
        return result

    async def apply_untagged(self, responses: Sequence[tuple[Any, ...]], *, bodies: bool) -> SyncResult:
        """Apply IDLE/NOOP responses in order: EXPUNGE shifts sequence numbers, FETCH carries new flags."""
        result = SyncResult()
        expunged: list[int] = []
        flags: dict[int, frozenset[str]] = {}
        saw_exists = False
        for response in responses:
            if len(response) < 2 or not isinstance(response[0], int):
                continue
            seq, kind = response[0], response[1]
            if kind == b"EXISTS":
                saw_exists = True
            elif kind == b"EXPUNGE" and 0 < seq <= len(self.uids):
                expunged.append(self.uids.pop(seq - 1))
            elif kind == b"FETCH" and len(response) > 2 and 0 < seq <= len(self.uids):
                found = _flags_in(response[2])
                if found is not None:
                    flags[self.uids[seq - 1]] = found
        if expunged:
            result.changed_threads |= await self.db.run(self.index.remove, self.role, expunged)
        if flags:
            result.changed_threads |= await self.db.run(self.index.set_flags, self.role, flags)
        if saw_exists:
            result.merge(await self.new_messages(bodies=bodies))
        return result

    async def _add(self, uids: list[int], *, bodies: bool) -> SyncResult:
        result = SyncResult()
        if not uids:
            return result
        assert self.info is not None
        # Whole messages come a few at a time: each may be up to max_fetch_bytes.
        step = 20 if bodies else 200
        for start in range(0, len(uids), step):
            chunk = uids[start : start + step]
            if bodies:
                raw = await self.imap.run(self.session.fetch_messages, chunk, self.max_fetch_bytes)
                parsed = await self.imap.run(_parse_full, raw, self.max_body_chars)
                items = [_fetched(m, p.headers) for m, p in zip(raw, parsed, strict=True)]
                result.bodies.update({m.uid: p for m, p in zip(raw, parsed, strict=True)})
            else:
                raw = await self.imap.run(self.session.fetch_headers, chunk)
                items = [_fetched(m, parse_headers(m.data)) for m in raw]
            added = await self.db.run(self.index.add, self.role, self.info.uidvalidity, items)
            result.added.extend(added)
            result.changed_threads.update(r.thread for r in added)
        return result

    async def _reconcile(self) -> set[str]:
        """Expunged messages and flag changes since the index was last in step with the server."""
        local = await self.db.run(self.index.uids, self.role)
        present = set(self.uids)
        gone = [u for u in local if u not in present]
        changed = await self.db.run(self.index.remove, self.role, gone) if gone else set()
        kept = [u for u in local if u in present]
        if not kept:
            return changed
        if self.session.condstore and self.highestmodseq:
            flags, highest = await self.imap.run(self.session.changed_flags, kept, self.highestmodseq)
            if highest:
                self.highestmodseq = max(self.highestmodseq, highest)
        else:
            flags = await self.imap.run(self.session.fetch_flags, kept)
        changed |= await self.db.run(self.index.set_flags, self.role, flags)
        return changed


def _fetched(message: RawMessage, headers: Any) -> Fetched:
    return Fetched(
        uid=message.uid,
        flags=message.flags,
        internaldate=message.internaldate,
        size=message.size,
        headers=headers,
    )


def _parse_full(messages: list[RawMessage], max_chars: int) -> list[ParsedMail]:
    return [parse_message(m.data, max_chars=max_chars, partial=m.partial) for m in messages]


def _flags_in(data: Any) -> frozenset[str] | None:
    """FLAGS from an untagged FETCH's parsed data: `(b'FLAGS', (b'\\\\Seen', ...), ...)`."""
    if not isinstance(data, tuple | list):
        return None
    items = list(data)
    for position in range(0, len(items) - 1):
        if isinstance(items[position], bytes) and items[position].upper() == b"FLAGS":
            values = items[position + 1]
            if isinstance(values, tuple | list):
                return frozenset(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values)
    return None
