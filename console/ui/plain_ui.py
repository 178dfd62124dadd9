"""The one way text reaches Textual's screen: plain `Text`, never markup.

Textual parses a `str` given to `notify`, `Label`, `Static`, `Option` or a widget's `update` as content markup.
A customer named `Ann [/bold] Smith` then crashes the console with a MarkupError, `[link='http://…']` puts a live
hyperlink on the agent's screen and `[@click=app.quit]` becomes a clickable action. Console messages are built
from backend text (names, subjects, errors, queue names) all the time, so no message is trusted to be literal:

- `PlainNotify` makes every toast of an app plain text, sanitised, whatever the caller passes;
- `safe_text()` (console/core/sanitize.py) turns any string into a sanitised `Text` for widgets and dialog labels.

`tests/unit/test_markup_lint.py` fails when a string built from non-literal values is handed to a markup-parsing API.
"""

from __future__ import annotations

from textual.app import App
from textual.notifications import SeverityLevel

from ..core.sanitize import sanitize


class PlainNotify(App[None]):
    """Mixed into the console's apps: toasts never parse markup (widgets and screens call the app's notify)."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        del markup  # refused on purpose: a message is built from outside text too often to be trusted
        super().notify(
            sanitize(str(message)),
            title=sanitize(str(title), single_line=True),
            severity=severity,
            timeout=timeout,
            markup=False,
        )
