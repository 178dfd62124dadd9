"""The console over two backends at once: phone and chat from the local workspace, email from a real IMAP
server (pymap) and a real SMTP server (aiosmtpd), both on 127.0.0.1. And a mailbox that refuses the login:
the console says so and the rest of the workspace keeps working."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_harness import Contact, make_app, seed, wait_for
from mailservers import ImapServer, SmtpServer, free_port, mail, make_backend
from standardiste.backends.local import LocalBackend
from standardiste.console.core.model import Channel
from standardiste.console.ui.app import StandardisteApp
from standardiste.widgets.status_bar import StatusBar

SIZE = (160, 50)


def _two_backend_app(tmp_path: Path, imap: ImapServer, smtp: SmtpServer | None, **options: object):  # type: ignore[no-untyped-def]
    app = make_app(tmp_path)
    mailbox = make_backend(imap, smtp, tmp_path / "mail-data", **options)  # type: ignore[arg-type]
    local = LocalBackend(tmp_path / "workspace.db", agent_id="alice")
    app_two = StandardisteApp(
        app.config, [local, mailbox], drafts_path=tmp_path / "drafts.db", outbox_path=tmp_path / "outbox.db"
    )
    return app_two


async def test_local_chat_and_imap_mail_in_one_console(
    tmp_path: Path, imap_server: ImapServer, smtp_server: SmtpServer
) -> None:
    [chat] = seed(tmp_path / "workspace.db", [Contact(Channel.CHAT, "Jean Dupont", "fr", "Colis", age=10)])
    imap_server.deliver(mail("Where is my order 1042?", "Hello, any news?", message_id="<q1@customer.test>"))
    app = _two_backend_app(tmp_path, imap_server, smtp_server)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(
            lambda: any(c.startswith("mail:") for c in app.store.conversations), timeout=15, pilot=pilot
        )
        mail_id = next(c for c in app.store.conversations if c.startswith("mail:"))
        assert chat in app.store.conversations
        assert app.store.conversations[mail_id].channel is Channel.EMAIL
        # The email, from IMAP: reply from the keyboard; it leaves through SMTP with threading headers.
        app.workspace.action_view("email")
        assert app.workspace.queue.select_id(mail_id)
        await pilot.press("enter")
        await wait_for(lambda: app.workspace.open_id == mail_id, pilot=pilot)
        await pilot.press("r", *"It left our warehouse today.", "ctrl+s")
        [sent] = smtp_server.wait_for(1, timeout=15)
        message = sent.message
        assert message["In-Reply-To"] == "<q1@customer.test>"
        assert "It left our warehouse today." in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        # The chat, from the local workspace, in the same console.
        app.workspace.action_view("chat")
        assert app.workspace.queue.select_id(chat)
        await pilot.press("enter", "a")
        await wait_for(lambda: app.store.conversations[chat].assignee == "alice", pilot=pilot)


@pytest.mark.parametrize(
    ("trouble", "said"),
    [
        ({"password": "wrong-Pa55"}, "refused the login"),
        ({"port": "free"}, "cannot reach"),
        ({"security": "tls"}, "TLS"),
    ],
    ids=["wrong-password", "unreachable", "tls-failure"],
)
async def test_mail_trouble_is_said_and_the_local_workspace_keeps_working(
    tmp_path: Path, imap_server: ImapServer, trouble: dict[str, str], said: str
) -> None:
    [chat] = seed(tmp_path / "workspace.db", [Contact(Channel.CHAT, "Jean Dupont", "fr", "Colis", age=10)])
    options = {key: free_port() if value == "free" else value for key, value in trouble.items()}
    app = _two_backend_app(tmp_path, imap_server, None, **options)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: chat in app.store.conversations, pilot=pilot)
        await wait_for(
            lambda: "mail" in app.store.links and app.store.links["mail"].state.value == "down",
            timeout=15,
            pilot=pilot,
        )
        status = str(app.workspace.query_one(StatusBar).render())
        assert "mail" in status and said in status
        assert "wrong-Pa55" not in status and "s3cret" not in status
        await pilot.press("n")  # the chat is taken and answered all the same
        await wait_for(lambda: app.store.conversations[chat].assignee == "alice", pilot=pilot)
        await pilot.press("r", *"Bonjour !", "enter")
        await wait_for(lambda: app.store.conversations[chat].state.value == "active", pilot=pilot)
