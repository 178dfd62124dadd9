"""The IMAP adapter against real servers on 127.0.0.1: pymap (IMAP, maildir) and aiosmtpd (SMTP)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mailservers import Collector, ImapServer, SmtpServer, mail, make_backend, running_imap
from standardiste.backends.base import (
    BackendStatus,
    Claim,
    Conflict,
    ConversationRemoved,
    ConversationUpserted,
    LinkState,
    Note,
    Reply,
    SetStatus,
    Tags,
)
from standardiste.backends.imap import ImapBackend
from standardiste.console.core.model import Attachment, Direction, State


@pytest.fixture
async def backend(
    imap_server: ImapServer, smtp_server: SmtpServer, tmp_path: Path
) -> AsyncIterator[ImapBackend]:
    backend = make_backend(imap_server, smtp_server, tmp_path / "data")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
async def watching(backend: ImapBackend) -> AsyncIterator[Collector]:
    await backend.snapshot()
    collector = Collector(backend)
    await collector.ready()
    try:
        yield collector
    finally:
        await collector.stop()


def by_subject(conversations: object) -> dict[str, object]:
    return {c.subject: c for c in conversations}  # type: ignore[attr-defined]


async def test_snapshot_groups_the_inbox_into_threads(imap_server: ImapServer, backend: ImapBackend) -> None:
    imap_server.deliver(mail("Where is my order?", message_id="<o1@customer.test>"))
    imap_server.deliver(
        mail(
            "Re: Where is my order?",
            "Any news?",
            message_id="<o2@customer.test>",
            in_reply_to="<o1@customer.test>",
            references="<o1@customer.test>",
        )
    )
    imap_server.deliver(
        mail("Refund", sender="Bob <bob@other.test>", message_id="<r1@other.test>"), flags=("\\Seen",)
    )

    snapshot = await backend.snapshot()

    conversations = {c.subject: c for c in snapshot.conversations}
    assert set(conversations) == {"Where is my order?", "Refund"}
    order = conversations["Where is my order?"]
    assert order.id.startswith("mail:")
    assert order.state is State.NEW
    assert order.customer_name == "Ann Customer"
    assert order.customer_id == "mail:ann@customer.test"
    assert order.unread == 2
    assert conversations["Refund"].unread == 0
    assert {c.email for c in snapshot.customers} == {"ann@customer.test", "bob@other.test"}
    history = await backend.history(order.id)
    assert [m.body for m in history] == ["Hello", "Any news?"]
    assert all(m.direction is Direction.INBOUND for m in history)
    assert history[1].email is not None and history[1].email.in_reply_to == "<o1@customer.test>"


async def test_snapshot_after_restart_fetches_only_what_is_new(
    imap_server: ImapServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    imap_server.deliver(mail("First", message_id="<f1@customer.test>"))
    first = make_backend(imap_server, smtp_server, tmp_path / "data")
    await first.connect()
    assert len((await first.snapshot()).conversations) == 1
    await first.close()

    imap_server.deliver(mail("Second", message_id="<f2@customer.test>"))
    again = make_backend(imap_server, smtp_server, tmp_path / "data")
    await again.connect()
    try:
        state = await again.db.run(again.index.folder_state, "inbox")
        assert state is not None
        uidnext_before = state.uidnext
        snapshot = await again.snapshot()
        assert {c.subject for c in snapshot.conversations} == {"First", "Second"}
        state_after = await again.db.run(again.index.folder_state, "inbox")
        assert state_after is not None and state_after.uidnext == uidnext_before + 1
    finally:
        await again.close()


async def test_a_reply_in_the_mailbox_joins_its_thread(imap_server: ImapServer, watching: Collector) -> None:
    backend = watching.backend
    imap_server.deliver(mail("Broken kettle", message_id="<k1@customer.test>"))
    first = await watching.wait_for(lambda: watching.messages())
    conversation_id = first[0].message.conversation_id

    # A reply that only carries In-Reply-To (some clients drop References) joins through its known parent.
    imap_server.deliver(
        mail(
            "Re: Broken kettle",
            "Photo attached",
            message_id="<k2@customer.test>",
            in_reply_to="<k1@customer.test>",
        )
    )
    # A later reply references the root and the parent.
    imap_server.deliver(
        mail(
            "Re: Broken kettle",
            "Still broken",
            message_id="<k3@customer.test>",
            in_reply_to="<k2@customer.test>",
            references="<k1@customer.test> <k2@customer.test>",
        )
    )
    await watching.wait_for(lambda: len(watching.messages()) >= 3)
    assert {m.message.conversation_id for m in watching.messages()} == {conversation_id}
    upserts = [
        e.conversation for e in watching.of(ConversationUpserted) if e.conversation.id == conversation_id
    ]
    assert upserts[-1].subject == "Broken kettle"
    assert len(await watching.backend.history(conversation_id)) == 3

    # Out of order: the reply arrives before the message it answers; both land in one conversation.
    imap_server.deliver(
        mail(
            "Re: Lost parcel",
            "Forgot to say",
            message_id="<p2@customer.test>",
            in_reply_to="<p1@customer.test>",
            references="<p1@customer.test>",
        )
    )
    imap_server.deliver(mail("Lost parcel", message_id="<p1@customer.test>"))
    await watching.wait_for(lambda: len(watching.messages()) >= 5)
    parcel = {m.message.conversation_id for m in watching.messages()[3:]}
    assert len(parcel) == 1 and parcel != {conversation_id}
    snapshot = await backend.snapshot()
    assert len(snapshot.conversations) == 2


async def test_reply_goes_out_by_smtp_with_threading_headers_and_lands_in_sent(
    imap_server: ImapServer, smtp_server: SmtpServer, backend: ImapBackend, tmp_path: Path
) -> None:
    imap_server.deliver(
        mail(
            "Order 1234",
            "Where is it?",
            message_id="<q2@customer.test>",
            references="<q0@shop.test> <q1@customer.test>",
            in_reply_to="<q1@customer.test>",
            extra="Cc: Partner <partner@customer.test>",
        )
    )
    conversation = (await backend.snapshot()).conversations[0]
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF-1.4 fake invoice \x00\x01\x02")

    result = await backend.perform(
        Reply(
            conversation_id=conversation.id,
            body="It left our warehouse today.\nRegards",
            cc=("boss@customer.test",),
            bcc=("audit@shop.test",),
            attachments=(
                Attachment(filename="invoice.pdf", content_type="application/pdf", ref=str(invoice)),
            ),
            key="reply-1",
        )
    )

    received = smtp_server.wait_for(1)
    assert len(received) == 1
    sent = received[0]
    assert sent.mail_from == "support@shop.test"
    assert sorted(sent.rcpt_tos) == ["ann@customer.test", "audit@shop.test", "boss@customer.test"]
    message = sent.message
    assert message["In-Reply-To"] == "<q2@customer.test>"
    assert message["References"].split() == ["<q0@shop.test>", "<q1@customer.test>", "<q2@customer.test>"]
    assert message["Subject"] == "Re: Order 1234"
    assert message["To"] == "ann@customer.test"
    assert message["Cc"] == "boss@customer.test"
    assert message["Bcc"] is None
    assert b"audit@shop.test" not in sent.data
    body = message.get_body(("plain",))
    assert (
        body is not None
        and body.get_content().replace("\r\n", "\n") == "It left our warehouse today.\nRegards\n"
    )
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["invoice.pdf"]
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_content() == invoice.read_bytes()

    assert "\\Answered" in imap_server.flags()[1]  # other mail clients see it was answered
    copies = imap_server.messages("Sent")
    assert [c["Message-ID"] for c in copies] == [message["Message-ID"]]
    assert copies[0]["Bcc"] == "audit@shop.test"  # the agent's copy says who else got it

    assert result.conversation is not None
    assert result.conversation.state is State.PENDING
    assert result.conversation.assignee == "alice"
    assert result.message is not None and result.message.direction is Direction.OUTBOUND
    assert result.message.email is not None and result.message.email.bcc == ("audit@shop.test",)
    history = await backend.history(conversation.id)
    assert [m.direction for m in history] == [Direction.INBOUND, Direction.OUTBOUND]
    assert history[1].body.startswith("It left our warehouse today.")
    assert [a.filename for a in history[1].attachments] == ["invoice.pdf"]

    # The outbox retries with the same key after a crash: nothing is mailed twice.
    again = await backend.perform(
        Reply(conversation_id=conversation.id, body="It left our warehouse today.\nRegards", key="reply-1")
    )
    assert again.ok
    await asyncio.sleep(0.3)
    assert len(smtp_server.received) == 1
    assert len(imap_server.messages("Sent")) == 1


async def test_a_reply_goes_to_reply_to_and_only_to_the_sender(
    imap_server: ImapServer, smtp_server: SmtpServer, backend: ImapBackend
) -> None:
    imap_server.deliver(
        mail(
            "Group order",
            message_id="<g1@customer.test>",
            extra="Cc: Carl <carl@customer.test>, support@shop.test\r\nReply-To: orders@customer.test",
        )
    )
    conversation = (await backend.snapshot()).conversations[0]
    await backend.perform(Reply(conversation_id=conversation.id, body="Noted", key="all-1"))
    received = smtp_server.wait_for(1)[0]
    assert received.rcpt_tos == ["orders@customer.test"]  # Reply-To wins over From
    assert received.message["Cc"] is None


async def test_reply_all_keeps_the_other_recipients_but_not_our_own_address(
    imap_server: ImapServer, smtp_server: SmtpServer, backend: ImapBackend
) -> None:
    imap_server.deliver(
        mail(
            "Group order",
            message_id="<g2@customer.test>",
            extra="Cc: Carl <carl@customer.test>, support@shop.test",
        )
    )
    conversation = (await backend.snapshot()).conversations[0]
    await backend.perform(Reply(conversation_id=conversation.id, body="Noted", key="all-2", reply_all=True))
    received = smtp_server.wait_for(1)[0]
    assert sorted(received.rcpt_tos) == ["ann@customer.test", "carl@customer.test"]
    assert "carl@customer.test" in str(received.message["Cc"])
    assert "support@shop.test" not in str(received.message["Cc"]) + str(received.message["To"])


async def test_idle_push_brings_new_mail_within_seconds(imap_server: ImapServer, watching: Collector) -> None:
    assert watching.backend.watcher is not None and watching.backend.watcher.mode == "idle"
    latencies = []
    for n in range(3):
        started = time.monotonic()
        imap_server.deliver(mail(f"Question {n}", f"Body {n}", message_id=f"<idle{n}@customer.test>"))
        await watching.wait_for(lambda n=n: len(watching.messages()) > n, timeout=5)
        latencies.append(time.monotonic() - started)
    assert max(latencies) < 3.0, latencies
    added = watching.messages()
    assert [m.message.body for m in added] == ["Body 0", "Body 1", "Body 2"]
    # The conversation comes before its first message in the stream (the store needs it first).
    first_upsert = next(i for i, e in enumerate(watching.events) if isinstance(e, ConversationUpserted))
    assert first_upsert < watching.events.index(added[0])


async def test_reconnects_after_a_restart_without_loss_or_duplicates(
    imap_server: ImapServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    backend = make_backend(imap_server, smtp_server, tmp_path / "data")
    await backend.connect()
    await backend.snapshot()
    backend._retry = (0.5, 2.0)
    collector = Collector(backend)
    try:
        await collector.ready()
        imap_server.deliver(mail("Before", message_id="<before@customer.test>"))
        await collector.wait_for(lambda: len(collector.messages()) == 1)

        imap_server.stop()
        down = await collector.wait_for(
            lambda: [e for e in collector.of(BackendStatus) if e.state is LinkState.DOWN], timeout=10
        )
        assert down[0].retry_in is not None and down[0].retry_in > 0
        assert "s3cret" not in down[0].detail
        # Mail arrives while the IMAP server is down: the MTA writes it into the maildir.
        imap_server.drop_into_maildir(mail("During 1", message_id="<during1@customer.test>"))
        imap_server.drop_into_maildir(mail("During 2", message_id="<during2@customer.test>"))
        imap_server.start()
        await collector.wait_for(
            lambda: [e for e in collector.of(BackendStatus) if e.state is LinkState.CONNECTED], timeout=15
        )
        await collector.wait_for(lambda: len(collector.messages()) >= 3)
        imap_server.deliver(mail("After", message_id="<after@customer.test>"))
        await collector.wait_for(lambda: len(collector.messages()) >= 4)
        await asyncio.sleep(1.0)  # anything announced twice would show up by now

        ids = [m.message.email.message_id for m in collector.messages() if m.message.email]
        assert sorted(ids) == sorted(
            [
                "<before@customer.test>",
                "<during1@customer.test>",
                "<during2@customer.test>",
                "<after@customer.test>",
            ]
        )
        states = [e.state for e in collector.of(BackendStatus)]
        assert states[:1] == [LinkState.DOWN] and LinkState.CONNECTED in states
    finally:
        await collector.stop()
        await backend.close()


async def test_polling_when_the_server_has_no_idle(smtp_server: SmtpServer, tmp_path: Path) -> None:
    with running_imap(tmp_path / "imap", idle=False) as server:
        backend = make_backend(server, smtp_server, tmp_path / "data", poll_seconds=0.5)
        await backend.connect()
        await backend.snapshot()
        collector = Collector(backend)
        try:
            await collector.ready()
            assert backend.watcher is not None and backend.watcher.mode == "poll"
            started = time.monotonic()
            server.deliver(mail("Polled", "found by NOOP", message_id="<poll@customer.test>"))
            added = await collector.wait_for(lambda: collector.messages(), timeout=5)
            assert time.monotonic() - started < 3.0
            assert added[0].message.body == "found by NOOP"
        finally:
            await collector.stop()
            await backend.close()


async def test_idle_can_be_turned_off(
    imap_server: ImapServer, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    backend = make_backend(imap_server, smtp_server, tmp_path / "data", idle=False, poll_seconds=0.5)
    await backend.connect()
    await backend.snapshot()
    collector = Collector(backend)
    try:
        await collector.ready()
        assert backend.watcher is not None and backend.watcher.mode == "poll"
        imap_server.deliver(mail("Polled anyway", message_id="<p@customer.test>"))
        await collector.wait_for(lambda: collector.messages(), timeout=5)
    finally:
        await collector.stop()
        await backend.close()


async def test_flag_changes_and_expunges_by_another_client_show_up(
    imap_server: ImapServer, watching: Collector
) -> None:
    uid = imap_server.deliver(mail("Read me", message_id="<read@customer.test>"))
    added = await watching.wait_for(lambda: watching.messages())
    conversation_id = added[0].message.conversation_id

    with imap_server.session() as colleague:
        colleague.select_folder("INBOX")
        colleague.add_flags([uid], [b"\\Seen"])
    await watching.wait_for(
        lambda: [
            e
            for e in watching.of(ConversationUpserted)
            if e.conversation.id == conversation_id and e.conversation.unread == 0
        ]
    )

    with imap_server.session() as colleague:
        colleague.select_folder("INBOX")
        colleague.delete_messages([uid])
        colleague.expunge()
    await watching.wait_for(
        lambda: [e for e in watching.of(ConversationRemoved) if e.conversation_id == conversation_id]
    )


async def test_marks_live_in_the_local_table_when_the_server_takes_no_keywords(
    imap_server: ImapServer, smtp_server: SmtpServer, tmp_path: Path, watching: Collector
) -> None:
    alice = watching.backend
    assert not alice.keywords  # pymap's PERMANENTFLAGS has no \*
    imap_server.deliver(mail("Damaged item", message_id="<d1@customer.test>"))
    added = await watching.wait_for(lambda: watching.messages())
    conversation_id = added[0].message.conversation_id

    claimed = await alice.perform(Claim(conversation_id=conversation_id))
    assert claimed.conversation is not None
    assert (claimed.conversation.assignee, claimed.conversation.state) == ("alice", State.OPEN)

    # Bob runs a second console on this machine, sharing the data directory: he sees the claim.
    bob = make_backend(imap_server, smtp_server, tmp_path / "data", agent="bob")
    await bob.connect()
    try:
        snapshot = await bob.snapshot()
        assert snapshot.conversations[0].assignee == "alice"
        with pytest.raises(Conflict) as conflict:
            await bob.perform(Claim(conversation_id=conversation_id))
        assert conflict.value.owner == "alice"
    finally:
        await bob.close()

    tagged = await alice.perform(Tags(conversation_id=conversation_id, add=("Refund", "vip")))
    assert tagged.conversation is not None and tagged.conversation.tags == ("refund", "vip")
    solved = await alice.perform(SetStatus(conversation_id=conversation_id, state=State.SOLVED))
    assert solved.conversation is not None and solved.conversation.state is State.SOLVED
    assert imap_server.flags() == {1: set()}  # nothing of ours went to the server

    # The customer writes again: the solved thread is open again.
    imap_server.deliver(
        mail(
            "Re: Damaged item",
            "One more thing",
            message_id="<d2@customer.test>",
            references="<d1@customer.test>",
        )
    )
    reopened = await watching.wait_for(
        lambda: [
            e.conversation
            for e in watching.of(ConversationUpserted)
            if e.conversation.id == conversation_id and e.conversation.state is State.OPEN
        ]
    )
    assert reopened[-1].tags == ("refund", "vip") and reopened[-1].assignee == "alice"


async def test_notes_stay_local(imap_server: ImapServer, backend: ImapBackend) -> None:
    imap_server.deliver(mail("Note me", message_id="<n1@customer.test>"))
    conversation = (await backend.snapshot()).conversations[0]
    result = await backend.perform(
        Note(conversation_id=conversation.id, body="Called the carrier", key="note-1")
    )
    again = await backend.perform(
        Note(conversation_id=conversation.id, body="Called the carrier", key="note-1")
    )
    assert result.message is not None and again.message is not None and result.message.id == again.message.id
    history = await backend.history(conversation.id)
    assert [(m.direction, m.body) for m in history] == [
        (Direction.INBOUND, "Hello"),
        (Direction.NOTE, "Called the carrier"),
    ]
    assert len(imap_server.messages("INBOX")) == 1 and imap_server.messages("Sent") == []


async def test_attachments_are_listed_and_fetched_on_demand(
    imap_server: ImapServer, backend: ImapBackend
) -> None:
    raw = (
        b"From: ann@customer.test\r\nTo: support@shop.test\r\nSubject: Photo\r\nMessage-ID: <ph@customer.test>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n"
        b"--XX\r\nContent-Type: text/plain\r\n\r\nSee the photo\r\n"
        b"--XX\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgoAAAANSUhEUg==\r\n"
        b"--XX--\r\n"
    )
    imap_server.deliver(raw)
    conversation = (await backend.snapshot()).conversations[0]
    history = await backend.history(conversation.id)
    assert history[0].body == "See the photo"
    (attachment,) = history[0].attachments
    assert attachment.filename == "attachment-2.png"  # it had no name
    assert attachment.content_type == "image/png"
    data = await backend.attachment(conversation.id, attachment)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert attachment.size == len(data)
