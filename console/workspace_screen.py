"""The workspace: the one screen agents live in. Queue on the left, the open conversation on the right.

At 80 columns the panes stack: the list fills the screen and `enter` opens the detail over it (`esc` comes
back). Everything is reachable from the keyboard; every key is an action of `actions.py` and remappable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from ..backends.base import (
    Accept,
    BackendError,
    CallbackOutcome,
    Claim,
    CommandKind,
    Conflict,
    EndChat,
    HangUp,
    Hold,
    Merge,
    Mute,
    Note,
    PlaceCallback,
    Release,
    Reply,
    Resume,
    ScheduleCallback,
    SetPresence,
    SetPriority,
    SetStatus,
    Snooze,
    Tags,
    Transfer,
    Viewing,
    WrapUp,
)
from ..backends.base import Typing as TypingCommand
from ..widgets.call_panel import CallPanel
from ..widgets.composer import Composer, Outgoing
from ..widgets.customer_card import CustomerCard
from ..widgets.prompt_line import PromptLine
from ..widgets.queue_list import CHANNEL_LABEL, QueueList
from ..widgets.status_bar import StatusBar
from ..widgets.transcript import Transcript
from .actions import ACTIONS, BY_NAME
from .attachments import save_attachment
from .dialogs import ConfirmDialog, PickDialog, TextDialog
from .model import DEFAULT_DISPOSITIONS, Attachment, Channel, Conversation, Message, Presence, Priority, State
from .presence import choices as presence_choices
from .presence import validate_change
from .routing import ClaimCheck, Load, best_for, claim_check
from .sanitize import sanitize
from .sla import format_duration, parse_duration, parse_when
from .store import Changes
from .views import Scope, ViewSet

if TYPE_CHECKING:
    from ..backends.base import Command
    from .app import StandardisteApp
    from .macros import FilledMacro

EMAIL_LIKE = frozenset({Channel.EMAIL, Channel.FORM, Channel.SOCIAL})
VIEW_SCOPES: dict[str, tuple[str, Scope]] = {
    "all": ("All", Scope()),
    "phone": ("Phone", Scope(channels=frozenset({Channel.PHONE}))),
    "chat": ("Chats", Scope(channels=frozenset({Channel.CHAT}))),
    "email": ("Email", Scope(channels=EMAIL_LIKE)),
    "callbacks": ("Callbacks", Scope(channels=frozenset({Channel.CALLBACK}))),
    "everyone": ("Everyone", Scope(owners="all")),
    "missed": (
        "Missed",
        Scope(
            channels=frozenset({Channel.PHONE, Channel.CHAT}),
            include_closed=True,
            owners="all",
            states=frozenset({State.ABANDONED}),
        ),
    ),
}
SNOOZE_CHOICES: list[tuple[str, str]] = [
    ("15m", "15 minutes"),
    ("1h", "1 hour"),
    ("4h", "4 hours"),
    ("1d", "1 day"),
]
NARROW = 110


class ViewBar(Static):
    DEFAULT_CSS = """
    ViewBar { height: 1; background: $boost; padding: 0 1; }
    """


class DetailHeader(Static):
    DEFAULT_CSS = """
    DetailHeader { height: auto; padding: 0 1; background: $boost; }
    DetailHeader.-collision { background: $warning 40%; }
    """


class WorkspaceScreen(Screen[None]):
    BINDINGS = [action.binding() for action in ACTIONS if not action.id.startswith("app.")] + [
        action.binding() for action in ACTIONS if action.id.startswith("app.")
    ]
    BINDINGS += [
        Binding("o", "unfold", "Unfold quotes", show=False, id="detail.unfold"),
        Binding("ctrl+z", "undo", "Undo send", show=False, id="work.undo"),
    ]
    DEFAULT_CSS = """
    WorkspaceScreen #main { height: 1fr; }
    WorkspaceScreen #left { width: 3fr; min-width: 60; }
    WorkspaceScreen #detail { width: 2fr; border-left: vkey $primary 50%; }
    WorkspaceScreen.-narrow #left { min-width: 0; }
    WorkspaceScreen.-narrow #detail { display: none; border-left: none; }
    WorkspaceScreen.-narrow.-detail-open #detail { display: block; }
    WorkspaceScreen.-narrow.-detail-open #left { display: none; }
    WorkspaceScreen #empty { padding: 1 2; color: $foreground 60%; display: none; }
    WorkspaceScreen.-empty #empty { display: block; }
    WorkspaceScreen #nothing-open { padding: 1 2; color: $foreground 60%; }
    WorkspaceScreen.-narrow CustomerCard { max-height: 5; }
    WorkspaceScreen.-composing CustomerCard { display: none; }
    WorkspaceScreen.-narrow.-composing CallPanel { display: none; }
    WorkspaceScreen CallPanel { display: none; }
    WorkspaceScreen.-call CallPanel { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.views: ViewSet
        self.current = "all"
        self.open_id: str | None = None
        self._detail_timer: Timer | None = None
        self._draft_timer: Timer | None = None
        self._last_draft: Outgoing | None = None
        self._header_stale = False
        self._filter_timer: Timer | None = None
        # Commands a macro adds once its reply, reviewed in the composer, is sent (tags, status...).
        self._macro_follow_up: dict[str, list[Command]] = {}
        self._typing_said = 0.0

    @property
    def main(self) -> StandardisteApp:
        return self.app  # type: ignore[return-value]

    # ------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        app = self.main
        self.views = ViewSet(
            {name: scope for name, (_, scope) in VIEW_SCOPES.items()}, me=app.me, sla=app.config.sla
        )
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield ViewBar(id="viewbar")
                yield Static(
                    "Nothing waiting for you. New calls, chats and mail appear here as they arrive.\n"
                    "n takes the next item · 6 shows everyone's · ? lists the keys",
                    id="empty",
                )
                yield QueueList(
                    app.store, self.views["all"], me=app.me, sla=app.config.sla, clock=app.clock, id="queue"
                )
            with Vertical(id="detail"):
                yield DetailHeader("", id="detail-header")
                yield Static("Select a conversation and press enter.", id="nothing-open")
                yield CallPanel(id="call")
                yield CustomerCard(id="customer")
                yield Transcript(id="transcript")
                yield Composer(id="composer")
        yield PromptLine(id="prompt")
        yield Footer()

    @property
    def queue(self) -> QueueList:
        return self.query_one(QueueList)

    def on_mount(self) -> None:
        self.rebuild_views()
        self.queue.focus()
        self._update_layout(self.size.width)

    def on_resize(self, event: object) -> None:
        self._update_layout(self.size.width)

    def _update_layout(self, width: int) -> None:
        self.set_class(width < NARROW, "-narrow")

    # ------------------------------------------------------------------------------------------ live data

    def rebuild_views(self) -> None:
        self.views.rebuild(self.main.store.conversations, self.main.clock())
        self.queue.rows_changed()
        self.refresh_chrome()

    def apply_changes(self, changes: Changes, *, draw: bool = True) -> None:
        """A batch of events reached the store: update views in place, keep the cursor, refresh what shows."""
        store = self.main.store
        if changes.reloaded or len(changes.conversations) > 20_000:  # one sort beats 20k insertions
            self.views.rebuild(store.conversations, self.main.clock())
        else:
            self.views.update(
                changes.conversations | changes.removed,
                store.conversations,
                self.main.clock(),
                changes.previous,
            )
        if self.open_id:
            for message in changes.messages:
                if message.conversation_id == self.open_id:
                    self.query_one(Transcript).add(message)
            if self.open_id in changes.conversations or self.open_id in changes.typing or changes.agents:
                self._header_stale = True
        if draw:
            self.draw()

    def draw(self) -> None:
        """Once a frame at most: the list, the chrome, and the open conversation's header if it changed."""
        self.queue.rows_changed()
        if self._header_stale:
            self._header_stale = False
            self._show_header()
        self.refresh_chrome()

    def tick(self) -> None:
        """Once a second: waiting times and SLA clocks move; snoozed items wake."""
        now = self.main.clock()
        view = self.views[self.current]
        if view.next_wake <= now:
            view.rebuild(self.main.store.conversations.values(), now)
            self.queue.rows_changed()
        self.queue.refresh()
        self.refresh_chrome()
        if self.open_id:
            self._show_header()

    def refresh_chrome(self) -> None:
        app = self.main
        self.query_one(StatusBar).show(app.store, app.me, app.clock(), self.views)
        parts = []
        for index, (name, (title, _)) in enumerate(VIEW_SCOPES.items(), start=1):
            count = len(self.views[name])
            mark = "▶" if name == self.current else " "
            parts.append(f"{mark}{index} {title} {count}")
        view = self.views[self.current]
        flt = f"   / {view.filter.text}" if view.filter.text else ""
        self.query_one(ViewBar).update(Text("  ".join(parts) + flt, no_wrap=True, overflow="ellipsis"))
        self.set_class(len(view) == 0, "-empty")

    # ------------------------------------------------------------------------------------------ moving

    def action_cursor_down(self) -> None:
        self.queue.move(1)

    def action_cursor_up(self) -> None:
        self.queue.move(-1)

    def action_cursor_top(self) -> None:
        self.queue.go(0)

    def action_cursor_bottom(self) -> None:
        self.queue.go(len(self.views[self.current]) - 1)

    def action_page_down(self) -> None:
        self.queue.page(1)

    def action_page_up(self) -> None:
        self.queue.page(-1)

    def action_view(self, name: str) -> None:
        if name not in self.views:
            self.notify(f"no view named {name}", severity="warning")
            return
        self.current = name
        view = self.views[name]
        self.queue.set_view(view)
        self.queue.focus()
        self.refresh_chrome()

    def action_open(self) -> None:
        cid = self.queue.cursor_id
        if cid:
            self.open_conversation(cid)
            self.add_class("-detail-open")

    def action_back(self) -> None:
        composer = self.query_one(Composer)
        if composer.is_open:
            composer.remove_class("-open")
            self.remove_class("-composing")
            self.queue.focus()
        elif self.has_class("-detail-open"):
            self.remove_class("-detail-open")
            self.queue.focus()
        elif self.views[self.current].filter.text:
            self._apply_filter("")

    def action_next_activity(self) -> None:
        store = self.main.store
        view = self.views[self.current]
        start = self.queue.cursor
        for offset in range(1, len(view) + 1):
            index = (start + offset) % len(view)
            cid = view.id_at(index)
            conversation = store.conversations.get(cid)
            if conversation and (conversation.unread or store.typing(cid)):
                self.queue.go(index)
                return
        self.notify("No other item has new activity.")

    def on_queue_list_highlighted(self, message: QueueList.Highlighted) -> None:
        # Moving fast through the list must not load every conversation on the way: wait for a pause.
        if self._detail_timer is not None:
            self._detail_timer.stop()
        if message.conversation_id and not self.has_class("-narrow"):
            cid = message.conversation_id
            self._detail_timer = self.set_timer(0.12, lambda: self.open_conversation(cid))

    def on_queue_list_selected(self, message: QueueList.Selected) -> None:
        self.open_conversation(message.conversation_id)
        self.add_class("-detail-open")

    # ------------------------------------------------------------------------------------------ detail

    def current_conversation(self) -> Conversation | None:
        cid = self.open_id or self.queue.cursor_id
        return self.main.store.conversations.get(cid) if cid else None

    def _target(self) -> Conversation | None:
        """The conversation an action applies to: the open one, else the one under the cursor."""
        conversation = self.current_conversation()
        if conversation is None:
            self.notify("Select a conversation first.", severity="warning")
        return conversation

    def open_conversation(self, cid: str) -> None:
        conversation = self.main.store.conversations.get(cid)
        if conversation is None:
            return
        changed = cid != self.open_id
        self.open_id = cid
        self.query_one("#nothing-open").display = False
        self._show_header()
        if changed:
            self.query_one(Transcript).show([], conversation.channel)
            self._load_history(cid)
            self._announce_viewing(cid)
            self._restore_draft(cid)

    def _show_header(self) -> None:
        app = self.main
        conversation = app.store.conversations.get(self.open_id or "")
        if conversation is None:
            return
        now = app.clock()
        header = self.query_one(DetailHeader)
        subject = sanitize(conversation.subject, single_line=True)
        owner = conversation.assignee or "nobody"
        deadline = app.config.sla.deadline(conversation)
        sla = ""
        if deadline is not None:
            left = deadline - now
            sla = f" · SLA {'breached ' + format_duration(-left) + ' ago' if left < 0 else format_duration(left) + ' left'}"
        lines = [
            f"{CHANNEL_LABEL[conversation.channel]}  {subject}",
            f"{conversation.state.value.replace('_', ' ')} · {conversation.queue} · "
            f"priority {conversation.priority.name.lower()} · owner {owner}{sla}",
        ]
        if conversation.tags:
            lines.append("tags: " + ", ".join(conversation.tags))
        typing = app.store.typing(conversation.id, now)
        if "customer" in typing:
            lines.append("✎ the customer is typing…")
        others = app.store.viewers(conversation.id, besides=app.me)
        collision = [
            f"{agent.name} is {'typing a reply' if agent.typing_in == conversation.id else 'viewing'}"
            for agent in others
        ]
        if collision:
            lines.append("⚠ " + "; ".join(collision))
        header.update(Text("\n".join(lines)))  # customer text: never parsed as markup
        header.set_class(bool(collision), "-collision")
        is_call = conversation.channel in (Channel.PHONE, Channel.CALLBACK)
        self.set_class(is_call, "-call")
        if is_call:
            self.query_one(CallPanel).show(
                conversation, app.store.customers.get(conversation.customer_id), now
            )
        history = app.store.of_customer(conversation.customer_id) if conversation.customer_id else []
        self.query_one(CustomerCard).show(
            app.store.customers.get(conversation.customer_id),
            conversation.customer_name,
            history,
            conversation.id,
        )

    @work(exclusive=True, group="history")
    async def _load_history(self, cid: str) -> None:
        try:
            messages: list[Message] = await self.main.hub.history(cid)
        except BackendError as error:
            self.notify(f"Cannot load the conversation: {error}", severity="error")
            return
        conversation = self.main.store.conversations.get(cid)
        if cid == self.open_id and conversation is not None:
            self.query_one(Transcript).show(messages, conversation.channel)

    @work(group="viewing")
    async def _announce_viewing(self, cid: str) -> None:
        if self.main.hub.supports(CommandKind.VIEWING, self.main.store.conversations.get(cid)):
            with contextlib.suppress(BackendError):
                await self.main.hub.perform(Viewing(conversation_id=cid))

    def action_unfold(self) -> None:
        transcript = self.query_one(Transcript)
        transcript.unfolded = not transcript.unfolded

    # ------------------------------------------------------------------------------------------ filter & commands

    def action_filter(self) -> None:
        self.query_one(PromptLine).open("filter", self.views[self.current].filter.text)

    def action_command_line(self) -> None:
        self.query_one(PromptLine).open("command", "", self.main.command_completions())

    def on_input_changed(self, event: PromptLine.Changed) -> None:
        prompt = event.input
        if isinstance(prompt, PromptLine) and prompt.mode == "filter":
            self._filter_typed(event.value)

    def on_input_submitted(self, event: PromptLine.Submitted) -> None:
        prompt = event.input
        if not isinstance(prompt, PromptLine):
            return
        prompt.close()
        self.queue.focus()
        if prompt.mode == "command":
            self.run_command_line(event.value)

    def on_prompt_line_cancelled(self, event: PromptLine.Cancelled) -> None:
        prompt = self.query_one(PromptLine)
        prompt.close()
        if event.mode == "filter":
            if self._filter_timer is not None:
                self._filter_timer.stop()
            self._apply_filter("")
        self.queue.focus()

    def _filter_typed(self, text: str) -> None:
        """As you type: at 100k rows one filter pass costs ~0.1 s, so a burst of keys runs it once."""
        if self._filter_timer is not None:
            self._filter_timer.stop()
        delay = 0.0 if len(self.main.store.conversations) < 20_000 else 0.12
        if delay == 0.0:
            self._apply_filter(text)
        else:
            self._filter_timer = self.set_timer(delay, lambda: self._apply_filter(text))

    def _apply_filter(self, text: str) -> None:
        view = self.views[self.current]
        if text == view.filter.text:
            return  # opening or closing the prompt must not re-sort 100k rows
        flt = view.set_filter(text, self.main.store.conversations.values(), self.main.clock())
        self.queue.set_view(view)
        if flt.errors:
            self.notify("; ".join(flt.errors), severity="warning", timeout=2)
        self.refresh_chrome()

    def run_command_line(self, line: str) -> None:
        words = line.strip().split()
        if not words:
            return
        name, args = words[0].lower(), words[1:]
        special: dict[str, Callable[[list[str]], None]] = {
            "view": lambda a: self.action_view(a[0] if a else "all"),
            "theme": lambda a: self.main.set_theme_named(" ".join(a)),
            "presence": self._presence_from_words,
            "priority": lambda a: self._set_priority(a[0] if a else ""),
            "snooze": lambda a: self._snooze(a[0] if a else "1h"),
            "tag": self._tags_from_words,
            "transfer": lambda a: self._transfer_to(a[0]) if a else self.action_transfer(),
            "status": lambda a: self._set_state(a[0] if a else ""),
            "filter": lambda a: self._apply_filter(" ".join(a)),
            "quit": lambda a: self.main.exit(),
        }
        if name in special:
            special[name](args)
            return
        action = BY_NAME.get(name)
        if action is None:
            self.notify(
                f"Unknown command: {name}. Press : then tab to complete, ? for keys.", severity="warning"
            )
            return
        self.run_action(action.action)

    # ------------------------------------------------------------------------------------------ sending

    def _send(self, command: object, *, undo: bool = False, done: str = "") -> None:
        self.main.send(command, undo=undo, done=done)  # type: ignore[arg-type]

    def _guard(self, conversation: Conversation, kind: CommandKind) -> bool:
        if not self.main.hub.supports(kind, conversation):
            self.notify(
                f"{conversation.backend} does not support {kind.value.replace('_', ' ')}.", severity="warning"
            )
            return False
        return True

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Disable keys the backend cannot honour (they show greyed in the footer and in `?`)."""
        for console_action in ACTIONS:
            if console_action.action == action and console_action.command is not None:
                if not self.main.hub_ready:
                    return True
                return True if self.main.hub.supports(console_action.command) else None
        return True

    # ------------------------------------------------------------------------------------------ work

    def action_accept(self) -> None:
        conversation = self._target()
        if conversation and self._guard(conversation, CommandKind.ACCEPT):
            self._claim_then(
                conversation, lambda: self._send(Accept(conversation_id=conversation.id), done="Answered")
            )

    def action_claim(self) -> None:
        conversation = self._target()
        if conversation and self._guard(conversation, CommandKind.CLAIM):
            self._claim_then(conversation, lambda: None, force_claim=True)

    def _claim_then(
        self, conversation: Conversation, then: Callable[[], None], *, force_claim: bool = False
    ) -> None:
        """Working on someone else's conversation asks first (collision), then takes it."""
        owner = conversation.assignee
        if claim_check(conversation, self.main.me) is ClaimCheck.ASK:

            def answer(yes: bool | None) -> None:
                if yes:
                    self._send(Claim(conversation_id=conversation.id, force=True), done=f"Taken from {owner}")
                    then()

            self.app.push_screen(ConfirmDialog(f"{owner} owns this conversation. Take it anyway?"), answer)
            return
        if force_claim and owner is None:
            self._send(Claim(conversation_id=conversation.id), done="Claimed")
        then()

    def action_release(self) -> None:
        conversation = self._target()
        if conversation and self._guard(conversation, CommandKind.RELEASE):
            self._send(Release(conversation_id=conversation.id), done="Released to the queue")

    def action_next_best(self) -> None:
        app = self.main
        me = app.store.agents.get(app.me or "")
        if me is None:
            self.notify("Not connected yet.", severity="warning")
            return
        now = app.clock()
        rules = app.config.routing
        load = Load.of(app.store.conversations.values(), me.id)
        candidates = best_for(me, app.store.conversations.values(), load, now, rules)
        if candidates:
            self._take_next(candidates)
        elif me.presence is not Presence.AVAILABLE:
            self.notify(
                f"You are {me.presence.value}: P sets you available to take work.", severity="warning"
            )
        else:
            self.notify("Nothing waiting that you can take now (skills, languages, capacity). ✔")

    @work(group="next")
    async def _take_next(self, candidates: list[Conversation]) -> None:
        for conversation in candidates[:20]:
            command = (
                Accept(conversation_id=conversation.id)
                if conversation.channel.is_live
                else Claim(conversation_id=conversation.id)
            )
            try:
                await self.main.hub.perform(command)
            except Conflict:
                continue  # someone else was faster: the next one
            except BackendError as error:
                self.notify(f"Cannot take {conversation.id}: {error}", severity="error")
                return
            self.action_view("all")
            self.queue.select_id(conversation.id)
            self.open_conversation(conversation.id)
            self.add_class("-detail-open")
            return
        self.notify("Others took everything first. Try n again.")

    def action_reply(self) -> None:
        self._open_composer("reply")

    def action_reply_all(self) -> None:
        self._open_composer("reply_all")

    def action_forward(self) -> None:
        self._open_composer("forward")

    def action_note(self) -> None:
        self._open_composer("note")

    def _open_composer(self, kind: str) -> None:
        conversation = self._target()
        if conversation is not None and conversation.channel is Channel.PHONE and kind != "note":
            self.notify(
                "This is a call: speak to the customer; N writes an internal note.", severity="warning"
            )
            return
        needed = CommandKind.NOTE if kind == "note" else CommandKind.REPLY
        if conversation is None or not self._guard(conversation, needed):
            return
        if conversation.id != self.open_id:
            self.open_conversation(conversation.id)
        self.add_class("-detail-open")
        draft = self.main.load_draft(conversation.id)
        body = draft.body if draft and draft.kind == kind else ""
        to: tuple[str, ...] = ()
        cc: tuple[str, ...] = ()
        if kind == "reply_all":
            cc = self._last_cc()
        if draft and draft.kind == kind:
            to, cc = tuple(draft.to) or to, tuple(draft.cc) or cc
        self.query_one(Composer).open(kind, email=conversation.channel in EMAIL_LIKE, body=body, to=to, cc=cc)

    def _last_cc(self) -> tuple[str, ...]:
        transcript = self.query_one(Transcript)
        for message in reversed(transcript.messages):
            if message.email is not None:
                return tuple(message.email.cc) + tuple(message.email.to[1:])
        return ()

    def _restore_draft(self, cid: str) -> None:
        composer = self.query_one(Composer)
        if composer.is_open:
            composer.remove_class("-open")
            self.remove_class("-composing")
        draft = self.main.load_draft(cid)
        if draft is not None:
            self.notify(f"A draft {draft.kind} is waiting: press r to continue it.", timeout=3)

    def on_composer_edited(self, message: Composer.Edited) -> None:
        self._last_draft = message.outgoing
        self._say_typing(True)
        if self._draft_timer is not None:
            self._draft_timer.stop()
        cid = self.open_id
        if cid:
            self._draft_timer = self.set_timer(0.3, lambda: self.main.save_draft(cid, message.outgoing))

    def _say_typing(self, typing: bool) -> None:
        """Tell other agents (collision warning) and the chat customer that I am typing, at most every 3 s."""
        cid = self.open_id
        conversation = self.main.store.conversations.get(cid or "")
        if conversation is None or not self.main.hub.supports(CommandKind.TYPING, conversation):
            return
        now = self.main.clock()
        if typing and now - self._typing_said < 3.0:
            return
        self._typing_said = now if typing else 0.0
        self.main.send(TypingCommand(conversation_id=conversation.id, typing=typing))

    def on_composer_submitted(self, message: Composer.Submitted) -> None:
        self._say_typing(False)
        conversation = self.current_conversation()
        if conversation is None:
            return
        outgoing = message.outgoing
        composer = self.query_one(Composer)
        composer.close()
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self.main.discard_draft(conversation.id)
        if outgoing.kind == "note":
            self._send(Note(conversation_id=conversation.id, body=outgoing.body), done="Note saved")
        else:
            live = conversation.channel.is_live
            self._send(
                Reply(
                    conversation_id=conversation.id,
                    body=outgoing.body,
                    to=outgoing.to,
                    cc=outgoing.cc,
                    bcc=outgoing.bcc,
                    forward=outgoing.kind == "forward",
                ),
                undo=not live,
                done="Sent",
            )
        if outgoing.kind != "note":
            for command in self._macro_follow_up.pop(conversation.id, []):
                self._send(command)
        if conversation.channel is Channel.CHAT:
            self.query_one(Composer).open("reply", email=False)  # keep chatting
        else:
            self.queue.focus()

    def on_composer_closed(self, message: Composer.Closed) -> None:
        self._say_typing(False)
        self.queue.focus()

    def on_composer_text_external_editor(self, message: object) -> None:
        composer = self.query_one(Composer)
        text = self.main.edit_externally(composer.text_area.text)
        if text is not None:
            composer.text_area.load_text(text)

    def action_undo(self) -> None:
        self.main.undo_last()

    # ------------------------------------------------------------------------------------------ calls

    def _call(self) -> Conversation | None:
        conversation = self._target()
        if conversation is not None and conversation.channel is not Channel.PHONE:
            self.notify("That works on a call.", severity="warning")
            return None
        return conversation

    def action_hold(self) -> None:
        call = self._call()
        if call is None:
            return
        if call.state is State.ON_HOLD:
            self._send(Resume(conversation_id=call.id), done="Resumed")
        elif self._guard(call, CommandKind.HOLD):
            self._send(Hold(conversation_id=call.id), done="On hold")

    def action_mute(self) -> None:
        call = self._call()
        if call and self._guard(call, CommandKind.MUTE):
            self._send(
                Mute(conversation_id=call.id, muted=not call.muted), done="Unmuted" if call.muted else "Muted"
            )

    def action_hang_up(self) -> None:
        call = self._call()
        if call and self._guard(call, CommandKind.HANG_UP):
            self._send(HangUp(conversation_id=call.id), done="Call ended: wrap up with x")

    def action_dial(self) -> None:
        conversation = self._target()
        if conversation is None:
            return
        if conversation.channel is not Channel.CALLBACK:
            self.notify("Dial works on a callback request.", severity="warning")
            return
        if self._guard(conversation, CommandKind.PLACE_CALLBACK):
            self._send(
                PlaceCallback(conversation_id=conversation.id),
                done=f"Dialling {conversation.callback_number}",
            )

    def action_schedule(self) -> None:
        conversation = self._target()
        if conversation is None or conversation.channel is not Channel.CALLBACK:
            self.notify("Scheduling is for callback requests.", severity="warning")
            return
        self.app.push_screen(
            TextDialog("Call back at (HH:MM today, or in +30m / +2h)", placeholder="14:30"),
            lambda text: text and self._schedule_at(conversation.id, text),
        )

    def _schedule_at(self, cid: str, text: str) -> None:
        at = parse_when(text, self.main.clock())
        if at is None:
            self.notify(f"Not a time: {text!r} (14:30, +30m, +2h)", severity="warning")
            return
        self._send(
            ScheduleCallback(conversation_id=cid, at=at),
            done="Callback scheduled for " + datetime.fromtimestamp(at).strftime("%a %H:%M"),
        )

    def action_chat_session(self, number: int) -> None:
        """alt+N: my Nth open chat (oldest first), wherever the list is."""
        store = self.main.store
        mine = sorted(
            (
                c
                for c in store.conversations.values()
                if c.channel is Channel.CHAT and c.assignee == self.main.me and not c.is_closed
            ),
            key=lambda c: c.created_at,
        )
        if not 1 <= number <= len(mine):
            self.notify(f"You have {len(mine)} chat session(s).")
            return
        chat = mine[number - 1]
        self.open_conversation(chat.id)
        self.add_class("-detail-open")
        self.queue.select_id(chat.id)

    def action_save_attachments(self) -> None:
        conversation = self._target()
        if conversation is None:
            return
        attachments = [a for m in self.query_one(Transcript).messages for a in m.attachments]
        if not attachments or conversation.id != self.open_id:
            self.notify("No attachment in the open conversation.", severity="warning")
            return
        default = str(Path("~/Downloads").expanduser())
        self.app.push_screen(
            TextDialog(f"Save {len(attachments)} attachment(s) to folder", value=default),
            lambda folder: folder and self._save_attachments(conversation.id, attachments, Path(folder)),
        )

    @work(group="attachments")
    async def _save_attachments(self, cid: str, attachments: list[Attachment], folder: Path) -> None:
        saved = []
        for attachment in attachments:
            try:
                content = await self.main.hub.attachment(cid, attachment)
                path = await asyncio.to_thread(save_attachment, folder, attachment.filename, content)
            except (BackendError, OSError, ValueError) as error:
                self.notify(f"{sanitize(attachment.filename, single_line=True)}: {error}", severity="error")
                continue
            saved.append(path.name)
        if saved:
            self.notify(f"Saved in {folder}: " + ", ".join(saved), timeout=6)

    def action_macro(self) -> None:
        conversation = self._target()
        if conversation is None or not self._guard(conversation, CommandKind.REPLY):
            return
        from .macro_picker import MacroPicker
        from .macros import MacroContext

        app = self.main
        me = app.store.agents.get(app.me)
        context = MacroContext(
            conversation=conversation,
            customer=app.store.customers.get(conversation.customer_id),
            agent_name=me.name if me else app.config.agent_name,
        )
        self.app.push_screen(
            MacroPicker(app.macros(), context),
            lambda filled: filled and self._apply_macro(conversation.id, filled),
        )

    def _apply_macro(self, cid: str, filled: FilledMacro) -> None:
        """Send-now macros go out whole; the others fill the composer and act when the reply is sent."""
        conversation = self.main.store.conversations.get(cid)
        if conversation is None:
            return
        if filled.send_now:
            for command in filled.commands(cid, channel=conversation.channel, state=conversation.state):
                self._send(command)
            self.notify(f"Macro {filled.macro.id}: sent")
        else:
            self._macro_follow_up[cid] = filled.follow_up(
                cid, channel=conversation.channel, state=conversation.state
            )
            if cid != self.open_id:
                self.open_conversation(cid)
            self.add_class("-detail-open")
            self.query_one(Composer).open("reply", email=conversation.channel in EMAIL_LIKE, body=filled.text)
        if filled.macro.needs_disposition(conversation.channel):
            self._ask_disposition(cid)

    def action_merge(self) -> None:
        conversation = self._target()
        if conversation is None or not self._guard(conversation, CommandKind.MERGE):
            return
        others = [
            (c.id, f"{c.channel.value} · {c.state.value} · {sanitize(c.subject, single_line=True)[:50]}")
            for c in self.main.store.of_customer(conversation.customer_id)
            if c.id != conversation.id and c.backend == conversation.backend
        ]
        if not others:
            self.notify("This customer has no other conversation here.")
            return
        self.app.push_screen(
            PickDialog("Merge into this conversation", others),
            lambda other: (
                other and self._send(Merge(conversation_id=conversation.id, other_id=other), done="Merged")
            ),
        )

    # ------------------------------------------------------------------------------------------ closing

    def action_close(self) -> None:
        conversation = self._target()
        if conversation is None:
            return
        cid = conversation.id
        if conversation.state in (State.RINGING, State.QUEUED, State.WAITING):
            self.notify(
                "Not answered yet: a accepts it, t transfers it"
                + (", H declines it" if conversation.channel is Channel.PHONE else "."),
                severity="warning",
            )
            return
        if conversation.channel is Channel.PHONE and conversation.state in (State.CONNECTED, State.ON_HOLD):
            self._send(HangUp(conversation_id=cid))
            self._ask_disposition(cid)
        elif conversation.channel is Channel.CHAT and conversation.state is State.ACTIVE:
            self._send(EndChat(conversation_id=cid))
            self._ask_disposition(cid)
        elif conversation.state is State.WRAP_UP:
            self._ask_disposition(cid)
        elif conversation.channel is Channel.CALLBACK and conversation.state is State.DIALLING:
            self.app.push_screen(
                PickDialog(
                    "Callback outcome", [("yes", "Reached the customer"), ("no", "No answer: retry later")]
                ),
                lambda value: (
                    value
                    and self._send(
                        CallbackOutcome(conversation_id=cid, reached=value == "yes"), done="Outcome saved"
                    )
                ),
            )
        elif conversation.is_closed:
            self.notify("Already closed.")
        elif conversation.channel in EMAIL_LIKE or conversation.channel is Channel.CALLBACK:
            final = State.SOLVED if conversation.channel in EMAIL_LIKE else State.DONE
            if self._guard(conversation, CommandKind.SET_STATUS):
                self._send(SetStatus(conversation_id=cid, state=final), undo=True, done="Solved: survey sent")
        else:
            self._ask_disposition(cid)

    def _ask_disposition(self, cid: str) -> None:
        dispositions = self.main.config.dispositions or [(d.code, d.label) for d in DEFAULT_DISPOSITIONS]

        def chosen(code: str | None) -> None:
            if not code:
                self.notify("Still in wrap-up: press x to choose a disposition.")
                return

            def with_note(note: str | None) -> None:
                self._send(
                    WrapUp(conversation_id=cid, disposition=code, note=note or ""),
                    undo=True,
                    done=f"Wrapped up: {code}",
                )
                self.action_back()

            self.app.push_screen(TextDialog("Wrap-up note (optional, enter to finish)"), with_note)

        self.app.push_screen(PickDialog("Wrap-up: disposition", dispositions), chosen)

    # ------------------------------------------------------------------------------------------ attributes

    def action_transfer(self) -> None:
        conversation = self._target()
        if conversation is None or not self._guard(conversation, CommandKind.TRANSFER):
            return
        app = self.main
        agents = [
            (a.id, f"{a.name} ({a.presence.value})") for a in app.store.agents.values() if a.id != app.me
        ]
        queues = sorted({c.queue for c in app.store.conversations.values()} | {"general"})
        options = [(f"agent:{aid}", f"Agent {label}") for aid, label in agents]
        options += [(f"queue:{q}", f"Queue {q}") for q in queues]
        self.app.push_screen(PickDialog("Transfer to", options), lambda v: v and self._transfer_to(v))

    def _transfer_to(self, target: str) -> None:
        conversation = self._target()
        if conversation is None:
            return
        kind, _, name = target.partition(":")
        if not name:
            kind, name = "agent", kind
        warm = (
            conversation.channel is Channel.PHONE
            and conversation.state is State.CONNECTED
            and kind == "agent"
        )
        command = Transfer(
            conversation_id=conversation.id,
            to_agent=name if kind == "agent" else None,
            to_queue=name if kind == "queue" else None,
            warm=warm,
        )
        self._send(command, done=f"Transferred to {name}")

    def action_tag(self) -> None:
        conversation = self._target()
        if conversation is None or not self._guard(conversation, CommandKind.TAGS):
            return
        self.app.push_screen(
            TextDialog("Tags: words to add, -word to remove", value=""),
            lambda text: text and self._tags_from_words(text.split()),
        )

    def _tags_from_words(self, words: list[str]) -> None:
        conversation = self._target()
        if conversation is None:
            return
        words = [w for w in words if w not in ("add",)]
        add = tuple(w for w in words if not w.startswith("-"))
        remove = tuple(w[1:] for w in words if w.startswith("-"))
        self._send(Tags(conversation_id=conversation.id, add=add, remove=remove), done="Tags saved")

    def action_priority(self) -> None:
        conversation = self._target()
        if conversation and self._guard(conversation, CommandKind.SET_PRIORITY):
            nxt = Priority((conversation.priority + 1) % len(Priority))
            self._send(
                SetPriority(conversation_id=conversation.id, priority=nxt),
                done=f"Priority {nxt.name.lower()}",
            )

    def _set_priority(self, name: str) -> None:
        conversation = self._target()
        if conversation is None:
            return
        try:
            priority = Priority[name.upper()]
        except KeyError:
            self.notify("priority: low, normal, high or urgent", severity="warning")
            return
        self._send(SetPriority(conversation_id=conversation.id, priority=priority), done=f"Priority {name}")

    def _set_state(self, name: str) -> None:
        conversation = self._target()
        if conversation is None:
            return
        try:
            state = State(name.lower())
        except ValueError:
            self.notify(f"unknown status {name!r}", severity="warning")
            return
        self._send(SetStatus(conversation_id=conversation.id, state=state), done=f"Status {state.value}")

    def action_snooze(self) -> None:
        if self._target() is not None:
            self.app.push_screen(PickDialog("Snooze until", SNOOZE_CHOICES), lambda v: v and self._snooze(v))

    def _snooze(self, span: str) -> None:
        conversation = self._target()
        if conversation is None or not self._guard(conversation, CommandKind.SNOOZE):
            return
        try:
            until = self.main.clock() + parse_duration(span)
        except ValueError:
            self.notify("snooze: 15m, 1h, 1d ...", severity="warning")
            return
        self._send(Snooze(conversation_id=conversation.id, until=until), done=f"Snoozed {span}")

    def action_presence(self) -> None:
        options = [
            (f"{choice.presence.value}:{choice.reason}", f"{choice.key}  {choice.label}")
            for choice in presence_choices(self.main.config.presence)
        ]
        self.app.push_screen(PickDialog("Your presence", options), lambda v: v and self._presence(v))

    def _presence_from_words(self, words: list[str]) -> None:
        self._presence(":".join(words[:2]) if words else "available")

    def _presence(self, value: str) -> None:
        name, _, reason = value.partition(":")
        try:
            presence = Presence(name)
        except ValueError:
            self.notify("presence: available, busy, away REASON, offline", severity="warning")
            return
        app = self.main
        warning = validate_change(
            Load.of(app.store.conversations.values(), app.me), presence, app.config.routing
        )
        if warning:
            self.notify(warning, severity="warning", timeout=6)
        self._send(SetPresence(presence=presence, reason=reason), done=f"You are {name} {reason}".strip())
