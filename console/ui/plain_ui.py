"""The one way text reaches Textual's screen: plain `Text`, never markup.

Textual parses a `str` given to `notify`, `Label`, `Static`, `Option` or a widget's `update` as content markup.
A customer named `Ann [/bold] Smith` then crashes the console with a MarkupError, `[link='http://…']` puts a live
hyperlink on the agent's screen and `[@click=app.quit]` becomes a clickable action. Console messages are built
from backend text (names, subjects, errors, queue names) all the time, so no message is trusted to be literal:

- `PlainNotify` makes every toast of an app plain text, sanitised, whatever the caller passes;
- `safe_text()` (widgets/safe_text.py) turns any string into a sanitised `Text` for widgets and dialog labels.

`tests/unit/test_markup_lint.py` fails when a string built from non-literal values is handed to a markup-parsing API.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from textual.app import App
from textual.notifications import SeverityLevel

from ..core.sanitize import sanitize

# Toasts kept for `:messages`: a toast lasts seconds, and the one an agent missed may be the one that mattered.
SAID_KEPT = 200


@dataclass(frozen=True, slots=True)
class Said:
    at: float
    severity: SeverityLevel
    title: str
    message: str


class PlainNotify(App[None]):
    """Mixed into the console's apps: toasts never parse markup (widgets and screens call the app's notify),
    and each one is kept in `said`, newest last."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.said: deque[Said] = deque(maxlen=SAID_KEPT)

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
        text, heading = sanitize(str(message)), sanitize(str(title), single_line=True)
        self.said.append(Said(time.time(), severity, heading, text))
        super().notify(text, title=heading, severity=severity, timeout=timeout, markup=False)
