"""What the agent's screens may ask of the App that hosts them: one typed protocol, not the concrete App.

The workspace screen, the outbox screen and push offers are written against `ConsoleHost`, so that the App
imports its screens and no screen imports the App (no import cycle, and a screen can be tested on a host
that has only these members). `StandardisteApp` (app.py) is the one implementation.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ...backends.base import Command
    from ..core.config import Config
    from ..core.draft_keeper import DraftKeeper
    from ..core.hub import Hub
    from ..core.model import Conversation
    from ..core.outbox import Outbox, OutboxEntry
    from ..core.store import Changes, Store
    from .plain_ui import Said


class ConsoleHost(Protocol):
    """The App's side of the conversation with its screens."""

    config: Config
    clock: Callable[[], float]
    store: Store
    hub: Hub
    hub_ready: bool
    me: str
    outbox: Outbox | None
    draft_keeper: DraftKeeper
    said: deque[Said]  # the notices so far, newest last (plain_ui.py)

    # ---- commands
    def take_in(self, conversation: Conversation) -> None: ...

    def send(self, command: Command, *, undo: bool = False, done: str = "") -> None: ...

    def send_composed(
        self, conversation_id: str, outgoing: Any, command: Command, *, undo: bool, done: str
    ) -> None: ...

    def workspace_of(self, command: Command) -> str: ...

    def undo_last(self) -> None: ...

    async def take_back_for_editing(self, entry: OutboxEntry) -> bool: ...

    # ---- drafts and editing
    def load_draft(self, conversation_id: str) -> Any: ...

    def save_draft(self, conversation_id: str, outgoing: Any) -> None: ...

    def edit_externally(self, text: str) -> str | None: ...

    # ---- keys, commands, look
    def hold_keys(self) -> Callable[[], None]: ...

    def command_completions(self) -> list[str]: ...

    def set_theme_named(self, name: str) -> None: ...

    def macros(self) -> Any: ...

    async def action_quit(self) -> None: ...

    # ---- what every Textual App has, used by helpers that are not screens (push offers)
    @property
    def screen_stack(self) -> list[Any]: ...

    def bell(self) -> None: ...

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None: ...

    def run_worker(self, work: Any, *args: Any, **kwargs: Any) -> Any: ...


@runtime_checkable
class StoreListener(Protocol):
    """A screen above the workspace that redraws when the store changes (the outbox, the wallboard)."""

    def store_changed(self, changes: Changes) -> None: ...


@runtime_checkable
class Ticking(Protocol):
    """A screen above the workspace whose clocks move once a second."""

    def tick(self) -> None: ...


__all__ = ["ConsoleHost", "StoreListener", "Ticking"]
