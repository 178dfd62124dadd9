"""The `/` filter says what it did not understand, and an empty filtered list says "no match"."""

from __future__ import annotations

from pathlib import Path

from app_harness import T0, make_app, seed, wait_for
from standardiste.console.core.views import Filter
from standardiste.console.ui.workspace_screen import ViewBar
from textual.widgets import Static


def test_an_unknown_field_or_value_is_named() -> None:
    assert any("unknown field 'foo'" in e for e in Filter.parse("foo:bar").errors)
    assert any("no state 'ringin'" in e for e in Filter.parse("state:ringin").errors)
    assert any("no prio 'hgh'" in e for e in Filter.parse("prio:hgh").errors)
    assert Filter.parse("lang:de state:ringing prio:high refund").errors == []
    # A time or a URL in the words is not taken for a field.
    assert Filter.parse("10:30 https://example.com").errors == []


async def test_the_screen_says_unknown_field_and_no_match(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path, clock=lambda: T0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        screen = app.workspace
        await pilot.press("slash", *"foo:bar")
        await pilot.pause()
        assert "unknown field 'foo'" in screen.query_one(ViewBar).render().plain  # type: ignore[union-attr]
        await pilot.press("enter")
        await pilot.pause()
        assert any("unknown field 'foo'" in n.message for n in app.said)
        empty = screen.query_one("#empty", Static)
        assert empty.display and screen.has_class("-empty")
        shown = str(empty.render().plain)  # type: ignore[union-attr]
        assert "No match for “foo:bar”" in shown and "Nothing waiting" not in shown
        await pilot.press("escape")  # clears the filter: the rows come back
        await pilot.pause()
        assert len(screen.views["all"]) == 8 and not screen.has_class("-empty")
