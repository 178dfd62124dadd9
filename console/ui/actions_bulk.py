"""Tag, then act (as in mutt and aerc): `space` marks rows, and close, tags, release and transfer then apply
to every marked conversation at once. `esc` clears the marks."""

from __future__ import annotations

from ...widgets.queue_list import QueueList
from ..core.closing import bulk_close
from ..core.model import Conversation


class BulkActions:
    """Mixed into `WorkspaceScreen`: the set of marked rows and what acts on them."""

    def action_mark(self) -> None:
        cid = self.queue.cursor_id
        if cid is None:
            return
        self.queue.toggle_mark(cid)
        self.queue.move(1)
        self.refresh_chrome()  # now, not when the message comes: the count shows with the mark

    def clear_marks(self) -> bool:
        if not self.queue.clear_marks():
            return False
        self.refresh_chrome()
        return True

    def on_queue_list_marks_changed(self, message: QueueList.MarksChanged) -> None:
        self.refresh_chrome()

    def _targets(self) -> list[Conversation]:
        """The marked conversations if any (then the marks are spent), else the one the agent is on."""
        store = self.main.store
        if self.queue.mark_count:
            chosen = [store.conversations[cid] for cid in self.queue.take_marks() if cid in store.conversations]
            self.refresh_chrome()
            return chosen
        conversation = self._target()
        return [conversation] if conversation is not None else []

    def _bulk_close(self) -> None:
        """Closing many at once is for written channels (a call or chat is wrapped up one by one)."""
        plan = bulk_close(self._targets())
        for command in plan.commands:
            self._send(command, undo=True)
        note = f" ({plan.left} live or closed left as they were)" if plan.left else ""
        self.notify(f"Solving {plan.closed} conversation(s){note}")
