"""Customer text as a Rich `Text`, sanitised and never parsed as markup: what every widget draws it with."""

from __future__ import annotations

from rich.text import Text

from ..console.core.sanitize import sanitize


def safe_text(text: str, style: str = "", *, single_line: bool = False) -> Text:
    """A Rich `Text` of sanitised customer text: never parsed as markup."""
    return Text(sanitize(text, single_line=single_line), style=style, end="")
