"""Every link of the README and docs/*.md resolves inside the repository: a reader of a fresh clone (or of the
page on a forge) follows them; one into a sibling checkout (`../shared/...`) works on one machine only."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Inline links and images `[text](target "title")`, and reference definitions `[id]: target`.
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
# A path named in prose or a code span that leaves the repository.
OUTSIDE = re.compile(r"(?<![\w.])\.\./[\w./-]+")


def _prose(document: Path) -> str:
    """The text without its fenced code blocks (a shell example may well say `cd ..`)."""
    return FENCE.sub("", document.read_text(encoding="utf-8"))


def _targets(text: str) -> list[str]:
    return INLINE.findall(text) + REFERENCE.findall(text)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(document: Path) -> None:
    broken = []
    for target in _targets(_prose(document)):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not parts.path:  # a web address, or an anchor in the page
            continue
        resolved = (document.parent / unquote(parts.path)).resolve()
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_path_leaves_the_repository(document: Path) -> None:
    assert OUTSIDE.findall(_prose(document)) == []


def test_the_link_parser_finds_links() -> None:
    """The checks above pass on a page without links too: the parser must see the kinds of links we write."""
    text = '[a](x.md) ![b](img/y.png "t") [c](<z.md>) [d](https://e.org/) [e](#anchor)\n[f]: docs/g.md\n'
    assert _targets(text) == ["x.md", "img/y.png", "z.md", "https://e.org/", "#anchor", "docs/g.md"]
