"""Filtering the list as the agent types (`/`): each view keeps its own filter; at 100k rows a burst of keys
runs one pass, and enter applies what was typed at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.views import Filter

if TYPE_CHECKING:
    from textual.timer import Timer

    from .workspace_view import WorkspaceView

# Below this many conversations a filter pass is quick enough to run on every key.
_EVERY_KEY = 20_000
_DEBOUNCE = 0.12  # seconds: one pass costs ~0.1 s at 100k


class Filtering:
    def __init__(self, view: WorkspaceView) -> None:
        self.view = view
        self._timer: Timer | None = None

    def typed(self, text: str) -> None:
        """As you type: at 100k rows one filter pass costs ~0.1 s, so a burst of keys runs it once."""
        if self._timer is not None:
            self._timer.stop()
        if len(self.view.main.store.conversations) < _EVERY_KEY:
            self.apply(text)
        else:
            self._timer = self.view.set_timer(_DEBOUNCE, lambda: self.apply(text))

    def done(self, value: str | None) -> None:
        """Enter (`value`) or esc (None) in the filter prompt."""
        view = self.view
        if self._timer is not None:
            self._timer.stop()
        # The text as typed, now: a debounced pass still waiting must not leave the old rows highlighted.
        self.apply(value or "")
        if value is not None:
            view.hide_detail()  # on a narrow screen: the filtered list, not the old detail
            errors = view.views[view.current].filter.errors
            if errors:
                fields = "fields: " + ", ".join(Filter.FIELDS)
                view.notify(f"Filter: {'; '.join(errors)} ({fields})", severity="warning", timeout=6)

    def apply(self, text: str) -> None:
        view = self.view
        shown = view.views[view.current]
        if text == shown.filter.text:
            return  # opening or closing the prompt must not re-sort 100k rows
        # Its errors show in the view bar as it is typed, and in a toast on enter (a toast per key was noise).
        shown.set_filter(text, view.main.store.conversations.values(), view.main.clock())
        view.queue.set_view(shown)
        view.refresh_chrome()
