"""Against Dovecot, which takes new keywords (PERMANENTFLAGS \\*) and offers CONDSTORE: marks shared by every
agent on the mailbox, from any machine, and flag changes found by MODSEQ after a reconnect.

Needs Debian's dovecot-imapd (the CI installs it); skipped with that reason where it is missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from mailservers import Collector, DovecotServer, dovecot_binary, mail, make_backend, running_dovecot
from standardiste.backends.base import (
    BackendStatus,
    Claim,
    Conflict,
    ConversationUpserted,
    LinkState,
    Release,
    SetStatus,
    Tags,
)
from standardiste.backends.imap import ImapBackend
from standardiste.console.core.model import State

pytestmark = pytest.mark.skipif(
    dovecot_binary() is None, reason="dovecot is not installed (Debian: apt-get install dovecot-imapd)"
)


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    with running_dovecot() as server:
        yield server


@pytest.fixture
async def alice(dovecot: DovecotServer, tmp_path: Path) -> AsyncIterator[ImapBackend]:
    backend = make_backend(dovecot, None, tmp_path / "alice", agent="alice")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


@pytest.fixture
async def bob(dovecot: DovecotServer, tmp_path: Path) -> AsyncIterator[ImapBackend]:
    """Another agent on another machine: his own data directory, the same mailbox."""
    backend = make_backend(dovecot, None, tmp_path / "bob", agent="bob")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


def latest(collector: Collector, conversation_id: str) -> list[object]:
    return [
        e.conversation for e in collector.of(ConversationUpserted) if e.conversation.id == conversation_id
    ]


async def test_marks_are_keywords_every_agent_sees(
    dovecot: DovecotServer, alice: ImapBackend, bob: ImapBackend
) -> None:
    dovecot.deliver(mail("Broken zip", message_id="<z1@customer.test>"))
    conversation_id = (await alice.snapshot()).conversations[0].id
    assert alice.keywords and bob.keywords
    await bob.snapshot()
    bob_sees = Collector(bob)
    try:
        await bob_sees.ready()
        claimed = await alice.perform(Claim(conversation_id=conversation_id))
        assert claimed.conversation is not None and claimed.conversation.assignee == "alice"
        assert dovecot.flags() == {1: {"std.agent.alice", "std.status.open"}}

        # Bob's console learns it from the server (IDLE), not from a shared file.
        await bob_sees.wait_for(
            lambda: [c for c in latest(bob_sees, conversation_id) if c.assignee == "alice"]  # type: ignore[attr-defined]
        )
        with pytest.raises(Conflict) as conflict:
            await bob.perform(Claim(conversation_id=conversation_id))
        assert conflict.value.owner == "alice"
        with pytest.raises(Conflict):
            await bob.perform(Release(conversation_id=conversation_id))

        await alice.perform(Tags(conversation_id=conversation_id, add=("Refund", "Größe")))
        await alice.perform(SetStatus(conversation_id=conversation_id, state=State.PENDING))
        flags = dovecot.flags()[1]
        assert {"std.tag.refund", "std.tag.gr=C3=B6=C3=9Fe", "std.status.pending", "std.agent.alice"} <= flags
        assert "std.status.open" not in flags
        await bob_sees.wait_for(
            lambda: [
                c
                for c in latest(bob_sees, conversation_id)
                if c.state is State.PENDING and set(c.tags) == {"refund", "größe"}  # type: ignore[attr-defined]
            ]
        )

        # The customer answers: both consoles see the pending thread open again, marks kept.
        dovecot.deliver(
            mail(
                "Re: Broken zip",
                "Any news?",
                message_id="<z2@customer.test>",
                references="<z1@customer.test>",
            )
        )
        reopened = await bob_sees.wait_for(
            lambda: [c for c in latest(bob_sees, conversation_id) if c.state is State.OPEN]  # type: ignore[attr-defined]
        )
        assert reopened[-1].assignee == "alice"  # type: ignore[attr-defined]
        snapshot = await alice.snapshot()
        assert snapshot.conversations[0].state is State.OPEN

        # Writing any mark makes the reopening stick: the new message gets the keywords too.
        await alice.perform(Tags(conversation_id=conversation_id, add=("urgent",)))
        assert dovecot.flags()[2] >= {"std.status.open", "std.agent.alice", "std.tag.urgent"}
    finally:
        await bob_sees.stop()


async def test_two_agents_claiming_at_once_get_one_winner(
    dovecot: DovecotServer, alice: ImapBackend, bob: ImapBackend
) -> None:
    for n in range(5):
        dovecot.deliver(mail(f"Race {n}", message_id=f"<race{n}@customer.test>"))
    conversations = (await alice.snapshot()).conversations
    await bob.snapshot()
    for conversation in conversations:
        results = await asyncio.gather(
            alice.perform(Claim(conversation_id=conversation.id)),
            bob.perform(Claim(conversation_id=conversation.id)),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1, results
        assert len(losers) == 1 and isinstance(losers[0], Conflict), results
        owner = winners[0].conversation.assignee  # type: ignore[union-attr]
        assert losers[0].owner == owner
    agents = [{f for f in flags if f.startswith("std.agent.")} for flags in dovecot.flags().values()]
    assert all(len(a) == 1 for a in agents), agents


async def test_condstore_finds_flag_changes_made_while_away(dovecot: DovecotServer, tmp_path: Path) -> None:
    for n in range(3):
        dovecot.deliver(mail(f"Question {n}", message_id=f"<c{n}@customer.test>"))
    first = make_backend(dovecot, None, tmp_path / "alice")
    await first.connect()
    snapshot = await first.snapshot()
    assert all(c.unread == 1 for c in snapshot.conversations)
    state = await first.db.run(first.index.folder_state, "inbox")
    assert state is not None and state.highestmodseq is not None
    await first.close()

    with dovecot.session() as colleague:
        colleague.select_folder("INBOX")
        colleague.add_flags([2], [b"\\Seen"])
        colleague.add_flags([3], [b"std.agent.carol"])

    again = make_backend(dovecot, None, tmp_path / "alice")
    await again.connect()
    try:
        conversations = {c.subject: c for c in (await again.snapshot()).conversations}
        assert [conversations[f"Question {n}"].unread for n in range(3)] == [1, 0, 1]
        assert conversations["Question 2"].assignee == "carol"
        after = await again.db.run(again.index.folder_state, "inbox")
        assert (
            after is not None
            and after.highestmodseq is not None
            and after.highestmodseq > state.highestmodseq
        )
    finally:
        await again.close()


async def test_dropped_connections_catch_up_without_loss_or_duplicates(
    dovecot: DovecotServer, tmp_path: Path
) -> None:
    backend = make_backend(dovecot, None, tmp_path / "alice")
    await backend.connect()
    await backend.snapshot()
    backend._retry = (4.0, 8.0)  # the first retry is 2-4 s away: the mail below arrives in that gap
    collector = Collector(backend)
    try:
        await collector.ready()
        dovecot.deliver(mail("One", message_id="<d1@customer.test>"))
        await collector.wait_for(lambda: len(collector.messages()) == 1)
        dovecot.kick()
        down = await collector.wait_for(
            lambda: [e for e in collector.of(BackendStatus) if e.state is LinkState.DOWN]
        )
        assert "closed the connection" in down[0].detail
        dovecot.deliver(mail("Two", message_id="<d2@customer.test>"))
        dovecot.deliver(mail("Three", message_id="<d3@customer.test>"))
        assert backend.watcher is not None and not backend.watcher.ready.is_set()
        await collector.wait_for(lambda: len(collector.messages()) >= 3, timeout=15)
        await asyncio.sleep(1.0)  # a duplicate would have arrived by now
        assert [m.message.email.message_id for m in collector.messages() if m.message.email] == [
            "<d1@customer.test>",
            "<d2@customer.test>",
            "<d3@customer.test>",
        ]
    finally:
        await collector.stop()
        await backend.close()
