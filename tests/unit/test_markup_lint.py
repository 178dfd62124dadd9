"""A lint of the console's source: no string built from non-literal values reaches an API that parses markup.

Textual reads a `str` given to `Label`, `Static`, `Option`, `Button`, a widget's `update`, a border title or a
command palette hit as content markup. Outside text (a caller's name, a subject, a queue name, an error from a
server) inside such a string crashes the console on `[/bold]` or plants a live link or action. The rule: build a
`Text` (`safe_text()` in widgets/safe_text.py) or pass `markup=False`. `notify` is plain by construction
(`PlainNotify`), so passing `markup=True` to it is refused here too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    [*ROOT.joinpath("console").rglob("*.py"), *ROOT.joinpath("widgets").rglob("*.py"), ROOT / "__main__.py"]
)
# Constructors whose first argument Textual parses as markup when it is a str.
MARKUP_CONSTRUCTORS = {"Label", "Static", "Option", "Button", "Checkbox", "RadioButton", "Selection", "Hit"}
MARKUP_FUNCTIONS = {"from_markup", "render_markup"}
MARKUP_ATTRIBUTES = {"border_title", "border_subtitle", "tooltip"}


def _is_built_string(node: ast.expr) -> bool:
    """A string made at run time from other values: f-strings with fields, +, %, .format, .join, str()."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(value, ast.FormattedValue) for value in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return any(
            _is_built_string(side) or (isinstance(side, ast.Constant) and isinstance(side.value, str))
            for side in (node.left, node.right)
        )
    if isinstance(node, ast.IfExp):
        return _is_built_string(node.body) or _is_built_string(node.orelse)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in {"format", "join"}:
            return True
        if isinstance(func, ast.Name) and func.id == "str":
            return True
    return False


def _name_of(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _markup_off(call: ast.Call) -> bool:
    return any(
        k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False for k in call.keywords
    )


def findings(source: str, filename: str) -> list[str]:
    found: list[str] = []
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call):
            name = _name_of(node.func)
            if name == "notify" and any(
                k.arg == "markup" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                for k in node.keywords
            ):
                found.append(f"{where}: notify(markup=…) (toasts are plain text; build no markup)")
            args = list(node.args[:1])
            if name in MARKUP_CONSTRUCTORS | MARKUP_FUNCTIONS:
                args += [k.value for k in node.keywords if k.arg in {"prompt", "label", "renderable", "content"}]
            elif name in {"update", "set_options", "add_option"}:
                pass
            else:
                continue
            if _markup_off(node):
                continue
            if name == "update" and isinstance(node.func, ast.Attribute):
                # dict.update / set.update never take a built string; a widget's update parses one.
                pass
            for arg in args:
                if _is_built_string(arg):
                    found.append(f"{where}: {name}() is given a built string: use safe_text(...) or Text(...)")
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in MARKUP_ATTRIBUTES
                    and _is_built_string(node.value)
                ):
                    found.append(f"{where}: {target.attr} = a built string: use safe_text(...)")
    return found


def test_no_built_string_reaches_a_markup_api() -> None:
    problems = [p for path in SOURCES for p in findings(path.read_text("utf-8"), str(path.relative_to(ROOT)))]
    assert problems == []


@pytest.mark.parametrize(
    "snippet",
    [
        'Label(f"{name} calls")',
        'Static("queue " + queue)',
        'self.query_one(Label).update(f"waiting {waited}")',
        'Option("{} {}".format(a, b), id="x")',
        'Label(", ".join(names))',
        'self.border_title = f"{queue}"',
        'self.notify(message, markup=True)',
        'Option(prompt=f"{subject}")',
        'Label(str(error))',
    ],
)
def test_the_lint_catches(snippet: str) -> None:
    assert findings(snippet, "snippet.py"), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        'Label("Agents (a)")',
        'Label(safe_text(f"{name} calls"))',
        'Static(f"{name}", markup=False)',
        'self.notify(f"{name} is calling")',
        'values.update({k: v for k, v in pairs})',
        'Option(Text(f"{i} {label}"), id=value)',
    ],
)
def test_the_lint_lets_plain_text_through(snippet: str) -> None:
    assert findings(snippet, "snippet.py") == []
