"""Tag, then act (as in mutt and aerc): `space` marks rows, and close, tags, release and transfer then apply
to every marked conversation at once. `esc` clears the marks. The marked set itself is the queue list's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.closing import bulk_close

if TYPE_CHECKING:
    from ..core.model import Conversation
    from .workspace_view import WorkspaceView


class MarkedRows:
    """What acts on the marked rows, and which conversations an action that takes marks applies to."""

    def __init__(self, view: WorkspaceView) -> None:
        self.view = view

    @property
    def any(self) -> bool:
        return bool(self.view.queue.mark_count)

    def mark(self) -> None:
        queue = self.view.queue
        cid = queue.cursor_id
        if cid is None:
            return
        queue.toggle_mark(cid)
        queue.move(1)
        self.view.refresh_chrome()  # now, not when the message comes: the count shows with the mark

    def clear(self) -> bool:
        if not self.view.queue.clear_marks():
            return False
        self.view.refresh_chrome()
        return True

    def targets(self) -> list[Conversation]:
        """The marked conversations if any (then the marks are spent), else the one the agent is on."""
        view = self.view
        conversations = view.main.store.conversations
        if view.queue.mark_count:
            chosen = [conversations[cid] for cid in view.queue.take_marks() if cid in conversations]
            view.refresh_chrome()
            return chosen
        conversation = view.target()
        return [conversation] if conversation is not None else []

    def close(self) -> None:
        """Closing many at once is for written channels (a call or chat is wrapped up one by one)."""
        plan = bulk_close(self.targets())
        for command in plan.commands:
            self.view.send(command, undo=True)
        note = f" ({plan.left} live or closed left as they were)" if plan.left else ""
        self.view.notify(f"Solving {plan.closed} conversation(s){note}")
