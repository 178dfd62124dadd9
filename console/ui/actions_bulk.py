"""Tag, then act (as in mutt and aerc): `space` marks rows, and close, tags, release and transfer then apply
to every marked conversation at once. `esc` clears the marks."""

from __future__ import annotations

from ..core.model import EMAIL_LIKE, Channel, Conversation


class BulkActions:
    """Mixed into `WorkspaceScreen`: the set of marked rows and what acts on them."""

    def action_mark(self) -> None:
        cid = self.queue.cursor_id
        if cid is None:
            return
        if cid in self.marked:
            self.marked.discard(cid)
        else:
            self.marked.add(cid)
        self.queue.refresh()
        self.queue.move(1)
        self.refresh_chrome()

    def clear_marks(self) -> bool:
        if not self.marked:
            return False
        self.marked.clear()
        self.queue.refresh()
        self.refresh_chrome()
        return True

    def _targets(self) -> list[Conversation]:
        """The marked conversations if any (then the marks are spent), else the one the agent is on."""
        store = self.main.store
        if self.marked:
            chosen = [store.conversations[cid] for cid in sorted(self.marked) if cid in store.conversations]
            self.clear_marks()
            return chosen
        conversation = self._target()
        return [conversation] if conversation is not None else []

    def _bulk_close(self) -> None:
        """Closing many at once is for written channels (a call or chat is wrapped up one by one)."""
        from ...backends.base import SetStatus
        from ..core.model import State

        targets = self._targets()
        closable = [
            c
            for c in targets
            if (c.channel in EMAIL_LIKE or c.channel is Channel.CALLBACK) and not c.is_closed
        ]
        for conversation in closable:
            final = State.SOLVED if conversation.channel in EMAIL_LIKE else State.DONE
            self._send(SetStatus(conversation_id=conversation.id, state=final), undo=True)
        skipped = len(targets) - len(closable)
        note = f" ({skipped} live or closed left as they were)" if skipped else ""
        self.notify(f"Solving {len(closable)} conversation(s){note}")
