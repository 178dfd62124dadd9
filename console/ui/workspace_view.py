"""What the workspace's parts may ask of the screen they work in: one typed protocol.

The agent's actions are handled by parts that each own one kind of work: composing.py, taking_work.py,
call_controls.py, closing_flow.py, conversation_edits.py, marked_rows.py, finding.py, filtering.py and
detail_pane.py. They are plain objects composed by `WorkspaceScreen`, not mixins of it: each one is written
against this protocol and against the siblings it is given, so that what a part uses of the screen is written
down here, and a part can be tested on a small view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.timer import Timer

    from ...backends.base import Command, CommandKind
    from ...widgets.composer import Composer
    from ...widgets.queue_list import QueueList
    from ...widgets.transcript import Transcript
    from ..core.model import Conversation
    from ..core.views import ViewSet
    from .host import ConsoleHost


class WorkspaceView(Protocol):
    """The workspace screen as its parts see it."""

    open_id: str | None  # the conversation shown in the detail pane
    views: ViewSet
    current: str  # the name of the view shown

    @property
    def main(self) -> ConsoleHost: ...

    @property
    def queue(self) -> QueueList: ...

    @property
    def composer(self) -> Composer: ...

    @property
    def transcript(self) -> Transcript: ...

    # ---- what an action applies to
    def target(self) -> Conversation | None:
        """The conversation the agent sees highlighted (or open): what a key acts on."""
        ...

    def current_conversation(self) -> Conversation | None: ...

    # ---- showing
    def open_conversation(self, cid: str) -> None: ...

    def show_detail(self) -> None:
        """The detail pane in front (on a narrow screen it covers the list)."""
        ...

    def hide_detail(self) -> None: ...

    def show_call_panel(self, shown: bool) -> None:
        """The call panel in the detail (a call or a callback is open), or not."""
        ...

    def query(self, selector: Any) -> Any: ...

    def query_one(self, selector: Any, expect_type: Any = None) -> Any: ...

    def show_taken(self, conversation_id: str) -> None: ...

    def show_view(self, name: str) -> None: ...

    def back(self) -> None: ...

    def refresh_chrome(self) -> None: ...

    def show_composing(self, composing: bool) -> None:
        """The composer opened or closed: the detail makes room for it, or gives it back."""
        ...

    # ---- commands
    def send(self, command: Command, *, undo: bool = False, done: str = "") -> None: ...

    def guard(self, conversation: Conversation, kind: CommandKind) -> bool:
        """Whether the conversation's backend can do `kind`; says so when it cannot."""
        ...

    # ---- dialogs, notices, time
    def ask(self, dialog: Screen[Any], answered: Callable[[Any], object]) -> None:
        """Push a dialog now (not a frame later: keys typed ahead reach it) and call `answered` with its result."""
        ...

    def notify(
        self, message: str, *, severity: Any = "information", timeout: float | None = None
    ) -> None: ...

    def run_worker(self, work: Any, *, group: str = "default", exclusive: bool = False) -> Any: ...

    def set_timer(self, delay: float, callback: Callable[[], object]) -> Timer: ...


__all__ = ["WorkspaceView"]
