"""Every docstring in the package is text UTF-8 can carry.

Python 3.13 dedents docstrings while compiling and encodes them as UTF-8: one holding a lone surrogate (a
`\\ud800` escape in a docstring that is not raw) made the simulator's module fail to compile there, and with
it `standardiste simulate` and `make demo`. Python 3.11 compiles it, so only this check finds it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ("backends", "console", "widgets", "themes", "bench", "tests")


def _docstrings(tree: ast.Module) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=False)
            if doc is not None:
                found.append((getattr(node, "lineno", 1), doc))
    return found


def test_no_docstring_holds_a_lone_surrogate() -> None:
    files = [ROOT / "__main__.py", *(f for top in PACKAGE for f in (ROOT / top).rglob("*.py"))]
    bad = []
    for path in files:
        for line, doc in _docstrings(ast.parse(path.read_text(encoding="utf-8"))):
            try:
                doc.encode("utf-8")
            except UnicodeEncodeError:
                bad.append(f"{path.relative_to(ROOT)}:{line}")
    assert len(files) > 100  # the walk found the sources
    assert bad == []
