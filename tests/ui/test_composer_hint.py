"""The composer's hint (its keys) fits the width or wraps: before, the chat composer's ended `enter send · alt+`."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import Contact, make_app, seed, wait_for
from standardiste.console.core.model import Channel
from standardiste.console.ui.app import StandardisteApp
from standardiste.widgets.composer import Composer
from textual.pilot import Pilot
from textual.widgets import Label


async def open_reply(app: StandardisteApp, pilot: Pilot[None], cid: str) -> Composer:
    """The conversation opened from the list and `r` pressed: its composer, open."""
    await wait_for(lambda: cid in app.store.conversations, pilot=pilot)
    screen = app.workspace
    screen.action_view("everyone")
    assert screen.queue.select_id(cid)
    await pilot.press("enter")
    await wait_for(lambda: screen.open_id == cid, pilot=pilot)
    await pilot.press("r")
    composer = screen.query_one(Composer)
    await wait_for(lambda: composer.is_open, pilot=pilot)
    return composer


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (60, 24)])
@pytest.mark.parametrize("channel", [Channel.CHAT, Channel.EMAIL])
async def test_the_whole_hint_is_shown(tmp_path: Path, size: tuple[int, int], channel: Channel) -> None:
    [cid] = seed(
        tmp_path / "workspace.db", [Contact(channel, "Jean Dupont", "fr", "Où est mon colis ?", age=25)]
    )
    app = make_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        composer = await open_reply(app, pilot, cid)
        await pilot.pause()
        title = composer.query_one("#composer-title", Label)
        shown = " ".join(title.render_line(y).text.strip() for y in range(title.size.height))
        assert title.region.right <= composer.content_region.right  # not drawn past the border, cut
        assert " ".join(shown.split()).endswith("esc leave (draft kept)"), shown


async def test_the_hint_names_the_keys_as_remapped_in_the_config(tmp_path: Path) -> None:
    """`[keys]` sends with ctrl+g and leaves with ctrl+w: the composer's hint says so, and ctrl+g sends."""
    [cid] = seed(tmp_path / "workspace.db", [Contact(Channel.EMAIL, "Jean Dupont", "fr", "Facture", age=25)])
    config = (
        'agent = "alice"\nname = "Alice"\nundo_seconds = 0\nbell = false\n'
        '[keys]\n"composer.send" = "ctrl+g"\n"composer.leave" = "ctrl+w"\n'
    )
    app = make_app(tmp_path, config_text=config)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = await open_reply(app, pilot, cid)
        title = composer.query_one("#composer-title", Label)
        shown = " ".join(" ".join(title.render_line(y).text for y in range(title.size.height)).split())
        assert "^g send" in shown and "^w leave (draft kept)" in shown, shown
        assert "ctrl+s" not in shown and "^s" not in shown and "esc leave" not in shown
        await pilot.press(*"Merci")
        await pilot.press("ctrl+g")
        await wait_for(lambda: not composer.is_open, pilot=pilot)
