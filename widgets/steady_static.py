"""Statics that repaint only when what they show changed, and never ask for a layout they cannot need.

`Static.update` asks the screen for a layout pass by default: at 160×45 that is a reflow of every widget,
several milliseconds, on each key that moves the cursor (the view bar shows the position). A line of fixed
height cannot change size, and text equal to what is shown needs no repaint at all.
"""

from __future__ import annotations

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static


class SteadyStatic(Static):
    """Skips an `update` with the same text; asks for a layout pass only when the content's height changed
    (a detail header or a customer card of `height: auto` showing another conversation of as many lines)."""

    fixed_height = False  # True in subclasses whose CSS gives them a height that does not follow content

    _shown: Text | None = None

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        if isinstance(content, Text):
            if self._shown is not None and content == self._shown and content.style == self._shown.style:
                return
            self._shown = content.copy()
        else:
            self._shown = None
        if not layout or self.fixed_height:
            super().update(content, layout=False)
            return
        width = self.content_region.width
        before = self._content_height(width) if self.is_mounted and width else None
        super().update(content, layout=False)
        if before is None or self._content_height(width) != before:
            self.refresh(layout=True)  # its height follows its content, which now has another height

    def _content_height(self, width: int) -> int:
        return self.get_content_height(self.content_region.size, self.app.size, width)


class SteadyLine(SteadyStatic):
    """One line of fixed height (a status line, a tab bar): never a layout pass."""

    fixed_height = True
