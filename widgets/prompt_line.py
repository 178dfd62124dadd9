"""The bottom prompt: `/` filters the list as you type, `:` runs a command with completion.

It is always on screen (showing the active filter, or a hint) so that opening it moves focus only: showing
and hiding a line relaid the whole screen out on every `/`.

Enter and esc are answered at once, by a call, not by a message: the key typed right after them (`r` after
`/Emma` enter) must find the filter applied and the focus back on the list, not still in the prompt.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import Reactive
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

# (mode, the text typed, or None when cancelled with esc)
PromptDone = Callable[[str, "str | None"], None]


class PromptCandidates(Static):
    """The `:` line's matching commands, above it: the completion is one of several, and tab cycles them."""

    DEFAULT_CSS = """
    PromptCandidates { height: 1; padding: 0 1; background: $panel; color: $foreground 60%; display: none; }
    PromptCandidates.-shown { display: block; }
    """

    def show(self, candidates: list[str], chosen: int | None) -> None:
        self.set_class(len(candidates) > 1, "-shown")
        if len(candidates) <= 1:
            return
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append(f"{len(candidates)} matches · tab cycles:  ")
        # Start a little before the chosen one, so that cycling never hides it past the right edge.
        first = max(0, (chosen or 0) - 2)
        if first:
            line.append("‹ ")
        for index in range(first, len(candidates)):
            line.append(candidates[index], "bold reverse" if index == chosen else "bold")
            line.append("  ")
        self.update(line)


class PromptLine(Input):
    DEFAULT_CSS = """
    PromptLine { height: 1; border: none; padding: 0 1; background: $panel; color: $foreground 70%; }
    /* Open means focused: a class of its own restyled the line a second time on every `/` and esc. */
    PromptLine:focus { height: 1; border: none; padding: 0 1; background: $boost; color: $foreground; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
        Binding("tab", "complete", "Complete", id="prompt.complete"),
    ]

    # Input sets its virtual size (the text's width) on every letter, and Textual's own declaration lays
    # the whole screen out again for it: 3-7 ms of each letter typed at 160×45. The line's size is fixed
    # (one row, the screen's width); its text scrolls within it, which needs a repaint only.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    mode = "idle"  # idle | filter | command
    HINT = "/ filter · : command · ? keys"

    def __init__(self, on_done: PromptDone, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.on_done = on_done
        self._completions: list[str] = []
        # While tab cycles: what was typed before the first tab, and the candidate shown now.
        self._cycle: tuple[str, int] | None = None

    def open(self, mode: str, value: str = "", completions: list[str] | None = None) -> None:
        self.mode = mode
        self.suggester = SuggestFromList(completions or [], case_sensitive=False) if completions else None
        self._completions = completions or []
        self._cycle = None
        self.placeholder = (
            "filter: words, or lang:de channel:chat state:ringing tag:refund owner:me prio:high sla:breached"
            if mode == "filter"
            else "command (tab completes): view phone · theme light · presence away lunch · tag refund ..."
        )
        self.value = value
        self.cursor_position = len(value)
        self.screen.set_focus(self)

    def on_mount(self) -> None:
        self.placeholder = self.HINT

    def close(self, *, clear: bool = False) -> None:
        """Back to idle; the filter's text stays shown (it is still applied) unless `clear`."""
        was = self.mode
        self.mode = "idle"  # from here on, changes to the value are not typing
        if clear or was == "command":
            self.value = ""
        self.placeholder = self.HINT
        self._completions = []
        self._show_candidates([], None)

    def action_cancel(self) -> None:
        self.on_done(self.mode, None)

    async def action_submit(self) -> None:
        self.on_done(self.mode, self.value)

    def candidates(self, typed: str) -> list[str]:
        """The completions that start with what is typed (a hundred or so: a scan per key is nothing)."""
        folded = typed.casefold()
        return [c for c in self._completions if c.casefold().startswith(folded)] if typed else []

    def _show_candidates(self, candidates: list[str], chosen: int | None) -> None:
        for line in self.screen.query(PromptCandidates) if self.is_mounted else ():
            line.show(candidates, chosen)

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.mode != "command":
            return
        if self._cycle is not None:
            typed, index = self._cycle
            options = self.candidates(typed)
            if 0 <= index < len(options) and options[index] == self.value:
                self._show_candidates(options, index)  # the tab's own change: keep cycling
                return
            self._cycle = None
        self._show_candidates(self.candidates(self.value), None)

    async def action_complete(self) -> None:
        if self.mode == "command" and self._completions:
            # Several commands match: tab puts the first, tab again the next (the line above lists them).
            typed, index = self._cycle if self._cycle is not None else (self.value, -1)
            options = self.candidates(typed)
            if len(options) > 1:
                index = (index + 1) % len(options)
                self._cycle = (typed, index)
                self.value = options[index]
                self.cursor_position = len(self.value)
                self._show_candidates(options, index)
                return
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
