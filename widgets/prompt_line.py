"""The bottom prompt: `/` filters the list as you type, `:` runs a command with completion."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.widgets import Input


class PromptLine(Input):
    DEFAULT_CSS = """
    PromptLine, PromptLine:focus { height: 1; border: none; padding: 0 1; display: none; background: $panel; }
    PromptLine.-open { display: block; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
        Binding("tab", "complete", "Complete", id="prompt.complete"),
    ]

    mode = "filter"

    class Cancelled(Message):
        def __init__(self, mode: str) -> None:
            super().__init__()
            self.mode = mode

    def open(self, mode: str, value: str = "", completions: list[str] | None = None) -> None:
        self.mode = mode
        self.suggester = SuggestFromList(completions or [], case_sensitive=False) if completions else None
        self.placeholder = (
            "filter: words, or lang:de channel:chat state:ringing tag:refund owner:me prio:high sla:breached"
            if mode == "filter"
            else "command (tab completes): view phone · theme light · presence away lunch · tag refund ..."
        )
        self.value = value
        self.cursor_position = len(value)
        self.add_class("-open")
        self.focus()

    def close(self) -> None:
        self.remove_class("-open")

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled(self.mode))

    async def action_complete(self) -> None:
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
