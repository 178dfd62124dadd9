"""ctrl+f / `:search`: every conversation, open and closed, found as the agent types; a closed one long gone
from the queue opens read-only-by-default, and `X` reopens it. A real workspace file with its index."""

from __future__ import annotations

import time
from pathlib import Path

from app_harness import make_app, wait_for, wait_for_screen
from standardiste.backends.local import Workspace
from standardiste.console.core.model import Channel, Customer, Direction, State
from standardiste.console.ui.search_screen import SearchScreen
from standardiste.console.ui.workspace_screen import WorkspaceScreen
from textual.widgets import OptionList

HOSTILE = "Remboursement \x1b]52;c;ZXZpbA==\x07\x1b[2J[bold red]urgent[/]"


def _seed(path: Path) -> tuple[str, str]:
    """An open mail, and one solved 40 days ago: outside what the console loads at start (the last day)."""
    now = time.time()
    ws = Workspace(path)
    anna = Customer("c-anna", "Anna Müller", "de", email="anna@example.com")
    jean = Customer("c-jean", "Jean Dupont", "fr", email="jean@example.com")
    open_id = ws.create_conversation(channel=Channel.EMAIL, customer=anna, subject="Paket nicht angekommen")
    ws.add_message(open_id, direction=Direction.INBOUND, body="Wo ist mein Paket?", author="Anna")
    old = ws.create_conversation(
        channel=Channel.EMAIL, customer=jean, subject=HOSTILE, created_at=now - 40 * 86400, state=State.SOLVED
    )
    ws.add_message(
        old,
        direction=Direction.INBOUND,
        body="Je n'ai jamais reçu mon remboursement.",
        created_at=now - 40 * 86400,
    )
    ws.update_conversation(
        old, state=State.SOLVED, closed_at=now - 39 * 86400
    )  # the customer's mail reopened it
    ws.close()
    return f"local:{open_id}", f"local:{old}"


async def test_search_finds_a_closed_conversation_opens_it_and_o_reopens_it(tmp_path: Path) -> None:
    open_id, old_id = _seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: open_id in app.store.conversations, pilot=pilot)
        assert old_id not in app.store.conversations  # solved long ago: not loaded at start
        await pilot.press("ctrl+f")
        await wait_for_screen(app, SearchScreen, pilot)
        await pilot.press(*"rembours")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await wait_for(lambda: [h.conversation_id for h in screen.hits] == [old_id], pilot=pilot)
        options = screen.query_one(OptionList)
        shown = str(options.get_option_at_index(0).prompt.renderables[0])  # type: ignore[union-attr]
        # The customer's subject as text: no escape reaches the terminal, no markup is interpreted.
        assert "\x1b" not in shown and "\x07" not in shown and "[bold red]urgent[/]" in shown
        assert "solved" in shown
        await pilot.press("enter")
        await wait_for_screen(app, WorkspaceScreen, pilot)
        workspace = app.screen
        assert isinstance(workspace, WorkspaceScreen)
        await wait_for(lambda: workspace.open_id == old_id, pilot=pilot)
        assert app.store.conversations[old_id].state is State.SOLVED
        assert any("press X to reopen" in said.message for said in app.said)
        await pilot.press("X")
        await wait_for(lambda: app.store.conversations[old_id].state is State.OPEN, timeout=10, pilot=pilot)


async def test_typed_and_entered_at_once_searches_what_was_typed_before_opening(tmp_path: Path) -> None:
    """Type-ahead: enter right after the last key must not open a result of an older, shorter query."""
    open_id, _ = _seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: open_id in app.store.conversations, pilot=pilot)
        await pilot.press("ctrl+f")
        await wait_for_screen(app, SearchScreen, pilot)
        await pilot.press(*"paket", "enter")  # before the pause that starts a search
        screen = app.screen
        assert isinstance(screen, SearchScreen)  # enter searched; it opened nothing yet
        await wait_for(lambda: [h.conversation_id for h in screen.hits] == [open_id], pilot=pilot)
        await pilot.press("enter")
        await wait_for_screen(app, WorkspaceScreen, pilot)
        await wait_for(lambda: app.workspace.open_id == open_id, pilot=pilot)


async def test_a_bad_query_is_said_in_the_screen_and_esc_closes(tmp_path: Path) -> None:
    open_id, _ = _seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(lambda: open_id in app.store.conversations, pilot=pilot)
        await pilot.press(":", *"search after:2026-12-05 before:2026-12-01", "enter")
        await wait_for_screen(app, SearchScreen, pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        status = screen.query_one("#search-status")
        await wait_for(lambda: "cannot search" in str(status.render()), pilot=pilot)
        assert "is not before" in str(status.render())
        await pilot.press("escape")
        await wait_for_screen(app, WorkspaceScreen, pilot)


async def test_c_lists_every_contact_of_the_customer_newest_first_and_opens_an_old_one(
    tmp_path: Path,
) -> None:
    now = time.time()
    ws = Workspace(tmp_path / "workspace.db")
    anna = Customer("c-anna", "Anna Müller", "de", email="anna@example.com", phone="+49 30 1234")
    today = ws.create_conversation(channel=Channel.EMAIL, customer=anna, subject="Paket nicht angekommen")
    call = ws.create_conversation(
        channel=Channel.PHONE, customer=anna, subject="Rückruf Zahlung", created_at=now - 9 * 86400
    )
    ws.update_conversation(call, state=State.DONE, closed_at=now - 9 * 86400)
    refund = ws.create_conversation(
        channel=Channel.EMAIL,
        customer=anna,
        subject="Erstattung Bestellung 1042",
        created_at=now - 30 * 86400,
    )
    ws.update_conversation(refund, state=State.SOLVED, closed_at=now - 29 * 86400)
    ws.close()
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: f"local:{today}" in app.store.conversations, pilot=pilot)
        await pilot.press("C")
        await wait_for_screen(app, "HistoryScreen", pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        expected = [f"local:{today}", f"local:{call}", f"local:{refund}"]
        await wait_for(lambda: [h.conversation_id for h in screen.hits] == expected, pilot=pilot)
        await pilot.press(*"erstatt")
        await wait_for(lambda: [h.conversation_id for h in screen.hits] == [f"local:{refund}"], pilot=pilot)
        await pilot.press("enter")
        await wait_for_screen(app, WorkspaceScreen, pilot)
        await wait_for(lambda: app.workspace.open_id == f"local:{refund}", pilot=pilot)
