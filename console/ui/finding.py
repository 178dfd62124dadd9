"""Finding a conversation beyond the queue: search everything (ctrl+f), the customer's contacts (C) and
timeline (T). What is picked opens in the detail, a closed one too (it joins the store as the recently
closed do, until the next snapshot; `X` reopens it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...backends.optional import SearchHit
    from ..core.model import Conversation
    from .workspace_view import WorkspaceView


class Finding:
    def __init__(self, view: WorkspaceView) -> None:
        self.view = view
        # (id, the cursor row then) of a result opened from outside the current view: until the cursor moves,
        # what the agent sees (and what a key acts on) is that one (`WorkspaceScreen.target`).
        self.outside: tuple[str, str | None] | None = None

    # The screens are imported when first asked for: the console's first frame does not show them.

    def search(self, query: str = "") -> None:
        from .search_screen import SearchScreen

        screen = SearchScreen(self.view.main, query)
        self.view.ask(screen, lambda hit: self._open_found(hit, screen.release))

    def history(self) -> None:
        conversation = self._customer_of_target()
        if conversation is None:
            return
        from .search_screen import HistoryScreen

        screen = HistoryScreen(
            self.view.main, conversation.customer_id, conversation.customer_name, conversation=conversation
        )
        self.view.ask(screen, lambda hit: self._open_found(hit, screen.release))

    def timeline(self) -> None:
        conversation = self._customer_of_target()
        if conversation is None:
            return
        from .timeline_screen import TimelineScreen

        app = self.view.main
        # The keys typed after T wait until the thread shows (T, k, enter in a burst open the line above).
        screen = TimelineScreen(
            app,
            conversation.customer_id,
            conversation.customer_name,
            conversation=conversation,
            loaded=app.hold_keys(),
        )
        self.view.ask(screen, lambda hit: self._open_found(hit, screen.release))

    def _customer_of_target(self) -> Conversation | None:
        conversation = self.view.target()
        if conversation is not None and not conversation.customer_id:
            self.view.notify("This contact has no known customer.", severity="information")
            return None
        return conversation

    def _open_found(self, hit: SearchHit | None, release: Callable[[], None]) -> None:
        """A result picked: shown, then the keys typed after enter go on."""
        try:
            self._show_found(hit)
        finally:
            release()

    def _show_found(self, hit: SearchHit | None) -> None:
        if hit is None:
            return
        view = self.view
        app = view.main
        cid = hit.conversation_id
        if cid not in app.store.conversations:
            if hit.conversation is None:
                view.notify("That conversation cannot be opened here any more.", severity="warning")
                return
            app.take_in(hit.conversation)
        if not view.queue.select_id(cid):
            # Not in this view (a solved mail): what the agent sees is the open one, until the cursor moves.
            self.outside = (cid, view.queue.cursor_id)
        view.open_conversation(cid)
        view.show_detail()
        conversation = app.store.conversations.get(cid)
        if conversation is not None and conversation.is_closed:
            view.notify(
                f"{conversation.state.value}: read it, or press X to reopen it.", severity="information"
            )
