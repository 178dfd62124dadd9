"""The outbox: journalled before sent, retried with backoff, failures kept, undo, and "sent once" across
real processes killed with SIGKILL at the worst moments, against a real local workspace file.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from outbox_child import Child
from standardiste.backends.base import (
    Command,
    CommandResult,
    Invalid,
    Note,
    RateLimited,
    Reply,
    SetStatus,
    Unavailable,
)
from standardiste.backends.local.backend import LocalBackend
from standardiste.backends.local.workspace import Workspace
from standardiste.console.core.command_codec import CodecError
from standardiste.console.core.model import Channel, Customer, Direction, State
from standardiste.console.core.outbox import EntryState, Outbox, OutboxEntry

AGENT = "agent-7"
WAIT = 15.0  # generous on a loaded 2-core machine; the outbox itself answers in milliseconds


@pytest.fixture
def outbox_path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.db"


@pytest.fixture
def conversation(workspace_path: Path) -> str:
    ws = Workspace(workspace_path)
    try:
        row = ws.create_conversation(
            channel=Channel.EMAIL,
            customer=Customer("cust-1", "Ana Lima", email="ana@example.com"),
            subject="Where is my parcel?",
        )
        ws.add_message(row, direction=Direction.INBOUND, body="Where is my parcel?", author="cust-1")
    finally:
        ws.close()
    return f"local:{row}"


@pytest.fixture
async def backend(workspace_path: Path, conversation: str) -> AsyncIterator[LocalBackend]:
    local = LocalBackend(workspace_path, agent_id=AGENT, poll_interval=60.0)
    await local.connect()
    yield local
    await local.close()


def outbound_rows(workspace_path: Path, conversation_id: str) -> list[str]:
    db = sqlite3.connect(workspace_path)
    try:
        rows = db.execute(
            "SELECT body FROM messages WHERE conversation_id = ? AND direction = ? ORDER BY id",
            (int(conversation_id.split(":")[1]), Direction.OUTBOUND.value),
        ).fetchall()
    finally:
        db.close()
    return [r[0] for r in rows]


def here(command: Command) -> str:
    """Every command of these tests is for one workspace (the cross-workspace cases are in test_outbox_workspace)."""
    return "local:test-workspace"


def journal_row(outbox_path: Path, entry_id: int) -> tuple[str, int, str, str]:
    """(state, attempts, key, error) as a separate reader of the journal file sees them."""
    db = sqlite3.connect(outbox_path)
    try:
        row = db.execute(
            "SELECT state, attempts, key, error FROM entries WHERE id = ?", (entry_id,)
        ).fetchone()
    finally:
        db.close()
    assert row is not None, f"entry {entry_id} is not in the journal"
    return row


class Recorder:
    """A `send` that fails as scripted, then performs on the backend; remembers every attempt."""

    def __init__(self, backend: LocalBackend | None, *failures: Exception) -> None:
        self.backend = backend
        self.failures = list(failures)
        self.calls: list[tuple[float, Command]] = []  # (monotonic time, command)
        self.wall: list[float] = []  # wall-clock times, to compare with an entry's due_at

    async def __call__(self, command: Command) -> CommandResult:
        self.calls.append((time.monotonic(), command))
        self.wall.append(time.time())
        if self.failures:
            raise self.failures.pop(0)
        if self.backend is None:
            return CommandResult(True, detail=f"ok {command.kind.value}")
        return await self.backend.perform(command)


# ---------------------------------------------------------------------------------------------- in process


async def test_journalled_before_sent_then_done(
    outbox_path: Path, backend: LocalBackend, conversation: str, workspace_path: Path
) -> None:
    seen_on_disk: list[tuple[str, int, str, str]] = []
    outcomes: list[tuple[OutboxEntry, object]] = []
    entry_ids: list[int] = []

    async def send(command: Command) -> CommandResult:
        # Read by another connection, as a restarted process would: the attempt is already committed.
        seen_on_disk.append(journal_row(outbox_path, entry_ids[0]))
        return await backend.perform(command)

    async with Outbox(
        outbox_path, send, where=here, on_outcome=lambda e, r: outcomes.append((e, r))
    ) as outbox:
        entry_ids.append(await outbox.submit(Reply(conversation_id=conversation, body="It left today.")))
        key = journal_row(outbox_path, entry_ids[0])[2]
        assert len(key) == 32 and int(key, 16) >= 0  # uuid4 hex
        done = await outbox.wait(entry_ids[0], timeout=WAIT)

    assert seen_on_disk == [("sending", 1, key, "")]
    assert done.state is EntryState.DONE and done.attempts == 1 and done.key == key
    assert outbound_rows(workspace_path, conversation) == ["It left today."]
    [(entry, result)] = outcomes
    assert entry.state is EntryState.DONE
    assert isinstance(result, CommandResult) and result.message is not None
    assert result.message.body == "It left today."
    assert journal_row(outbox_path, entry_ids[0])[:2] == ("done", 1)


async def test_backoff_on_unavailable_then_success(
    outbox_path: Path, backend: LocalBackend, conversation: str, workspace_path: Path
) -> None:
    send = Recorder(backend, Unavailable("connection refused"), Unavailable("connection reset"))
    changes: list[OutboxEntry] = []
    async with Outbox(outbox_path, send, where=here, base_delay=0.1, on_change=changes.append) as outbox:
        entry_id = await outbox.submit(Note(conversation_id=conversation, body="customer called twice"))
        done = await outbox.wait(entry_id, timeout=WAIT)

    assert done.state is EntryState.DONE and done.attempts == 3 and done.error == ""
    times = [t for t, _ in send.calls]
    # Equal jitter: attempt n waits between half and all of base * 2^(n-1).
    assert 0.05 <= times[1] - times[0] < 0.1 + 0.5
    assert 0.1 <= times[2] - times[1] < 0.2 + 0.5
    assert len({c.key for _, c in send.calls}) == 1  # every attempt with the same key
    retrying = [c for c in changes if c.state is EntryState.RETRYING]
    assert [c.error for c in retrying] == ["Unavailable: connection refused", "Unavailable: connection reset"]
    db = sqlite3.connect(workspace_path)
    try:
        notes = db.execute("SELECT COUNT(*) FROM messages WHERE direction = 'note'").fetchone()[0]
    finally:
        db.close()
    assert notes == 1


async def test_rate_limited_waits_at_least_retry_after(outbox_path: Path) -> None:
    send = Recorder(None, RateLimited("slow down", retry_after=0.4))
    async with Outbox(outbox_path, send, where=here, base_delay=0.01) as outbox:
        entry_id = await outbox.submit(SetStatus(conversation_id="x:1", state=State.SOLVED))
        done = await outbox.wait(entry_id, timeout=WAIT)
    assert done.state is EntryState.DONE and done.detail == "ok set_status"
    assert send.calls[1][0] - send.calls[0][0] >= 0.4


def test_backoff_is_exponential_capped_and_jittered(outbox_path: Path) -> None:
    outbox = Outbox(outbox_path, Recorder(None), where=here, base_delay=0.5, max_delay=8.0)
    for attempts, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (5, 8.0), (30, 8.0)]:
        delays = [outbox.backoff(attempts, Unavailable("down")) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 100  # jittered, not a constant
    assert 30.0 <= outbox.backoff(1, RateLimited("later", retry_after=30.0)) <= 33.0


async def test_permanent_failure_is_kept_until_dismissed(
    outbox_path: Path, backend: LocalBackend, conversation: str, workspace_path: Path
) -> None:
    send = Recorder(backend)
    outcomes: list[tuple[OutboxEntry, object]] = []
    async with Outbox(
        outbox_path, send, where=here, on_outcome=lambda e, r: outcomes.append((e, r))
    ) as outbox:
        # The local workspace refuses an empty reply with Invalid: a permanent error, not retried.
        entry_id = await outbox.submit(Reply(conversation_id=conversation, body="   "))
        failed = await outbox.wait(entry_id, timeout=WAIT)
        assert failed.state is EntryState.FAILED
        assert failed.error == "Invalid: an empty reply is not sent"
        assert len(send.calls) == 1
        assert [e.id for e in outbox.pending()] == [entry_id]
        [(entry, error)] = outcomes
        assert entry.id == entry_id and isinstance(error, Invalid)

    # Still listed after a restart: nothing is lost until the agent dismisses it.
    async with Outbox(outbox_path, send, where=here) as outbox:
        [listed] = outbox.pending()
        assert listed.id == entry_id and listed.state is EntryState.FAILED and listed.error == failed.error
        await asyncio.sleep(0.2)
        assert len(send.calls) == 1  # a failed entry is not resent by itself
        assert outbox.cancel(entry_id) is False
        assert await outbox.dismiss(entry_id) is True
        assert outbox.pending() == []
        assert await outbox.dismiss(entry_id) is False
    assert journal_row(outbox_path, entry_id)[0] == "dismissed"
    assert outbound_rows(workspace_path, conversation) == []


async def test_retry_of_a_failed_entry_keeps_its_key(outbox_path: Path) -> None:
    send = Recorder(None, Invalid("conversation is locked"))
    async with Outbox(outbox_path, send, where=here) as outbox:
        entry_id = await outbox.submit(Note(conversation_id="x:1", body="n"))
        assert (await outbox.wait(entry_id, timeout=WAIT)).state is EntryState.FAILED
        assert await outbox.retry(entry_id) is True
        done = await outbox.wait(entry_id, timeout=WAIT)
    assert done.state is EntryState.DONE and done.attempts == 2
    assert send.calls[0][1].key == send.calls[1][1].key


async def test_retryable_errors_give_up_after_max_attempts(outbox_path: Path) -> None:
    send = Recorder(None, *(ConnectionResetError("peer reset") for _ in range(3)))
    async with Outbox(outbox_path, send, where=here, base_delay=0.01, max_attempts=3) as outbox:
        entry_id = await outbox.submit(Note(conversation_id="x:1", body="n"))
        failed = await outbox.wait(entry_id, timeout=WAIT)
    assert failed.state is EntryState.FAILED and len(send.calls) == 3
    assert failed.error == "gave up after 3 attempts: ConnectionResetError: peer reset"


async def test_cancel_in_the_undo_window_sends_nothing(
    outbox_path: Path, backend: LocalBackend, conversation: str, workspace_path: Path
) -> None:
    send = Recorder(backend)
    changes: list[OutboxEntry] = []
    async with Outbox(outbox_path, send, where=here, on_change=changes.append) as outbox:
        entry_id = await outbox.submit(
            Reply(conversation_id=conversation, body="Oops, wrong customer"), delay=0.3
        )
        entry = outbox.get(entry_id)
        assert entry is not None and entry.state is EntryState.SCHEDULED and entry.cancellable
        assert outbox.cancel(entry_id) is True
        assert outbox.cancel(entry_id) is False
        assert outbox.pending() == []
        cancelled = await outbox.wait(entry_id, timeout=WAIT)
        assert cancelled.state is EntryState.CANCELLED
        await asyncio.sleep(0.5)  # past the window: nothing goes out
        # An entry that went out cannot be undone.
        sent_id = await outbox.submit(Reply(conversation_id=conversation, body="Right customer"))
        await outbox.wait(sent_id, timeout=WAIT)
        assert outbox.cancel(sent_id) is False
    assert [getattr(c, "body", None) for _, c in send.calls] == ["Right customer"]
    assert outbound_rows(workspace_path, conversation) == ["Right customer"]
    assert journal_row(outbox_path, entry_id)[0] == "cancelled"
    assert [c.state for c in changes if c.id == entry_id] == [EntryState.SCHEDULED, EntryState.CANCELLED]


async def test_undo_window_survives_a_restart_and_can_still_be_cancelled(
    outbox_path: Path, backend: LocalBackend, conversation: str, workspace_path: Path
) -> None:
    send = Recorder(backend)
    async with Outbox(outbox_path, send, where=here) as outbox:
        keep = await outbox.submit(Reply(conversation_id=conversation, body="kept"), delay=0.6)
        undo = await outbox.submit(Reply(conversation_id=conversation, body="undone"), delay=0.6)
    async with Outbox(outbox_path, send, where=here) as outbox:
        assert [(e.id, e.state) for e in outbox.pending()] == [
            (keep, EntryState.SCHEDULED),
            (undo, EntryState.SCHEDULED),
        ]
        assert outbox.cancel(undo) is True
        kept = await outbox.wait(keep, timeout=WAIT)
        assert kept.state is EntryState.DONE
        assert send.wall[0] >= kept.due_at  # sent once its time came, not before
    assert outbound_rows(workspace_path, conversation) == ["kept"]
    assert [getattr(c, "body", None) for _, c in send.calls] == ["kept"]


async def test_order_within_a_conversation_and_parallel_across(outbox_path: Path) -> None:
    gate = asyncio.Event()
    order: list[str] = []

    async def send(command: Command) -> CommandResult:
        label = getattr(command, "body", "")
        order.append(f"start {label}")
        if label == "a1":
            await gate.wait()
        order.append(f"end {label}")
        return CommandResult(True)

    async with Outbox(outbox_path, send, where=here) as outbox:
        a1 = await outbox.submit(Note(conversation_id="x:a", body="a1"))
        a2 = await outbox.submit(Note(conversation_id="x:a", body="a2"))
        b1 = await outbox.submit(Note(conversation_id="x:b", body="b1"))
        held = await outbox.submit(Note(conversation_id="x:c", body="c-held"), delay=0.3)
        c2 = await outbox.submit(Note(conversation_id="x:c", body="c-now"))
        await outbox.wait(b1, timeout=WAIT)
        await outbox.wait(c2, timeout=WAIT)
        assert "start a2" not in order  # a2 waits for a1 of the same conversation
        gate.set()
        for entry_id in (a1, a2, held):
            await outbox.wait(entry_id, timeout=WAIT)
    assert order.index("end a1") < order.index("start a2")
    assert order.index("end b1") < order.index("end a1")  # another conversation was not held up
    assert order.index("end c-now") < order.index("start c-held")  # the undo window holds only its entry


async def test_one_journal_two_consoles_one_delivers(outbox_path: Path) -> None:
    """The second outbox on a journal journals but does not deliver; it takes over when the first closes."""
    first_sent, second_sent = Recorder(None), Recorder(None)
    serving = lambda: {"local:test-workspace"}  # noqa: E731 - both consoles have it open (see `here`)
    first = Outbox(outbox_path, first_sent, where=here, poll_every=0.05, serving=serving)
    outcomes: list[tuple[OutboxEntry, object]] = []
    second = Outbox(
        outbox_path,
        second_sent,
        where=here,
        poll_every=0.05,
        serving=serving,
        on_outcome=lambda e, r: outcomes.append((e, r)),
    )
    await first.start()
    await second.start()
    try:
        assert first.owner and not second.owner  # the first claimed the workspace
        entry_id = await second.submit(Reply(conversation_id="local:1", body="from the second"), delay=0.3)
        done = await first.wait(entry_id, timeout=WAIT)  # picked up from the file by the owner
        assert done.state is EntryState.DONE
        assert [c.body for _, c in first_sent.calls] == ["from the second"] and second_sent.calls == []
        # The console that journalled it hears how it ended, as if it had sent it ("Sent").
        assert (await second.wait(entry_id, timeout=WAIT)).state is EntryState.DONE
        assert [(e.id, getattr(r, "ok", None)) for e, r in outcomes] == [(entry_id, True)]
        held = await second.submit(Reply(conversation_id="local:2", body="held"), delay=30)
        undone = await second.submit(Reply(conversation_id="local:3", body="undone"), delay=30)
        assert await second.withdraw(undone, held_only=True)  # undo in the console that does not deliver
        await asyncio.sleep(0.3)
        assert [e.id for e in first.pending()] == [held]  # the owner saw the withdrawal
        await first.close()
        await asyncio.sleep(0.3)
        assert second.owner  # took over within a few polls
        assert await second.retry_now(held)
        assert (await second.wait(held, timeout=WAIT)).state is EntryState.DONE
        assert [c.body for _, c in second_sent.calls] == ["held"]
        assert [c.body for _, c in first_sent.calls] == ["from the second"]  # nothing twice, nothing undone
    finally:
        await first.close()
        await second.close()


async def test_submit_is_idempotent_by_key_and_refuses_bad_commands(outbox_path: Path) -> None:
    send = Recorder(None)
    async with Outbox(outbox_path, send, where=here) as outbox:
        first = await outbox.submit(Note(conversation_id="x:1", body="n", key="my-key"), delay=0.2)
        again = await outbox.submit(Note(conversation_id="x:1", body="n", key="my-key"), delay=0.2)
        assert first == again and len(outbox.pending()) == 1
        with pytest.raises(CodecError):
            await outbox.submit(Reply(conversation_id="x:1", body="b", to=["not-a-tuple"]))  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await outbox.submit(Note(conversation_id="x:1", body="n"), delay=-1)
        await outbox.wait(first, timeout=WAIT)
    assert [c.key for _, c in send.calls] == ["my-key"]
    db = sqlite3.connect(outbox_path)
    try:
        assert db.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 1
    finally:
        db.close()


async def test_close_during_a_hanging_send_resends_after_restart(outbox_path: Path) -> None:
    keys: list[str] = []

    async def hang(command: Command) -> CommandResult:
        keys.append(command.key)
        await asyncio.sleep(60)
        raise AssertionError("not reached")

    outbox = Outbox(outbox_path, hang, where=here)
    await outbox.start()
    entry_id = await outbox.submit(Note(conversation_id="x:1", body="n"))
    while not keys:
        await asyncio.sleep(0.01)
    started = time.monotonic()
    await outbox.close(grace=0.1)
    assert time.monotonic() - started < 2
    assert journal_row(outbox_path, entry_id)[:2] == ("sending", 1)

    send = Recorder(None)
    async with Outbox(outbox_path, send, where=here) as outbox:
        [entry] = outbox.pending()
        assert entry.state is EntryState.SENDING and not entry.cancellable
        assert outbox.cancel(entry_id) is False  # it may have reached the backend
        done = await outbox.wait(entry_id, timeout=WAIT)
    assert done.state is EntryState.DONE and done.attempts == 2
    assert [c.key for _, c in send.calls] == keys


# ---------------------------------------------------------------------------------------------- killed


async def _restart_and_finish(
    outbox_path: Path, backend: LocalBackend, entry_id: int, key: str
) -> tuple[OutboxEntry, list[Command]]:
    send = Recorder(backend)
    async with Outbox(outbox_path, send, where=lambda command: backend.workspace_id) as outbox:
        done = await outbox.wait(entry_id, timeout=WAIT)
    assert [c.key for _, c in send.calls] == [key]
    return done, [c for _, c in send.calls]


def _spawn(
    outbox_path: Path, workspace_path: Path, conversation: str, stage: str, delay: float = 0.0
) -> Child:
    return Child("reply", str(outbox_path), str(workspace_path), conversation, AGENT, stage, repr(delay))


async def test_killed_after_the_backend_applied_it_is_not_sent_twice(
    outbox_path: Path, workspace_path: Path, conversation: str, backend: LocalBackend
) -> None:
    with _spawn(outbox_path, workspace_path, conversation, "after-apply") as child:
        _, entry_id, key, _ = child.expect("SUBMITTED").split()
        assert child.expect("APPLIED") == f"APPLIED {key}"
        assert child.kill() == -signal.SIGKILL
    # The backend has it, the journal does not know: exactly the window "sent once" is about.
    assert outbound_rows(workspace_path, conversation) == ["Your parcel left the warehouse this morning."]
    assert journal_row(outbox_path, int(entry_id))[:3] == ("sending", 1, key)

    done, _ = await _restart_and_finish(outbox_path, backend, int(entry_id), key)
    assert done.state is EntryState.DONE and done.attempts == 2
    assert done.detail == "already done"  # the workspace recognised the key and did not apply it again
    assert outbound_rows(workspace_path, conversation) == ["Your parcel left the warehouse this morning."]
    assert journal_row(outbox_path, int(entry_id))[:2] == ("done", 2)


async def test_killed_before_the_backend_applied_it_is_not_lost(
    outbox_path: Path, workspace_path: Path, conversation: str, backend: LocalBackend
) -> None:
    with _spawn(outbox_path, workspace_path, conversation, "before-apply") as child:
        _, entry_id, key, _ = child.expect("SUBMITTED").split()
        assert child.expect("SENDING") == f"SENDING {key}"
        assert child.kill() == -signal.SIGKILL
    assert outbound_rows(workspace_path, conversation) == []
    assert journal_row(outbox_path, int(entry_id))[:3] == ("sending", 1, key)

    done, _ = await _restart_and_finish(outbox_path, backend, int(entry_id), key)
    assert done.state is EntryState.DONE and done.attempts == 2 and done.detail != "already done"
    assert outbound_rows(workspace_path, conversation) == ["Your parcel left the warehouse this morning."]


async def test_killed_in_the_undo_window_is_sent_when_its_time_comes(
    outbox_path: Path, workspace_path: Path, conversation: str, backend: LocalBackend
) -> None:
    with _spawn(outbox_path, workspace_path, conversation, "journalled", delay=1.0) as child:
        _, entry_id, key, due_at = child.expect("SUBMITTED").split()
        assert child.kill() == -signal.SIGKILL

    sent_at: list[float] = []
    send = Recorder(backend)

    async def timed(command: Command) -> CommandResult:
        sent_at.append(time.time())
        return await send(command)

    async with Outbox(outbox_path, timed, where=lambda command: backend.workspace_id) as outbox:
        [entry] = outbox.pending()
        assert (entry.id, entry.key, entry.state) == (int(entry_id), key, EntryState.SCHEDULED)
        assert entry.due_at == float(due_at)
        assert outbound_rows(workspace_path, conversation) == []
        done = await outbox.wait(int(entry_id), timeout=WAIT)
    assert done.state is EntryState.DONE and done.attempts == 1
    assert sent_at[0] >= float(due_at)  # not before the end of the undo window
    assert [c.key for _, c in send.calls] == [key]
    assert outbound_rows(workspace_path, conversation) == ["Your parcel left the warehouse this morning."]


async def test_two_consoles_on_different_workspaces_each_deliver_their_own(outbox_path: Path) -> None:
    """One agent, one journal, two workspaces open in two consoles: neither waits for the other."""
    sent_a, sent_b = Recorder(None), Recorder(None)
    a = Outbox(outbox_path, sent_a, where=lambda c: "local:A", poll_every=0.05, serving=lambda: {"local:A"})
    b = Outbox(outbox_path, sent_b, where=lambda c: "local:B", poll_every=0.05, serving=lambda: {"local:B"})
    await a.start()
    await b.start()
    try:
        in_a = await a.submit(Reply(conversation_id="local:1", body="for A"))
        in_b = await b.submit(Reply(conversation_id="local:1", body="for B"))
        assert (await a.wait(in_a, timeout=WAIT)).state is EntryState.DONE
        assert (await b.wait(in_b, timeout=WAIT)).state is EntryState.DONE
        assert [c.body for _, c in sent_a.calls] == ["for A"] and [c.body for _, c in sent_b.calls] == [
            "for B"
        ]
    finally:
        await a.close()
        await b.close()
