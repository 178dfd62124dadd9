"""`:messages`: the console's recent notices again, newest first (as vim's `:messages`). A toast lasts seconds;
"could not send" or "the offer expired" may be the one the agent was looking away for."""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from .plain_ui import Said

STYLE = {"information": "", "warning": "yellow", "error": "bold red"}


class MessagesScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    MessagesScreen { align: center middle; }
    MessagesScreen > VerticalScroll {
        width: 100; max-width: 98%; height: 80%; border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Close", id="messages.close")]

    def __init__(self, said: Iterable[Said]) -> None:
        super().__init__()
        self.items = list(said)[::-1]

    def compose(self) -> ComposeResult:
        table = Table(box=None, expand=True, show_header=False)
        table.add_column("At", no_wrap=True, style="dim")
        table.add_column("Message", ratio=1)
        for item in self.items:
            text = Text(f"{item.title}: " if item.title else "", style="bold")
            text.append(item.message, style=STYLE.get(item.severity, ""))
            table.add_row(time.strftime("%H:%M:%S", time.localtime(item.at)), text)
        with VerticalScroll():
            yield Static(Text("Messages, newest first (esc closes)", style="bold"))
            yield Static(table if self.items else Text("Nothing said yet."))
