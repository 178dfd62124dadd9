"""While the agent writes a reply, a call that rings shows its toast where it does not hide the composer (the
reply being typed, its hint and fields), at the top of the screen instead of the bottom; once the reply is
sent or left, toasts go back to the bottom. Pilot over a real workspace file, at 80x24 and 120x40."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from app_harness import Contact, make_app, seed, wait_for
from standardiste.console.core.model import Channel
from standardiste.console.ui.ring_toast import RING_TITLE
from standardiste.widgets.composer import Composer
from textual.widget import Widget


def _ring_toasts(app) -> list[Widget]:  # type: ignore[no-untyped-def]
    """The incoming-call toasts, known by the title they draw (Textual does not export its Toast class)."""
    return [
        t
        for t in app.screen.query("Toast")
        if any(RING_TITLE in t.render_line(y).text for y in range(t.size.height))
    ]


async def _laid_out(pilot) -> None:  # type: ignore[no-untyped-def]
    """The toasts placed by the stylesheet's rules for what is open now (a refresh, then a frame)."""
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_a_ringing_call_toast_does_not_cover_the_open_composer(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    db = tmp_path / "workspace.db"
    [mail] = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice", age=600)])
    app = make_app(tmp_path)
    async with app.run_test(size=size, notifications=True) as pilot:  # Textual tests hide toasts by default
        await wait_for(lambda: mail in app.store.conversations and app.hub_ready, pilot=pilot)
        assert app.workspace.queue.select_id(mail)
        await pilot.press("enter")
        await wait_for(lambda: app.workspace.open_id == mail, pilot=pilot)
        await pilot.press("r", *"Hello John,")
        composer = app.workspace.query_one(Composer)
        await wait_for(lambda: composer.is_open, pilot=pilot)
        seed(db, [Contact(Channel.PHONE, "Anna Müller", "de", "Paket", age=1)], now=time.time())
        await wait_for(lambda: bool(_ring_toasts(app)), pilot=pilot)
        await _laid_out(pilot)
        [toast] = _ring_toasts(app)
        assert toast.region.area and composer.region.area
        assert not toast.region.overlaps(composer.region), (toast.region, composer.region)
        assert toast.region.y < composer.region.y  # above it, not beside it
        await pilot.press("escape")  # leave the reply (the draft is kept): toasts go back to the bottom
        await wait_for(lambda: not composer.is_open, pilot=pilot)
        await _laid_out(pilot)
        assert toast.region.bottom > size[1] // 2
