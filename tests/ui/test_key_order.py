"""The app's key order in Pilot: a key a dialog used never acts on the screen below it."""

from __future__ import annotations

from pathlib import Path

from app_harness import make_app, seed, wait_for, wait_for_screen
from textual import events
from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Label


class CarelessDialog(ModalScreen[str]):
    """Closes on a digit and lets the key go on (as PickDialog did): the app must still not use it."""

    def compose(self) -> ComposeResult:
        yield Label("press 2")

    def on_key(self, event: events.Key) -> None:
        if event.key == "2":
            self.dismiss("two")


async def test_a_key_that_closed_a_dialog_does_not_reach_the_screen_below(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(lambda: len(app.store.conversations) == 8, pilot=pilot)
        answers: list[str | None] = []
        app.push_screen(CarelessDialog(), answers.append)
        await wait_for_screen(app, CarelessDialog, pilot)
        await pilot.press("2")
        await wait_for(lambda: answers == ["two"], pilot=pilot)
        await wait_for(lambda: app.screen is app.workspace, pilot=pilot)
        await pilot.pause()  # one frame: a `2` that leaked through would have been handled by now
        assert app.workspace.current == "all"  # `2` would have shown the phone view
        await pilot.press("3")  # the next key is the workspace's again
        assert app.workspace.current == "chat"
