"""Word wrap measured in terminal cells, not characters: a Chinese character or an emoji takes two columns,
so `textwrap` (which counts characters) makes lines that run past the pane and get cut.

Lines break at spaces where they can and inside a word where a word alone is wider than the line (Chinese
and Japanese have no spaces; a URL may be long), never inside a grapheme (an emoji with a skin tone or a
ZWJ family stays whole). Nothing is dropped but the spaces a break replaces.
"""

from __future__ import annotations

import re

from rich.cells import cell_len, chop_cells

_TOKENS = re.compile(r"\S+|\s+")
# `> `, `>> `, `> > ` at the start of a quoted email line: repeated on each line the quote wraps onto.
_QUOTE_MARKER = re.compile(r"^\s*(?:>\s?)+")


def wrap_cells(text: str, width: int) -> list[str]:
    """`text` (one paragraph) as lines of at most `width` cells; an empty text is one empty line."""
    width = max(1, width)
    text = text.expandtabs(4)  # a tab's width depends on the column it lands in: spaces have one
    lines: list[str] = []
    line, used = "", 0  # the line being filled and its width in cells
    space = ""
    for token in _TOKENS.findall(text):
        cells = cell_len(token)
        if token.isspace():
            if not line and not lines and cells < width // 2:
                line, used = token, cells  # the paragraph's own indentation
            else:
                space = token
            continue
        gap = cell_len(space) if line else 0
        space = ""
        if used + gap + cells <= width:
            line, used = (line + " " * gap + token if line else token), used + gap + cells
            continue
        if line.strip():
            lines.append(line)
        pieces = chop_cells(token, width) if cells > width else [token]
        lines.extend(pieces[:-1])
        line, used = pieces[-1], cell_len(pieces[-1])
    lines.append(line)
    return lines


def wrap_prefixed(text: str, width: int, first: str, rest: str | None = None) -> list[str]:
    """`text` wrapped after `first` on its first line and `rest` (as wide, spaces by default) on the others."""
    rest = " " * cell_len(first) if rest is None else rest
    inner = max(1, width - max(cell_len(first), cell_len(rest)))
    return [(first if index == 0 else rest) + line for index, line in enumerate(wrap_cells(text, inner))]


def wrap_quoted(text: str, width: int, indent: str = "") -> list[str]:
    """A quoted email line wrapped with its `>` marker repeated on every line, so the quote stays a quote."""
    found = _QUOTE_MARKER.match(text)
    marker = found.group(0) if found else ""
    # `>text` goes on as `> text`: the words are told from the marker.
    rest = marker if not marker or marker.endswith(" ") else marker + " "
    body = text[found.end() :] if found else text
    return wrap_prefixed(body, width, indent + marker, indent + rest)
