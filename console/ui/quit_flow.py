"""Leaving the console: at once when nothing is cut off; else asked, naming what (quitting.py), and on yes
what waits in its undo window is sent first and drafts a full disk kept in memory get a last write."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Protocol

from .quitting import QuitDialog, cut_off

if TYPE_CHECKING:
    from ..core.draft_keeper import DraftKeeper
    from ..core.outbox import Outbox, OutboxEntry
    from ..core.store import Store

# Seconds a held send may take to go out before the console quits anyway (it stays journalled).
QUIT_FLUSH_SECONDS = 8.0


class QuittingHost(Protocol):
    store: Store
    me: str
    outbox: Outbox | None
    draft_keeper: DraftKeeper

    def push_screen(self, screen: Any, callback: Any = None) -> Any: ...

    def run_worker(self, work: Any, *args: Any, **kwargs: Any) -> Any: ...

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None: ...

    def exit(self, *args: Any, **kwargs: Any) -> None: ...


class QuitFlow:
    def __init__(self, app: QuittingHost) -> None:
        self.app = app
        self._dialog: QuitDialog | None = None

    async def ask(self) -> None:
        """ctrl+q: quit, or ask first ("1 live chat, 1 reply in its undo window"). ctrl+q again is yes."""
        if self._dialog is not None:
            return  # asked already
        app = self.app
        drafts = app.draft_keeper.drafts
        unsaved = len(drafts.unwritten) if drafts is not None else 0  # kept in memory by a full disk
        what = cut_off(app.store.conversations.values(), app.me, [e.kind for e in self._held()], unsaved)
        if not what:
            await self._quit()
            return
        self._dialog = QuitDialog(f"Quit now? It cuts off {what}; held sends go at once.")
        app.push_screen(self._dialog, self._answered)

    def _answered(self, yes: bool | None) -> None:
        self._dialog = None
        if yes:
            self.app.run_worker(self._quit(), group="quit", exclusive=True)

    def _held(self) -> list[OutboxEntry]:
        """Entries still in their undo window that this console could send now."""
        outbox = self.app.outbox
        if outbox is None:
            return []
        from ..core.outbox import EntryState

        now = time.time()
        return [
            e
            for e in outbox.pending()
            # Delivered by another console of this agent: quitting this one cuts nothing off.
            if e.state is EntryState.SCHEDULED and e.due_at > now and outbox.delivers(e)
        ]

    async def _quit(self) -> None:
        app = self.app
        held = self._held()
        if app.outbox is not None and held:
            outbox = app.outbox
            app.notify(f"Sending {len(held)} held before quitting…", timeout=QUIT_FLUSH_SECONDS)
            waits = [outbox.wait(e.id, timeout=QUIT_FLUSH_SECONDS) for e in held if outbox.send_now(e.id)]
            # Not sent in time (a backend down): it stays journalled and goes at the next start.
            await asyncio.gather(*waits, return_exceptions=True)
        drafts = app.draft_keeper.drafts
        if drafts is not None and len(drafts.unwritten):
            await asyncio.to_thread(drafts.flush)  # a last try: maybe there is space now
        app.exit()
