"""The workspace's parts work on any `WorkspaceView`, not only on the screen: here on a small one without an
App, which records what is sent, asked and said. What the agent sees through the real screen is tested in
test_workspace_app.py and the pty tests; these pin down each part's decisions on its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from factories import conversation
from standardiste.backends.base import Command, HangUp, SetStatus, Transfer, WrapUp
from standardiste.console.core.config import Config
from standardiste.console.core.model import Agent, Channel, Conversation, Presence, Skills, State
from standardiste.console.core.store import Store
from standardiste.console.ui.closing_flow import ClosingFlow
from standardiste.console.ui.conversation_edits import ConversationEdits
from standardiste.console.ui.dialogs import PickDialog, TextDialog
from standardiste.console.ui.marked_rows import MarkedRows
from standardiste.console.ui.workspace_view import WorkspaceView


class SmallQueue:
    """The queue list's marks and cursor, as the parts use them."""

    def __init__(self, cursor_id: str | None) -> None:
        self.cursor_id = cursor_id
        self.marked: set[str] = set()
        self.moved = 0

    @property
    def mark_count(self) -> int:
        return len(self.marked)

    def toggle_mark(self, cid: str) -> None:
        self.marked ^= {cid}

    def move(self, delta: int) -> None:
        self.moved += delta

    def clear_marks(self) -> bool:
        had = bool(self.marked)
        self.marked.clear()
        return had

    def take_marks(self) -> list[str]:
        taken = sorted(self.marked)
        self.marked.clear()
        return taken


@dataclass
class SmallView:
    conversations: list[Conversation]
    cursor: str | None = None
    agents: list[Agent] = field(default_factory=list)
    sent: list[tuple[Command, bool]] = field(default_factory=list)
    asked: list[tuple[Any, Callable[[Any], object]]] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    went_back: int = 0

    def __post_init__(self) -> None:
        store = Store()
        store.conversations = {c.id: c for c in self.conversations}
        store.agents = {a.id: a for a in self.agents}
        self.main = SimpleNamespace(store=store, config=Config(path=Path("standardiste.toml"), agent_id="alice", agent_name="Alice"), me="alice", clock=lambda: 1_000.0)
        self.queue = SmallQueue(self.cursor)
        self.open_id = None

    def target(self) -> Conversation | None:
        return self.main.store.conversations.get(self.queue.cursor_id or "")

    def send(self, command: Command, *, undo: bool = False, done: str = "") -> None:
        self.sent.append((command, undo))

    def guard(self, conversation: Conversation, kind: object) -> bool:
        return True

    def ask(self, dialog: Any, answered: Callable[[Any], object]) -> None:
        self.asked.append((dialog, answered))

    def answer(self, value: object) -> None:
        """The agent answers the dialog asked last."""
        _, answered = self.asked.pop()
        answered(value)

    def notify(self, message: str, **_: object) -> None:
        self.said.append(message)

    def refresh_chrome(self) -> None:
        pass

    def back(self) -> None:
        self.went_back += 1


def _parts(view: SmallView) -> tuple[MarkedRows, ClosingFlow, ConversationEdits]:
    as_view: WorkspaceView = view  # type: ignore[assignment]  # the members the parts use
    marks = MarkedRows(as_view)
    return marks, ClosingFlow(as_view, marks), ConversationEdits(as_view, marks)


def test_closing_a_call_hangs_up_then_asks_the_disposition_and_the_note() -> None:
    call = conversation(1, Channel.PHONE, State.CONNECTED, assignee="alice")
    view = SmallView([call], cursor=call.id)
    _, closing, _ = _parts(view)

    closing.close()
    assert view.sent == [(HangUp(conversation_id=call.id), False)]
    dialog, _ = view.asked[-1]
    assert isinstance(dialog, PickDialog)
    view.answer("resolved")
    assert isinstance(view.asked[-1][0], TextDialog)
    view.answer("refund promised")
    assert view.sent[-1] == (
        WrapUp(conversation_id=call.id, disposition="resolved", note="refund promised"),
        True,  # held in the undo window
    )
    assert view.went_back == 1


def test_no_disposition_keeps_the_call_in_wrap_up_and_says_so() -> None:
    call = conversation(1, Channel.PHONE, State.WRAP_UP, assignee="alice")
    view = SmallView([call], cursor=call.id)
    _, closing, _ = _parts(view)
    closing.close()
    view.answer(None)
    assert view.sent == []
    assert view.said == ["Still in wrap-up: press x to choose a disposition."]


def test_close_with_marks_solves_the_written_ones_and_leaves_a_live_call() -> None:
    mail = conversation(1, Channel.EMAIL, State.OPEN)
    form = conversation(2, Channel.FORM, State.OPEN)
    call = conversation(3, Channel.PHONE, State.CONNECTED)
    view = SmallView([mail, form, call], cursor=mail.id)
    marks, closing, _ = _parts(view)
    for cid in (mail.id, form.id, call.id):
        view.queue.cursor_id = cid
        marks.mark()

    closing.close()
    assert view.sent == [
        (SetStatus(conversation_id=mail.id, state=State.SOLVED), True),
        (SetStatus(conversation_id=form.id, state=State.SOLVED), True),
    ]
    assert view.said == ["Solving 2 conversation(s) (1 live or closed left as they were)"]
    assert view.queue.mark_count == 0  # the marks are spent


def test_transfer_to_a_named_agent_goes_to_each_marked_row_unless_she_cannot_take_it() -> None:
    first = conversation(1, Channel.EMAIL, State.OPEN)
    second = conversation(2, Channel.EMAIL, State.OPEN)
    mail_skills = Skills(channels={Channel.EMAIL: 2})
    bob = Agent(id="bob", name="Bob", skills=mail_skills, presence=Presence.AVAILABLE)
    carol = Agent(id="carol", name="Carol", skills=mail_skills, presence=Presence.OFFLINE)
    view = SmallView([first, second], cursor=first.id, agents=[bob, carol])
    marks, _, edits = _parts(view)
    marks.mark()
    view.queue.cursor_id = second.id
    marks.mark()

    edits.transfer_to("bob")
    assert [command for command, _ in view.sent] == [
        Transfer(conversation_id=first.id, to_agent="bob"),
        Transfer(conversation_id=second.id, to_agent="bob"),
    ]

    view.sent.clear()
    edits.transfer_to("carol")  # no marks left: the row under the cursor, and she is offline
    assert view.sent == []
    assert view.said == ["Not transferred: Carol cannot take it now (offline)."]


def test_reopen_is_for_written_threads_only() -> None:
    mail = conversation(1, Channel.EMAIL, State.SOLVED)
    chat = conversation(2, Channel.CHAT, State.ENDED)
    view = SmallView([mail, chat], cursor=mail.id)
    _, _, edits = _parts(view)
    edits.reopen()
    assert view.sent == [(SetStatus(conversation_id=mail.id, state=State.OPEN), False)]
    view.queue.cursor_id = chat.id
    edits.reopen()
    assert view.said[-1].startswith("A finished chat cannot be reopened")
