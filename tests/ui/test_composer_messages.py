"""The composer owns its state and says what happens to it: Opened and Closed messages (with `control`), never a
class set on the screen that hosts it. The workspace screen alone gives it room (`-composing`)."""

from __future__ import annotations

from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for
from standardiste.console.core.model import Channel
from standardiste.widgets.composer import Composer
from textual.app import App, ComposeResult
from textual.message import Message


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.heard: list[Message] = []

    def compose(self) -> ComposeResult:
        yield Composer(id="composer")

    def on_composer_opened(self, message: Composer.Opened) -> None:
        self.heard.append(message)

    def on_composer_closed(self, message: Composer.Closed) -> None:
        self.heard.append(message)


async def test_the_composer_posts_opened_and_closed_and_leaves_the_screen_alone() -> None:
    app = Host()
    async with app.run_test() as pilot:
        composer = app.query_one(Composer)
        composer.open("reply", email=True, body="Bonjour")
        await pilot.pause()
        assert [type(m) for m in app.heard] == [Composer.Opened]
        assert app.heard[0].control is composer
        assert app.screen.classes == frozenset()  # it did not reach into its host
        composer.leave()
        await pilot.pause()
        closed = app.heard[-1]
        assert isinstance(closed, Composer.Closed) and closed.left and closed.control is composer
        composer.open("reply", email=False)
        composer.hide()  # the screen hides it (another conversation opened): not the agent leaving
        await pilot.pause()
        assert isinstance(app.heard[-1], Composer.Closed) and not app.heard[-1].left
        assert not composer.is_open


async def test_the_workspace_gives_the_composer_room_while_it_is_open(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db", [Contact(Channel.EMAIL, "John Smith", "en", "Invoice request")])
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 1, pilot=pilot)
        await pilot.press("enter", "r")
        await wait_for(lambda: app.workspace.query_one(Composer).is_open, pilot=pilot)
        assert app.workspace.has_class("-composing")
        await pilot.press("escape")
        await wait_for(lambda: not app.workspace.has_class("-composing"), pilot=pilot)
        assert app.focused is app.workspace.queue
