"""The contract kit (backends/testing.py) on the IMAP/SMTP adapter, over the real servers of the other IMAP
tests (tests/mailservers.py): pymap on a maildir and aiosmtpd. Customer traffic is mail APPENDed to the inbox,
as a delivery does, or written into the maildir by the MTA while the IMAP server is down."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from mailservers import Collector, ImapServer, SmtpServer, mail, make_backend, running_imap, running_smtp
from standardiste.backends.base import Backend, MessageAdded
from standardiste.backends.imap import ImapBackend
from standardiste.backends.imap.session import ImapSession
from standardiste.backends.imap.workers import Worker
from standardiste.backends.testing import BackendContract
from standardiste.console.core.model import Channel, Conversation


class MailTraffic:
    """Customers writing to the support mailbox."""

    channels: Sequence[Channel] = (Channel.EMAIL,)

    def __init__(self, server: ImapServer) -> None:
        self.server = server
        self.first_message: dict[str, str] = {}  # subject -> Message-ID, to write again in the thread
        self.sent = 0

    def _deliver(self, raw: bytes) -> None:
        if self.server.process is None:  # the IMAP server is down: the MTA still delivers into the maildir
            self.server.drop_into_maildir(raw)
        else:
            self.server.deliver(raw)

    async def new_conversation(self, channel: Channel, token: str, *, customer: str = "ann") -> None:
        assert channel is Channel.EMAIL
        self.sent += 1
        subject = f"Contract {token}"
        message_id = f"<{token}.{self.sent}@customer.test>"
        self.first_message[subject] = message_id
        sender = f"{customer.title()} <{customer}@customer.test>"
        self._deliver(mail(subject, f"Hello {token}", sender=sender, message_id=message_id))

    async def customer_writes(self, conversation: Conversation, token: str) -> None:
        self.sent += 1
        parent = self.first_message[conversation.subject]
        address = conversation.customer_id.partition(":")[2]
        self._deliver(
            mail(
                f"Re: {conversation.subject}",
                f"Again {token}",
                sender=f"{conversation.customer_name} <{address}>",
                message_id=f"<again.{self.sent}@customer.test>",
                in_reply_to=parent,
                references=parent,
            )
        )


@pytest.fixture(scope="module")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImapServer]:
    """One pymap for the module: each check makes its own uniquely named mail and reads it with a backend
    of its own (its own data_dir), so the checks do not see each other, and the servers start once."""
    with running_imap(tmp_path_factory.mktemp("contract-imap")) as server:
        yield server


@pytest.fixture(scope="module")
def outgoing() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


class TestImapContract(BackendContract):
    # The watcher reconnects with its own backoff (0.3 s to 2 s in the tests), after pymap restarts.
    recover_within = 20.0

    @pytest.fixture
    async def backend(
        self, mailbox: ImapServer, outgoing: SmtpServer, tmp_path: Path
    ) -> AsyncIterator[ImapBackend]:
        self.servers = (mailbox, outgoing, tmp_path / "data")
        backend = make_backend(*self.servers)
        await backend.connect()
        try:
            yield backend
        finally:
            await backend.close()

    @pytest.fixture
    def traffic(self, mailbox: ImapServer) -> MailTraffic:
        return MailTraffic(mailbox)

    @contextlib.asynccontextmanager
    async def drop(self, backend: Backend) -> AsyncIterator[None]:
        """The IMAP server goes away (stopped) and comes back with its mailbox intact."""
        imap = self.servers[0]
        imap.stop()
        try:
            yield
        finally:
            imap.start()

    async def reopen(self, backend: Backend) -> Backend:
        return make_backend(*self.servers)


async def test_mail_delivered_during_the_watchers_catch_up_is_not_left_for_later(
    mailbox: ImapServer, outgoing: SmtpServer, tmp_path: Path
) -> None:
    """What the kit's reconnect check found, pinned: a mail that lands between the watcher's SELECT and its
    catch-up's search is not in the search's result (the server answers from the mailbox as selected), and
    the EXISTS that announces it comes in that answer. It was dropped with SELECT's own, and the server does
    not say it again once IDLE starts, so the mail waited for the next one or the ten-minute reconcile."""
    backend = make_backend(mailbox, outgoing, tmp_path / "data")
    await backend.connect()
    await backend.snapshot()
    make_sync = backend._folder_sync
    late = mail("Landed mid catch-up", "Hello", message_id="<mid-catch-up@customer.test>")

    def folder_sync(role: str, session: ImapSession, worker: Worker) -> Any:
        if backend.watcher is not None and not backend.watcher.ready.is_set():  # the watcher's first catch-up
            search = session.all_uids

            def all_uids() -> list[int]:
                mailbox.deliver(late)  # another connection, as the MTA: after our SELECT, before the search
                session.all_uids = search  # type: ignore[method-assign]
                return search()

            session.all_uids = all_uids  # type: ignore[method-assign]
        return make_sync(role, session, worker)

    backend._folder_sync = folder_sync  # type: ignore[method-assign]
    collector = Collector(backend)
    try:
        await collector.wait_for(
            lambda: [e for e in collector.of(MessageAdded) if e.message.body.startswith("Hello")], timeout=3
        )
    finally:
        await collector.stop()
        await backend.close()
