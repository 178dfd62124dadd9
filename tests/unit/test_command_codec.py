"""Round trips of every backend command through the outbox's JSON codec.

Values are generated from each command's type hints by a strategy written here, independently of the
codec: a new `Command` subclass is picked up by `Command.__subclasses__()`, and a field of a type neither
side knows fails `test_every_command_round_trips` until both are taught it.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
import types
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardiste.backends.base import (
    Command,
    Note,
    Reply,
    SetPresence,
    SetPriority,
    SetSkills,
    SetStatus,
    Snooze,
    Transfer,
)
from standardiste.console.core import command_codec
from standardiste.console.core.command_codec import CodecError, dumps, loads
from standardiste.console.core.model import Attachment, Channel, Presence, Priority, Seniority, Skills, State


def _all_command_classes() -> list[type[Command]]:
    found: list[type[Command]] = []
    stack = list(Command.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        # `@dataclass(slots=True)` leaves the class it replaced alive as a subclass: skip that one.
        if getattr(sys.modules[cls.__module__], cls.__name__, None) is cls:
            found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


def _strategy(hint: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return st.one_of(*(_strategy(arm) for arm in typing.get_args(hint)))
    if hint is type(None):
        return st.none()
    if origin is tuple:
        item, ellipsis = typing.get_args(hint)
        assert ellipsis is Ellipsis, f"fixed-size tuple {hint} not covered by this test"
        return st.lists(_strategy(item), max_size=4).map(tuple)
    if origin is dict:
        key, value = typing.get_args(hint)
        return st.dictionaries(_strategy(key), _strategy(value), max_size=4)
    assert origin is None and isinstance(hint, type), f"no test strategy for {hint}"
    if issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(min_value=-(2**63), max_value=2**63)
    if hint is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if hint is str:
        return st.text(max_size=30)
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return st.builds(
            hint, **{f.name: _strategy(hints[f.name]) for f in dataclasses.fields(hint) if f.init}
        )
    raise AssertionError(f"no test strategy for {hint}")


COMMANDS = _all_command_classes()


def test_the_command_list_is_complete() -> None:
    assert len(COMMANDS) >= 27  # every command of backends/base.py at the time of writing
    assert {c.__name__ for c in COMMANDS} <= set(command_codec.command_types())
    assert Reply in COMMANDS and SetSkills in COMMANDS and Snooze in COMMANDS


@pytest.mark.parametrize("cls", COMMANDS, ids=lambda c: c.__name__)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_command_round_trips(cls: type[Command], data: st.DataObject) -> None:
    command = data.draw(_strategy(cls))
    text = dumps(command)
    back = loads(text)
    assert type(back) is cls
    assert back == command
    # Types survive, not only equality: a StrEnum equals its text and a tuple is not a list.
    for f in dataclasses.fields(command):
        original, restored = getattr(command, f.name), getattr(back, f.name)
        assert type(restored) is type(original), f.name
    # Plain JSON: another tool (or a human) can read the journal.
    assert json.loads(text)["type"] == cls.__name__


def test_values_are_written_by_value() -> None:
    command = SetSkills(
        agent_id="ana",
        key="k1",
        skills=Skills(
            channels={Channel.EMAIL: 3, Channel.PHONE: 1}, languages=("fr", "en"), seniority=Seniority.SENIOR
        ),
        capacity={Channel.CHAT: 4},
    )
    data = json.loads(dumps(command))
    assert data == {
        "v": 1,
        "type": "SetSkills",
        "fields": {
            "conversation_id": "",
            "agent_id": "ana",
            "key": "k1",
            "skills": {"channels": {"email": 3, "phone": 1}, "languages": ["fr", "en"], "seniority": 2},
            "capacity": {"chat": 4},
        },
    }
    back = loads(dumps(command))
    assert isinstance(back, SetSkills)
    assert back.skills.channels == {Channel.EMAIL: 3, Channel.PHONE: 1}
    assert all(type(c) is Channel for c in back.skills.channels)
    assert type(back.skills.seniority) is Seniority


def test_nested_attachments_and_enums() -> None:
    reply = Reply(
        conversation_id="local:7",
        body="Your parcel left today. ✈",
        to=("a@example.com",),
        attachments=(Attachment("label.pdf", "application/pdf", 1234, "r/1"),),
        forward=True,
    )
    back = loads(dumps(reply))
    assert back == reply
    assert isinstance(back, Reply) and type(back.attachments[0]) is Attachment
    status = loads(dumps(SetStatus(conversation_id="local:7", state=State.SOLVED)))
    assert isinstance(status, SetStatus) and status.state is State.SOLVED
    priority = json.loads(dumps(SetPriority(conversation_id="x", priority=Priority.URGENT)))
    assert priority["fields"]["priority"] == 3
    presence = loads(dumps(SetPresence(agent_id="a", presence=Presence.AWAY, reason="lunch")))
    assert isinstance(presence, SetPresence) and presence.presence is Presence.AWAY


def test_optional_fields() -> None:
    assert loads(dumps(Snooze(conversation_id="c", until=None))) == Snooze(conversation_id="c", until=None)
    assert loads(dumps(Snooze(conversation_id="c", until=12))) == Snooze(conversation_id="c", until=12.0)
    transfer = Transfer(conversation_id="c", to_queue="billing")
    assert loads(dumps(transfer)) == transfer


def test_a_missing_optional_field_takes_its_default() -> None:
    # A journal written before `forward` existed still reads.
    text = json.dumps({"v": 1, "type": "Reply", "fields": {"conversation_id": "c", "body": "hi", "key": "k"}})
    assert loads(text) == Reply(conversation_id="c", body="hi", key="k")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('{"v": 1, "type": "Reply", "fields": {"conversation_id": "c"}}', "Reply.body is missing"),
        ('{"v": 1, "type": "Reply", "fields": {"body": "x", "colour": 1}}', "no field colour"),
        ('{"v": 1, "type": "Teleport", "fields": {}}', "unknown command type"),
        ('{"v": 9, "type": "Note", "fields": {"body": "x"}}', "version"),
        ('{"v": 1, "type": "SetStatus", "fields": {"state": "melted"}}', "not a State"),
        ('{"v": 1, "type": "Note", "fields": {"body": 3}}', "expected text"),
        ('{"v": 1, "type": "Reply", "fields": {"body": "x", "to": "a@b"}}', "expected a list"),
        ('{"v": 1, "type": "Mute", "fields": {"muted": 1}}', "expected a bool"),
        ("[1, 2]", "JSON object"),
        ("{not json", "not JSON"),
    ],
)
def test_bad_journal_text_is_refused(text: str, complaint: str) -> None:
    with pytest.raises(CodecError, match=complaint):
        loads(text)


def test_bad_values_are_refused_before_journalling() -> None:
    with pytest.raises(CodecError, match=r"Reply\.to"):
        dumps(Reply(body="x", to=["a@example.com"]))  # type: ignore[arg-type]
    with pytest.raises(CodecError, match=r"Note\.body"):
        dumps(Note(body=None))  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="JSON"):
        dumps(Snooze(conversation_id="c", until=float("nan")))
    with pytest.raises(CodecError, match="not a command"):
        command_codec.to_data(Attachment("x"))  # type: ignore[arg-type]


def test_an_unknown_field_type_is_an_error_both_ways() -> None:
    # What a future command with a field the codec was never taught would hit.
    with pytest.raises(CodecError, match="cannot write"):
        command_codec._encode(frozenset({"a"}), frozenset[str])
    with pytest.raises(CodecError, match="cannot read"):
        command_codec._decode(["a"], frozenset[str])
    with pytest.raises(CodecError, match="cannot write"):
        command_codec._encode(object(), Any)
