"""The line above the queue: the cursor's position, the views' tabs with their counts, the filter and its
errors, and how many rows are marked. Fixed height: it never asks for a layout (it moves with every key)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

from ..console.core.views import VIEW_SCOPES, ViewSet
from .steady_static import SteadyLine
from .view_tabs import Tab, fit_tabs


class ViewBar(SteadyLine):
    DEFAULT_CSS = """
    ViewBar { height: 1; background: $boost; padding: 0 1; }
    """

    def show(self, views: ViewSet, current: str, cursor: int, marks: int) -> None:
        view = views[current]
        more = "+" if view.partial else ""  # the rest of a snapshot is still being read
        position = f"{cursor + 1}/{len(view)}{more} │  " if len(view) else f"0/0{more} │  "
        # The filter is the agent's typing, its errors are ours: plain text, never markup.
        flt = f"   / {view.filter.text}" if view.filter.text else ""
        if view.filter.errors:
            flt += "  ⚠ " + "; ".join(view.filter.errors)
        if marks:
            flt += f"   * {marks} marked"
        tabs = [
            Tab(str(index), title, len(views[name]), name == current, views[name].partial)
            for index, (name, (title, _)) in enumerate(VIEW_SCOPES.items(), start=1)
        ]
        # The filter may be cut (ellipsis), the active view never: the tabs get what the position leaves,
        # less a little of the filter so that one is seen.
        room = (self.content_region.width or 200) - cell_len(position) - min(cell_len(flt), 12)
        line = position + fit_tabs(tabs, max(10, room)) + flt
        self.update(Text(line, no_wrap=True, overflow="ellipsis"))
