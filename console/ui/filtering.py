"""Filtering the list as the agent types (`/`): each view keeps its own filter.

Below 20k conversations a pass is quick and runs on every key. Above, it waits for a pause in the typing
and then runs in slices (`FilterPass`) between which the keys typed meanwhile are answered: the letters
echo at once and the list follows when the pass is done. Enter applies what was typed exactly before the
keys typed after it are read (they act on the filtered list the agent then sees)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from ..core.views import Filter, FilterPass
from .terminal_keys import KEYS_READ

if TYPE_CHECKING:
    from textual.timer import Timer

    from ..core.store import Changes
    from .workspace_view import WorkspaceView

# Below this many conversations a filter pass is quick enough to run on every key.
_EVERY_KEY = 20_000
_DEBOUNCE = 0.12  # seconds without a key before a pass starts
_SLICE_SECONDS = 0.002  # of judging rows between two looks at the keys: a key's messages wait a slice per hop
_KEY_GRACE = 0.02  # seconds after a key is read during which a pass makes no step


class Filtering:
    def __init__(self, view: WorkspaceView) -> None:
        self.view = view
        self._timer: Timer | None = None
        self._pass: FilterPass | None = None
        self._pass_view = ""  # the view the pass is for (the agent may switch views meanwhile)

    # ------------------------------------------------------------------------------------------ typing

    def typed(self, text: str) -> None:
        if self._timer is not None:
            self._timer.stop()
        if len(self.view.main.store.conversations) < _EVERY_KEY:
            self.apply(text)
        else:
            self._cancel()  # what it was computing is not what is typed any more
            self._timer = self.view.set_timer(_DEBOUNCE, lambda: self._start(text))

    def done(self, value: str | None) -> None:
        """Enter (`value`) or esc (None) in the filter prompt."""
        view = self.view
        if self._timer is not None:
            self._timer.stop()
        text = value or ""
        running = self._pass
        if running is not None and running.text == text and self._pass_view == view.current:
            # The pass for this text is under way: the keys after enter wait until it is installed.
            self._install(running)
        else:
            self._cancel()
            self.apply(text)
        if value is not None:
            view.hide_detail()  # on a narrow screen: the filtered list, not the old detail
            errors = view.views[view.current].filter.errors
            if errors:
                fields = "fields: " + ", ".join(Filter.FIELDS)
                view.notify(f"Filter: {'; '.join(errors)} ({fields})", severity="warning", timeout=6)

    def apply(self, text: str) -> None:
        """The filter `text` on the current view, now, in one pass."""
        view = self.view
        shown = view.views[view.current]
        if self._pass is not None and self._pass_view == view.current:
            self._cancel()
        if text == shown.filter.text:
            return  # opening or closing the prompt must not re-sort 100k rows
        # Its errors show in the view bar as it is typed, and in a toast on enter (a toast per key was noise).
        shown.set_filter(text, view.main.store.conversations.values(), view.main.clock())
        view.queue.set_view(shown)
        view.refresh_chrome()

    def store_changed(self, changes: Changes) -> None:
        """Conversations changed while a pass runs: judged again when it is installed. After a new
        snapshot every row may have changed: the pass starts again over the new rows. (Every batch of a
        flood comes here: nothing is done unless a pass runs.)"""
        running = self._pass
        if running is None:
            return
        if changes.reloaded:
            self._start(running.text, self._pass_view)
        else:
            running.changed |= changes.conversations
            running.changed |= changes.removed

    # ------------------------------------------------------------------------------------------ passes

    def _start(self, text: str, name: str | None = None) -> None:
        """A pass for `text` over the view `name` (the current one unless told)."""
        view = self.view
        name = name or view.current
        shown = view.views[name]
        self._cancel()
        if text == shown.filter.text:
            return
        running = shown.filter_pass(text, view.main.store.conversations.values(), view.main.clock())
        self._pass, self._pass_view = running, name
        view.run_worker(self._run(running), group="filter-pass", exclusive=True)

    async def _run(self, running: FilterPass) -> None:
        step = 2_000
        while self._pass is running and not running.done:
            if KEYS_READ.within(_KEY_GRACE):
                # A key on its way (most likely one more letter, which cancels this pass): let it by.
                await asyncio.sleep(_KEY_GRACE / 4)
                continue
            started = time.perf_counter()
            running.step(step)
            spent = time.perf_counter() - started
            # As many rows as fit in a slice on this machine, measured as it goes.
            step = max(200, min(20_000, int(step * _SLICE_SECONDS / max(spent, 1e-4))))
            await asyncio.sleep(0)
        if self._pass is running:
            self._install(running)

    def _install(self, running: FilterPass) -> None:
        view = self.view
        self._pass = None
        shown = view.views[self._pass_view]
        running.install(view.main.store.conversations)
        if self._pass_view == view.current:
            view.queue.set_view(shown)
        view.refresh_chrome()

    def _cancel(self) -> None:
        self._pass = None  # its worker sees it is no longer the pass and stops


__all__ = ["Filtering"]
