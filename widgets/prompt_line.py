"""The bottom prompt: `/` filters the list as you type, `:` runs a command with completion.

It is always on screen (showing the active filter, or a hint) so that opening it moves focus only: showing
and hiding a line relaid the whole screen out on every `/`.

Enter and esc are answered at once, by a call, not by a message: the key typed right after them (`r` after
`/Emma` enter) must find the filter applied and the focus back on the list, not still in the prompt.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.suggester import SuggestFromList
from textual.widgets import Input

# (mode, the text typed, or None when cancelled with esc)
PromptDone = Callable[[str, "str | None"], None]


class PromptLine(Input):
    DEFAULT_CSS = """
    PromptLine, PromptLine:focus { height: 1; border: none; padding: 0 1; background: $panel; color: $foreground 70%; }
    PromptLine.-open { background: $boost; color: $foreground; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
        Binding("tab", "complete", "Complete", id="prompt.complete"),
    ]

    mode = "idle"  # idle | filter | command
    HINT = "/ filter · : command · ? keys"

    def __init__(self, on_done: PromptDone, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.on_done = on_done

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
        self.screen.set_focus(self)

    def on_mount(self) -> None:
        self.placeholder = self.HINT

    def close(self, *, clear: bool = False) -> None:
        """Back to idle; the filter's text stays shown (it is still applied) unless `clear`."""
        was = self.mode
        self.mode = "idle"  # from here on, changes to the value are not typing
        self.remove_class("-open")
        if clear or was == "command":
            self.value = ""
        self.placeholder = self.HINT

    def action_cancel(self) -> None:
        self.on_done(self.mode, None)

    async def action_submit(self) -> None:
        self.on_done(self.mode, self.value)

    async def action_complete(self) -> None:
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
