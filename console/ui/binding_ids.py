"""Every binding id the console declares, for the `[keys]` check of core/config_keys.py: Textual bindings
live on the screens and widgets, so listing them imports those modules (and only the UI may)."""

from __future__ import annotations

import importlib

from textual.binding import Binding

# Every module that declares bindings of its own (besides console/ui/actions.py): imported for their ids only.
_BINDING_MODULES = (
    "standardiste.console.ui.app",
    "standardiste.console.ui.workspace_screen",
    "standardiste.console.ui.outbox_screen",
    "standardiste.console.ui.help_screen",
    "standardiste.console.ui.quitting",
    "standardiste.console.ui.wallboard.screen",
    "standardiste.console.ui.dialogs",
    "standardiste.console.ui.macro_picker",
    "standardiste.console.ui.search_screen",
    "standardiste.console.ui.timeline_screen",
    "standardiste.widgets.composer",
    "standardiste.widgets.prompt_line",
)


def binding_ids() -> set[str]:
    """Every binding id the console declares: what `[keys]` may remap."""
    from .actions import ACTIONS

    ids = {action.id for action in ACTIONS}
    for name in _BINDING_MODULES:
        module = importlib.import_module(name)
        classes = [value for value in vars(module).values() if isinstance(value, type)]
        for cls in classes:
            for binding in getattr(cls, "BINDINGS", None) or ():
                if isinstance(binding, Binding) and binding.id:
                    ids.add(binding.id)
    return ids
