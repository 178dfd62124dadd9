"""The console's side of drafts: saved off the event loop, in order, and removed only once their reply is safe.

What the agent typed must not exist nowhere, not even for a millisecond: when a reply is sent, its draft is
first saved as it is at that moment, then the reply is journalled in the outbox, and only then is the draft
removed. A console killed anywhere in between leaves the draft, the journal entry, or both; both is harmless
because the draft carries the reply's idempotency key (`Draft.key`): the journal takes a key once, and at
the next start `reconcile` removes the drafts whose key is journalled, so they are not offered again.

Two consoles of one agent share the drafts file. A reply sent from one leaves its key in the file
(`Drafts.discard(key=)`), so the other console, whose composer may still hold it, cannot save it back: its
save raises `AlreadySent`, and what it holds becomes a new reply with a new key, the agent being told.

Every write runs on one serial worker thread, so a debounced save queued before the send cannot land after
the removal and bring the draft back. Loading is a ~0.01 ms read and stays on the caller's thread.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from enum import StrEnum
from pathlib import Path
from typing import Any

from .drafts import AlreadySent, Draft, Drafts

log = logging.getLogger(__name__)

Journalled = Callable[[Iterable[str]], Awaitable[set[str]]]


class Saved(StrEnum):
    YES = "yes"
    NO = "no"  # the storage refused it (said to the agent)
    SENT_ALREADY = "sent already"  # its key was sent from another console: the text is a new draft now


class DraftKeeper:
    """Drafts of one console user. `await open(path)`, then the methods below from the event loop."""

    def __init__(self, on_error: Callable[[str], Any]) -> None:
        self.drafts: Drafts | None = None
        self._on_error = on_error
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drafts")
        # The key of the reply being written, per conversation: from its draft, or new when none has one.
        self._keys: dict[str, str] = {}

    async def open(self, path: Path | None) -> None:
        """Open the drafts file (None: this console keeps no drafts)."""
        self._loop = asyncio.get_running_loop()
        if path is not None:
            self.drafts = await self._loop.run_in_executor(self._writer, Drafts, path)

    def close(self) -> None:
        self._writer.shutdown(wait=True)  # queued saves first: they are the agent's words
        if self.drafts is not None:
            self.drafts.close()
            self.drafts = None

    # ------------------------------------------------------------------------------------------ keys

    def begin(self, conversation_id: str, draft: Draft | None) -> str:
        """The composer opens on `conversation_id`, continuing `draft` (None: a new reply, a new key)."""
        key = draft.key if draft is not None and draft.key else uuid.uuid4().hex
        self._keys[conversation_id] = key
        return key

    def key(self, conversation_id: str) -> str:
        return self._keys.setdefault(conversation_id, uuid.uuid4().hex)

    def _rekey(self, conversation_id: str, old: str, new: str) -> None:
        if self._keys.get(conversation_id) == old:
            self._keys[conversation_id] = new

    def take(self, conversation_id: str) -> str:
        """The key of the reply sent now; the next reply in this conversation gets another."""
        return self._keys.pop(conversation_id, None) or uuid.uuid4().hex

    # ------------------------------------------------------------------------------------------ reading & writing

    def load(self, conversation_id: str) -> Draft | None:
        return self.drafts.load(conversation_id) if self.drafts is not None else None

    def save_later(self, conversation_id: str, outgoing: Any) -> None:
        """The debounced save while typing: queued on the writer, a failure said, never raised here."""
        if self.drafts is None:
            return
        future = self._writer.submit(self._save, conversation_id, outgoing, self.key(conversation_id))
        future.add_done_callback(self._report)

    async def save_now(self, conversation_id: str, outgoing: Any, key: str, *, revive: bool = False) -> Saved:
        """Save and wait until it is on disk, or say why not. When `key` was sent already (from another
        console) the text is saved as a new reply instead, and the agent told. `revive`: the reply of `key`
        is being taken back from the outbox to be edited."""
        if self.drafts is None:
            return Saved.NO
        try:
            await self._in_writer(self._save, conversation_id, outgoing, key, revive)
        except AlreadySent:
            return Saved.SENT_ALREADY  # `_save` kept the text under a new key and said so
        except Exception as error:
            self._on_error(f"The draft could not be saved: {error}")
            return Saved.NO
        return Saved.YES

    async def sent(self, conversation_id: str, key: str) -> None:
        """Its reply is journalled: remove the draft of that reply (not a newer one of the same conversation)."""
        if self.drafts is not None:
            try:
                await self._in_writer(self.drafts.discard, conversation_id, key=key)
            except Exception as error:  # harmless: `reconcile` removes it at the next start
                log.warning("a sent draft could not be removed: %s", error)

    def discard_later(self, conversation_id: str) -> None:
        """Thrown away by the agent."""
        if self.drafts is not None:
            self._writer.submit(self.drafts.discard, conversation_id).add_done_callback(self._report)

    async def reconcile(self, journalled: Journalled) -> int:
        """At start: drafts whose reply is already in the journal (a console killed between journalling
        and removing them) are removed, not offered again. Returns how many."""
        if self.drafts is None:
            return 0
        drafts = await self._in_writer(self.drafts.all)
        done = await journalled(d.key for d in drafts)
        for draft in drafts:
            if draft.key in done:
                await self._in_writer(self.drafts.discard, draft.conversation_id, key=draft.key)
        return sum(1 for d in drafts if d.key in done)

    # ------------------------------------------------------------------------------------------ plumbing

    def _save(self, conversation_id: str, outgoing: Any, key: str, revive: bool = False) -> None:
        """On the writer thread. A key sent already: the text is kept under a new key, then AlreadySent."""
        assert self.drafts is not None
        fields = {
            "kind": outgoing.kind,  # every composer kind is a draft kind, reply_all included
            "to": outgoing.to,
            "cc": outgoing.cc,
            "bcc": outgoing.bcc,
            "subject": outgoing.subject,
            "attachments": outgoing.attachments,
        }
        if revive:
            self.drafts.revive(key)
        try:
            self.drafts.save(conversation_id, outgoing.body, key=key, **fields)
        except AlreadySent:
            fresh = uuid.uuid4().hex
            self.drafts.save(conversation_id, outgoing.body, key=fresh, **fields)
            self._from_writer(self._rekey, conversation_id, key, fresh)
            self._from_writer(
                self._on_error,
                "This reply was already sent from your other console. What you have written is kept as a "
                "new draft: sending it sends a second reply.",
            )
            raise

    async def _in_writer(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: fn(*args, **kwargs))

    def _from_writer(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn, *args)

    def _report(self, future: Future[Any]) -> None:
        error = future.exception()
        if isinstance(error, AlreadySent):
            return  # said by `_save`
        if error is not None:
            log.error("draft write failed: %s", error)
            if self._loop is not None and not self._loop.is_closed():  # said on the event loop's thread
                self._loop.call_soon_threadsafe(self._on_error, f"The draft could not be saved: {error}")


__all__ = ["DraftKeeper", "Saved"]
