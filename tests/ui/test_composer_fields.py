"""The email composer's fields: tab and shift+tab move between To, Cc, Bcc, subject and body (before, tab
ran "next activity" and jumped to another conversation), and what is typed in an address field shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import Contact, make_app, seed, wait_for
from standardiste.console.core.model import Channel
from standardiste.widgets.composer import Composer, ComposerText
from textual.widget import Widget
from textual.widgets import Input

MAILS = (
    Contact(Channel.EMAIL, "John Smith", "en", "Refund for order 1042", age=600),
    Contact(Channel.EMAIL, "María García", "es", "Devolución del pedido", age=700),
)


def _shown(app, widget: Widget) -> bool:  # type: ignore[no-untyped-def]
    """Its first line of content is on the screen and nothing covers it."""
    region = widget.content_region
    if region.height < 1 or region.width < 1:
        return False
    return app.screen.get_widget_at(region.x, region.y)[0] is widget


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_tab_moves_between_the_fields_and_the_address_typed_shows(tmp_path: Path, size) -> None:  # type: ignore[no-untyped-def]
    db = tmp_path / "workspace.db"
    first, _second = seed(db, MAILS)
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await wait_for(lambda: first in app.store.conversations, pilot=pilot)
        await pilot.pause()
        screen = app.workspace
        screen.action_view("everyone")
        assert screen.queue.select_id(first)
        await pilot.press("enter")
        await wait_for(lambda: screen.open_id == first, pilot=pilot)
        await pilot.press("r")
        composer = screen.query_one(Composer)
        await wait_for(lambda: composer.is_open, pilot=pilot)
        fields = {
            name: composer.query_one(f"#composer-{name}", Input) for name in ("to", "cc", "bcc", "subject")
        }
        assert isinstance(app.focused, ComposerText)
        await pilot.press("tab")
        assert app.focused is fields["to"]
        assert screen.open_id == first and composer.is_open  # not "next activity"
        await pilot.press(*"boss@example.com")
        await pilot.pause()
        assert fields["to"].value.endswith("boss@example.com")
        assert _shown(app, fields["to"]), "the To field is not visible while focused"
        assert "boss@example.com" in fields["to"].render_line(0).text
        for name in ("cc", "bcc", "subject"):
            await pilot.press("tab")
            assert app.focused is fields[name]
            assert _shown(app, fields[name]), f"the {name} field is not visible while focused"
        await pilot.press("tab")
        assert isinstance(app.focused, ComposerText)
        await pilot.press("shift+tab")
        assert app.focused is fields["subject"]
        await pilot.press("shift+tab", "shift+tab", "shift+tab")
        assert app.focused is fields["to"]
        await pilot.press("shift+tab")  # round again: the body
        assert isinstance(app.focused, ComposerText)
        assert screen.open_id == first
