"""The Asterisk adapter's pieces that need no Asterisk: leg ids, the local file, the caller id shown on an
agent's phone (the caller's own text, so nothing that would break the header)."""

from __future__ import annotations

from pathlib import Path

from standardiste.backends.asterisk.calls import Call, leg_of
from standardiste.backends.asterisk.local_state import LocalState
from standardiste.backends.asterisk.state import caller_id
from standardiste.console.core.model import Channel, Conversation, Direction, Message, State, WrapUpRecord


def conversation(**changes: object) -> Conversation:
    base = Conversation(
        id="pbx:1733.5",
        channel=Channel.PHONE,
        state=State.RINGING,
        subject="Call from Ann +33123",
        customer_id="pbx:tel:+33123",
        customer_name="Ann",
        language="fr",
        created_at=10.0,
        updated_at=10.0,
        tags=("vip",),
    )
    return base.evolve(**changes)


def test_a_legs_id_names_its_call() -> None:
    assert leg_of("1733.5-agent2") == ("1733.5", "agent")
    assert leg_of("cb-1733.5-call1-dial") == ("cb-1733.5-call1", "dial")
    assert leg_of("cb-1733.5-call1-agent10") == ("cb-1733.5-call1", "agent")
    assert leg_of("1733.5") is None and leg_of("1733.5-agent") is None and leg_of("x-dialx") is None
    call = Call("1733.5", conversation())
    assert [call.next_leg(), call.next_leg()] == ["1733.5-agent1", "1733.5-agent2"]


def test_the_local_file_keeps_calls_messages_wrapups_and_keys(tmp_path: Path) -> None:
    state = LocalState(tmp_path / "a" / "state.sqlite")
    ringing = conversation(version=3)
    ended = conversation(id="pbx:1733.6", state=State.ABANDONED, closed_at=20.0, updated_at=20.0, version=4)
    state.save([ringing, ended])
    assert state.conversation(ringing.id) == ringing
    assert [c.id for c in state.conversations(since=30.0)] == [ringing.id]  # closed before: left out
    assert {c.id for c in state.conversations(since=0.0)} == {ringing.id, ended.id}
    assert state.last_version() == 4
    note = Message("pbx:1733.5:note-k", ringing.id, Direction.NOTE, "alice", "VIP", 11.0)
    assert state.add_message(note) and not state.add_message(note)  # once per id
    assert state.messages(ringing.id) == [note]
    state.add_wrapup(WrapUpRecord(ringing.id, "alice", "resolved", "", 12.0, 2.0))
    assert [w.disposition for w in state.wrapups(since=0.0)] == ["resolved"]
    assert state.applied("k") is None
    state.remember("k", "wrapped up")
    state.remember("k", "again")
    assert state.applied("k") == "wrapped up" and state.applied("") is None
    state.close()
    again = LocalState(tmp_path / "a" / "state.sqlite")
    assert again.conversation(ended.id) == ended and again.applied("k") == "wrapped up"
    again.close()


def test_the_caller_id_on_the_agents_phone_cannot_break_its_header() -> None:
    hostile = conversation(customer_name='Ann "<sip:evil@x>" \\\r\nVia: x', customer_id="pbx:tel:+33 1;x=y")
    shown = caller_id(hostile)
    assert shown.count('"') == 2 and shown.count("<") == 1 and "\r" not in shown and "\n" not in shown
    assert shown.endswith("<+331>")
    assert caller_id(conversation(customer_id="pbx:anon:1733.5")) == '"Ann" <>'
