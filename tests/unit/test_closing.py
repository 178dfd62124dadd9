"""One decision for closing a conversation (core/closing.py), used by `x`, by `x` on marked rows and by macros."""

from __future__ import annotations

import pytest
from factories import conversation
from standardiste.backends.base import EndChat, HangUp, SetStatus, WrapUp
from standardiste.console.core.closing import Ask, bulk_close, closing_commands
from standardiste.console.core.macro_model import Macro
from standardiste.console.core.model import STATES_BY_CHANNEL, Channel, State

P, C, E, CB = Channel.PHONE, Channel.CHAT, Channel.EMAIL, Channel.CALLBACK


def kinds(plan_commands: tuple[object, ...] | list[object]) -> list[type]:
    return [type(c) for c in plan_commands]


@pytest.mark.parametrize(
    ("channel", "state", "sent", "ask", "undoable"),
    [
        (P, State.CONNECTED, [HangUp], Ask.DISPOSITION, False),
        (P, State.ON_HOLD, [HangUp], Ask.DISPOSITION, False),
        (C, State.ACTIVE, [EndChat], Ask.DISPOSITION, False),
        (P, State.WRAP_UP, [], Ask.DISPOSITION, False),
        (C, State.WRAP_UP, [], Ask.DISPOSITION, False),
        (E, State.OPEN, [SetStatus], Ask.NOTHING, True),
        (Channel.FORM, State.NEW, [SetStatus], Ask.NOTHING, True),
        (CB, State.SCHEDULED, [SetStatus], Ask.NOTHING, True),
        (CB, State.DIALLING, [], Ask.CALLBACK_OUTCOME, False),
    ],
)
def test_what_closing_sends_depends_on_channel_and_state(
    channel: Channel, state: State, sent: list[type], ask: Ask, undoable: bool
) -> None:
    plan = closing_commands("local:1", channel, state)
    assert kinds(plan.commands) == sent
    assert (plan.ask, plan.undoable, plan.refusal) == (ask, undoable, "")


def test_written_threads_are_solved_and_callbacks_done() -> None:
    (solve,) = closing_commands("local:1", E, State.PENDING).commands
    (done,) = closing_commands("local:2", CB, State.REQUESTED).commands
    assert isinstance(solve, SetStatus) and solve.state is State.SOLVED
    assert isinstance(done, SetStatus) and done.state is State.DONE


@pytest.mark.parametrize("channel", list(Channel))
def test_every_closed_state_is_left_alone_with_a_reason(channel: Channel) -> None:
    for state in STATES_BY_CHANNEL[channel]:
        plan = closing_commands("local:1", channel, state)
        if state in (State.ENDED, State.ABANDONED, State.SOLVED, State.DONE):
            assert plan.commands == () and plan.refusal == "Already closed."


@pytest.mark.parametrize(("channel", "state"), [(P, State.RINGING), (P, State.QUEUED), (C, State.WAITING)])
def test_a_live_contact_not_answered_yet_is_not_closed(channel: Channel, state: State) -> None:
    plan = closing_commands("local:1", channel, state)
    assert plan.commands == ()
    assert plan.refusal.startswith("Not answered yet")


def test_a_named_disposition_wraps_up_at_once() -> None:
    plan = closing_commands("local:1", C, State.ACTIVE, disposition="resolved")
    assert kinds(plan.commands) == [EndChat, WrapUp]
    assert plan.ask is Ask.NOTHING
    assert kinds(closing_commands("local:1", P, State.WRAP_UP, disposition="resolved").commands) == [WrapUp]


def test_bulk_close_closes_what_needs_no_question_and_counts_the_rest() -> None:
    plan = bulk_close(
        [
            conversation(1, E, State.OPEN),
            conversation(2, P, State.CONNECTED),  # a call is wrapped up on its own, with its disposition
            conversation(3, E, State.SOLVED),
            conversation(4, CB, State.SCHEDULED),
            conversation(5, CB, State.DIALLING),  # its outcome must be said
        ]
    )
    assert [c.conversation_id for c in plan.commands] == ["local:1", "local:4"]
    assert (plan.closed, plan.left) == (2, 3)


def test_a_closing_macro_sends_the_same_commands_as_x() -> None:
    macro = Macro(id="bye", language="en", name="Bye", text="Bye", close=True, disposition="resolved")
    for channel, state in [(C, State.ACTIVE), (P, State.WRAP_UP), (E, State.OPEN), (E, State.SOLVED)]:
        from_macro = macro.commands("local:1", None, channel=channel, state=state)
        assert from_macro == list(closing_commands("local:1", channel, state, "resolved").commands)
