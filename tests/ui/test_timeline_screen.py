"""`T`: one customer's contacts as one thread in time order, messages of each conversation interleaved, each
line labelled with its channel and conversation and openable; from the workspace, from `C`'s list (ctrl+t),
remapped by its binding id, and across two backends (the local workspace and a real IMAP mailbox, Dovecot)
joined by the customer's email address."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from app_harness import make_app, wait_for, wait_for_screen
from mailservers import dovecot_binary, make_backend, running_dovecot
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.console.core.model import Channel, Customer, Direction, State
from standardiste.console.ui.app import StandardisteApp
from standardiste.console.ui.timeline_screen import TimelineScreen
from standardiste.console.ui.workspace_screen import WorkspaceScreen
from textual.widgets import OptionList

HOSTILE = "Zahlung \x1b]52;c;ZXZpbA==\x07\x1b[2J[bold red]sofort[/] \u202eevil"


def seed(path: Path) -> dict[str, str]:
    """Anna's contacts over a month on three channels, and someone else's chat that must not show."""
    now = time.time()
    day = 86_400
    ws = Workspace(path)
    anna = Customer("c-anna", "Anna Müller", "de", email="anna@example.com", phone="+49 30 1234")
    bob = Customer("c-bob", "Bob Stone", "en", email="bob@example.com")
    refund = ws.create_conversation(
        channel=Channel.EMAIL, customer=anna, subject="Erstattung 1042", created_at=now - 30 * day
    )
    ws.add_message(
        refund, direction=Direction.INBOUND, body="Wann kommt das Geld?", created_at=now - 30 * day
    )
    call = ws.create_conversation(
        channel=Channel.PHONE, customer=anna, subject="Rückruf Zahlung", created_at=now - 10 * day
    )
    ws.update_conversation(call, state=State.DONE, closed_at=now - 10 * day + 300)
    ws.add_message(
        refund,
        direction=Direction.OUTBOUND,
        body="Das Geld ist unterwegs.",
        author="alice",
        created_at=now - 5 * day,
    )
    ws.update_conversation(refund, state=State.SOLVED, closed_at=now - 5 * day)
    chat = ws.create_conversation(channel=Channel.CHAT, customer=anna, subject="Paket", created_at=now - 600)
    ws.add_message(chat, direction=Direction.INBOUND, body=HOSTILE, created_at=now - 600)
    ws.add_message(
        chat, direction=Direction.NOTE, body="Kundin ruft oft an", author="alice", created_at=now - 300
    )
    other = ws.create_conversation(
        channel=Channel.CHAT, customer=bob, subject="Bob's chat", created_at=now - 100
    )
    ws.add_message(other, direction=Direction.INBOUND, body="Hi", created_at=now - 100)
    ws.close()
    return {
        name: f"local:{cid}"
        for name, cid in (("refund", refund), ("call", call), ("chat", chat), ("bob", other))
    }


def lines_of(screen: TimelineScreen) -> list[str]:
    options = screen.query_one(OptionList)
    return [
        " | ".join(str(part) for part in options.get_option_at_index(i).prompt.renderables)  # type: ignore[union-attr]
        for i in range(options.option_count)
    ]


async def test_t_shows_every_contact_in_time_order_and_opens_a_closed_one(tmp_path: Path) -> None:
    ids = seed(tmp_path / "workspace.db")
    app = make_app(tmp_path)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(lambda: ids["chat"] in app.store.conversations, pilot=pilot)
        app.workspace.action_view("chat")
        assert app.workspace.queue.select_id(ids["chat"])
        await pilot.press("T")
        await wait_for_screen(app, TimelineScreen, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        await wait_for(lambda: len(screen.entries) == 5, pilot=pilot)
        # Interleaved by time: the refund's reply comes after the call, inside the refund's own thread.
        assert [e.conversation.id for e in screen.entries] == [
            ids["refund"],
            ids["call"],
            ids["refund"],
            ids["chat"],
            ids["chat"],
        ]
        assert [e.message is None for e in screen.entries] == [False, True, False, False, False]
        shown = lines_of(screen)
        assert "MAIL" in shown[0] and "Erstattung 1042" in shown[0] and "Wann kommt das Geld?" in shown[0]
        assert "CALL" in shown[1] and "opened" in shown[1]
        assert "agent alice" in shown[2] and "solved" in shown[2]
        assert "note alice" in shown[4]
        # The customer's text as text: no escape reaches the terminal, no markup is read.
        assert all("\x1b" not in line and "\x07" not in line and "\u202e" not in line for line in shown)
        assert "[bold red]sofort[/]" in shown[3]
        assert not any("Bob" in line for line in shown)
        assert screen.query_one(OptionList).highlighted == 4  # the newest
        await pilot.press("k", "k", "enter")
        await wait_for_screen(app, WorkspaceScreen, pilot)
        await wait_for(lambda: app.workspace.open_id == ids["refund"], pilot=pilot)
        assert any("press X to reopen" in said.message for said in app.said)


async def test_ctrl_t_in_the_customer_list_and_a_remapped_key_open_the_timeline(tmp_path: Path) -> None:
    ids = seed(tmp_path / "workspace.db")
    config = 'agent = "alice"\nname = "Alice"\nundo_seconds = 0\nbell = false\n[keys]\n"work.timeline" = "ctrl+y"\n'
    app = make_app(tmp_path, config_text=config)
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(lambda: ids["chat"] in app.store.conversations, pilot=pilot)
        app.workspace.action_view("chat")
        assert app.workspace.queue.select_id(ids["chat"])
        await pilot.press("ctrl+y")
        await wait_for_screen(app, TimelineScreen, pilot)
        await pilot.press("escape")
        await wait_for_screen(app, WorkspaceScreen, pilot)
        await pilot.press("C")
        await wait_for_screen(app, "HistoryScreen", pilot)
        await pilot.press("ctrl+t")
        await wait_for_screen(app, TimelineScreen, pilot)
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        await wait_for(lambda: len(screen.entries) == 5, pilot=pilot)
        await pilot.press("g", "enter")  # the oldest line: the refund's first mail
        await wait_for_screen(app, WorkspaceScreen, pilot)
        await wait_for(lambda: app.workspace.open_id == ids["refund"], pilot=pilot)


@pytest.mark.skipif(
    dovecot_binary() is None, reason="dovecot is not installed (Debian: apt-get install dovecot-imapd)"
)
async def test_the_timeline_joins_the_mailbox_and_the_workspace_by_email_address(tmp_path: Path) -> None:
    ids = seed(tmp_path / "workspace.db")
    with running_dovecot() as dovecot:
        dovecot.deliver(
            "From: Anna Mueller <anna@example.com>\r\nTo: support@shop.test\r\nSubject: Rechnung fehlt\r\n"
            "Message-ID: <inv1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBitte die Rechnung.\r\n"
        )
        base = make_app(tmp_path)
        mailbox = make_backend(dovecot, None, tmp_path / "mail-data")
        local = LocalBackend(tmp_path / "workspace.db", agent_id="alice")
        app = StandardisteApp(
            base.config,
            [local, mailbox],
            drafts_path=tmp_path / "drafts.db",
            outbox_path=tmp_path / "outbox.db",
        )
        async with app.run_test(size=(130, 40)) as pilot:
            await wait_for(
                lambda: any(c.startswith("mail:") for c in app.store.conversations), timeout=15, pilot=pilot
            )
            mail_id = next(c for c in app.store.conversations if c.startswith("mail:"))
            app.workspace.action_view("chat")
            assert app.workspace.queue.select_id(ids["chat"])
            await pilot.press("T")
            await wait_for_screen(app, TimelineScreen, pilot)
            screen = app.screen
            assert isinstance(screen, TimelineScreen)
            await wait_for(lambda: len(screen.entries) == 6, timeout=10, pilot=pilot)
            assert screen.entries[-1].conversation.id == mail_id  # delivered now: the newest line
            assert screen.entries[-1].message is not None and "Rechnung" in screen.entries[-1].message.body
            await pilot.press("enter")
            await wait_for_screen(app, WorkspaceScreen, pilot)
            await wait_for(lambda: app.workspace.open_id == mail_id, pilot=pilot)
