"""The bottom line of key hints: what the main keys do where you are.

Textual's `Footer` rebuilds a widget per key each time the focus moves, which costs tens of milliseconds on
every `/`, `r` or `esc` (measured under a flood of events); this line is one `Static` redrawn from the
screen's active bindings, debounced to once a frame, and never a layout pass: a full reflow and repaint of
the screen on each `/` and `esc` was most of their cost.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widget import Widget

from .steady_static import SteadyLine


def keys_in_force(node: Widget, names: Iterable[str]) -> dict[str, str]:
    """For each action name or binding id, how the key bound to it now is written (`H`, `^s`), from the
    bindings in force on the node's screen: a key the user remapped in `[keys]` shows as remapped, and an
    action bound nowhere or disabled here is left out, so a hint never names a key that does nothing."""
    wanted = set(names)
    found: dict[str, str] = {}
    for active in node.screen.active_bindings.values():
        binding = active.binding
        if not active.enabled:
            continue
        for name in (binding.id, binding.action):
            if name in wanted and name not in found:
                found[name] = node.app.get_key_display(binding)
    return found


class KeyHints(SteadyLine):
    """A line of fixed height: redrawn without a layout pass, and not at all when the hints did not change."""

    DEFAULT_CSS = """
    KeyHints { dock: bottom; height: 1; background: $panel; color: $foreground 80%; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._scheduled = False
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: object) -> None:
        if not self._scheduled:
            self._scheduled = True
            self.call_after_refresh(self._draw)

    def _draw(self) -> None:
        self._scheduled = False
        text = Text(no_wrap=True, overflow="ellipsis")
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            key_id = binding.id or binding.action
            if not binding.show or not active.enabled or key_id in seen:
                continue
            seen.add(key_id)
            text.append(f" {self.app.get_key_display(binding)} ", style="bold reverse")
            text.append(f" {binding.description}  ")
        text.append(" ^p palette ", style="dim")
        self.update(text)
