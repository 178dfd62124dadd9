"""`?`: the keys active where you are, grouped, with their binding ids (what `[keys]` in the config remaps)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from .actions import BY_ID, GROUPS

FILTER_HELP = (
    "Filter (/): words match customer, subject, tag or id; fields: lang:de channel:chat state:ringing|snoozed "
    "tag:refund queue:orders owner:me|none|NAME prio:high sla:warning|breached customer:NAME"
)
NARROW = 70  # terminal columns below which the help table has two columns, not three


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100; max-width: 98%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close", id="help.close")]

    def __init__(self, active: list[tuple[str, str, str, bool]], unsupported: set[str]) -> None:
        """`active`: (key display, action id, description, enabled) of the bindings active where `?` was hit."""
        super().__init__()
        self.active = active
        self.unsupported = unsupported
        self._built_narrow = False

    def _narrow(self) -> bool:
        return self.app.size.width < NARROW

    def on_resize(self) -> None:
        if self._narrow() != self._built_narrow:
            self.refresh(recompose=True)

    def compose(self) -> ComposeResult:
        # Narrow (40 columns): the three columns left no room for "Does" at all (Rich drops a column it
        # cannot fit). There, the binding id goes under what the key does, dimmed, in two columns.
        narrow = self._built_narrow = self._narrow()
        key_width = min(12, max((len(row[0]) for row in self.active), default=3))
        table = Table(box=None, expand=True, show_header=True, header_style="bold")
        table.add_column("Key", style="bold", no_wrap=True, min_width=key_width)
        table.add_column("Does" if not narrow else Text("Does · binding id (remap in [keys])"), ratio=1)
        if not narrow:
            table.add_column(Text("Binding id (remap in [keys])"), style="dim", no_wrap=True)
        by_group: dict[str, list[tuple[str, str, str, bool]]] = {}
        for row in self.active:
            group = BY_ID[row[1]].group if row[1] in BY_ID else "Here"
            by_group.setdefault(group, []).append(row)
        for group in (*GROUPS, "Here"):
            rows = by_group.get(group)
            if not rows:
                continue
            table.add_row(Text(group, style="bold underline"), *([""] if narrow else ["", ""]))
            for key, binding_id, description, enabled in rows:
                note = ""
                if binding_id in self.unsupported:
                    note = "  (not supported by this backend)"
                elif not enabled:
                    note = "  (not available here)"
                # Keys and binding ids come from the user's config ([keys]): a "[" in them is text, not markup.
                does = Text(description + note, style="" if enabled else "dim")
                if narrow:
                    table.add_row(Text(key), does + Text("\n" + binding_id, style="dim"))
                else:
                    table.add_row(Text(key), does, Text(binding_id))
        with VerticalScroll():
            yield Static(Text("Keys active here — esc closes", style="bold"))
            yield Static(table)
            yield Static(Text(FILTER_HELP, style="italic"))


def describe(binding: Binding) -> str:
    return binding.description or binding.action
