"""The `:` line has one vocabulary (console/ui/command_line.py): what tab completes is what the line runs, and
`:messages` shows the notices again after their toasts are gone."""

from __future__ import annotations

import io
from pathlib import Path

from app_harness import make_app, seed, wait_for
from rich.console import Console
from standardiste.console.ui.command_line import BY_WORD, completions
from standardiste.console.ui.messages_screen import MessagesScreen
from textual.widgets import Static


async def test_every_word_has_a_handler_and_every_completed_line_runs(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.hub_ready and len(app.store.conversations) > 0, pilot=pilot)
        screen = app.workspace
        assert set(screen.line_handlers()) == set(BY_WORD)
        offered = completions(app.config)
        assert set(app.command_completions()) == set(offered)
        for word in BY_WORD:
            assert any(line.split()[0] == word for line in offered), f"{word} is never completed"
        for line in offered:
            name = line.split()[0]
            if name not in BY_WORD or line.endswith(" ") or name in ("quit", "messages"):
                continue  # those need words after them, or leave the screen
            screen.run_command_line(line)
            await pilot.pause()
        assert not [s.message for s in app.said if "Unknown command" in s.message]


async def test_messages_shows_what_was_said_newest_first_and_plain(tmp_path: Path) -> None:
    seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.hub_ready, pilot=pilot)
        app.notify("Could not send to [bold]Ann[/bold]", severity="error", timeout=0.1)
        app.notify("Second thing", timeout=0.1)
        app.workspace.run_command_line("messages")
        await wait_for(lambda: isinstance(app.screen, MessagesScreen), pilot=pilot)
        await wait_for(lambda: len(app.screen.query(Static)) == 2, pilot=pilot)
        console = Console(width=100, record=True, file=io.StringIO())
        for static in app.screen.query(Static):
            console.print(static.content)
        shown = " ".join(console.export_text().split())
        assert shown.index("Second thing") < shown.index("Could not send to [bold]Ann[/bold]")
        await pilot.press("escape")
        await wait_for(lambda: not isinstance(app.screen, MessagesScreen), pilot=pilot)
