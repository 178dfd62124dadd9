"""The workspace: the one screen agents live in. Queue on the left, the open conversation on the right.

At 80 columns the panes stack: the list fills the screen and `enter` opens the detail over it (`esc` comes
back). Everything is reachable from the keyboard; every key is an action of `actions.py` and remappable.

The screen holds the bindings (most keys work wherever the focus is: the list, the detail, the composer, and
the screen is the one ancestor they share), moves the cursor and shows what it is on. The work itself is done
by parts it composes, each owning one kind of work and written against `WorkspaceView`: composing, taking
work, the call, closing, editing attributes, the marked rows, the open conversation's detail. Each `action_*`
below names the part it goes to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import Reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from ...backends.base import (
    CommandKind,
)
from ...widgets.call_panel import CallPanel
from ...widgets.composer import Composer
from ...widgets.cropped_compositor import CroppedCompositor
from ...widgets.customer_card import CustomerCard
from ...widgets.detail_header import DetailHeader
from ...widgets.frame_timer import QuickFrames
from ...widgets.key_hints import KeyHints
from ...widgets.offer_banner import OfferBanner
from ...widgets.prompt_line import PromptCandidates, PromptLine
from ...widgets.queue_list import QueueHeader, QueueList
from ...widgets.status_bar import StatusBar
from ...widgets.transcript import Transcript
from ...widgets.view_bar import ViewBar
from ..core.model import Conversation
from ..core.store import Changes
from ..core.views import VIEW_SCOPES, ViewSet
from .actions import ACTIONS, BY_NAME
from .call_controls import CallControls
from .closing_flow import ClosingFlow
from .command_line import split
from .composing import Composing
from .conversation_edits import ConversationEdits
from .detail_pane import DetailPane
from .empty_list import STARTING_MESSAGE, empty_list_message
from .filtering import Filtering
from .finding import Finding
from .marked_rows import MarkedRows
from .messages_screen import MessagesScreen
from .taking_work import TakingWork

if TYPE_CHECKING:
    from ...backends.base import Command
    from ..core.outbox import OutboxEntry
    from .host import ConsoleHost

NARROW = 110


# The backend capability each action needs: asked for every binding each time the bindings in force are
# listed (key hints, the call panel's keys, `?`), so a lookup, not a walk through ACTIONS.
_COMMAND_OF: dict[str, CommandKind] = {
    action.action: action.command for action in reversed(ACTIONS) if action.command is not None
}


class WorkspaceScreen(QuickFrames, Screen[None]):  # a frame as soon as asked, one a period at most
    BINDINGS = [action.binding() for action in ACTIONS if not action.id.startswith("app.")] + [
        action.binding() for action in ACTIONS if action.id.startswith("app.")
    ]
    BINDINGS += [
        Binding("o", "unfold", "Unfold quotes", show=False, id="detail.unfold"),
        Binding("ctrl+z", "undo", "Undo send", show=False, id="work.undo"),
        # Push mode: keys no typing produces, so that an offer arriving mid-reply never takes a letter.
        # Priority: they work in the composer and the prompt too, and only while an offer shows.
        Binding("ctrl+o", "offer(True)", "Accept the offer", show=False, priority=True, id="offer.accept"),
        Binding("ctrl+n", "offer(False)", "Decline the offer", show=False, priority=True, id="offer.decline"),
    ]
    DEFAULT_CSS = """
    WorkspaceScreen #main { height: 1fr; }
    WorkspaceScreen #left { width: 3fr; min-width: 60; }
    WorkspaceScreen #detail { width: 2fr; border-left: vkey $primary 50%; }
    WorkspaceScreen.-narrow #left { min-width: 0; }
    WorkspaceScreen.-narrow #detail { border-left: none; }
    WorkspaceScreen #empty { padding: 1 2; color: $foreground 60%; display: none; }
    WorkspaceScreen.-empty #empty { display: block; }
    WorkspaceScreen #nothing-open { padding: 1 2; color: $foreground 60%; }
    WorkspaceScreen.-narrow CustomerCard { max-height: 5; }
    WorkspaceScreen.-composing CustomerCard { display: none; }
    WorkspaceScreen CallPanel { display: none; }
    """

    # Textual's `Screen.focused` repaints the whole screen on each change: a full render of 160×45 (12 ms) on
    # every `/`, `r` and esc. The widget that gains focus and the one that loses it repaint themselves
    # (`Widget._on_focus`, `_on_blur`) and no rule here styles an ancestor by `:focus-within`.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self) -> None:
        super().__init__()
        self._compositor = CroppedCompositor()  # renders only the lines an update covers
        self.views: ViewSet
        self.current = "all"
        self.open_id: str | None = None
        self._detail_timer: Timer | None = None
        self._header_stale = False
        self._rows_moved = False
        self._rows_touched: set[str] = set()
        self._agents_moved = False
        self._empty_message = STARTING_MESSAGE
        # Which panes show is set on the panes themselves (`_arrange`), not by classes on the screen: a
        # screen's class changed restyles every widget (~40 ms at 160×45), and enter, esc and moving between
        # a call and a mail would each pay it.
        self.detail_open = False  # on a narrow screen: the detail covers the list
        self._showing_call = False
        # The parts that do the work, each given the siblings it uses (no part reaches another through the screen).
        self.marks = MarkedRows(self)
        self.closing = ClosingFlow(self, self.marks)
        self.composing = Composing(self, self.closing)
        self.detail = DetailPane(self, self.composing)
        self.taking = TakingWork(self, self.marks, self.composing)
        self.calls = CallControls(self)
        self.edits = ConversationEdits(self, self.marks)
        self.finding = Finding(self)
        self.filtering = Filtering(self)

    @property
    def main(self) -> ConsoleHost:
        return cast("ConsoleHost", self.app)

    # ------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        app = self.main
        # Set before the children exist: changing a screen's classes later restyles every widget (~15 ms).
        self.set_class(app.size.width < NARROW, "-narrow")
        self.add_class("-empty")
        self.views = ViewSet(
            {name: scope for name, (_, scope) in VIEW_SCOPES.items()}, me=app.me, sla=app.config.sla
        )
        yield StatusBar(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield ViewBar(id="viewbar")
                yield QueueHeader(id="queue-header")
                yield Static(Text(STARTING_MESSAGE), id="empty")
                yield QueueList(
                    app.store, self.views["all"], me=app.me, sla=app.config.sla, clock=app.clock, id="queue"
                )
            with Vertical(id="detail"):
                yield DetailHeader("", id="detail-header")
                yield Static("Select a conversation and press enter.", id="nothing-open")
                yield CallPanel(id="call")
                yield CustomerCard(id="customer")
                yield Transcript(id="transcript")
                yield Composer(
                    on_submit=self.composing.submitted,
                    on_opened=self.composing.opened,
                    on_closed=self.composing.closed,
                    id="composer",
                )
        yield OfferBanner(id="offer")
        yield PromptCandidates(id="prompt-candidates")
        yield PromptLine(self._prompt_done, id="prompt")
        yield KeyHints()

    @property
    def queue(self) -> QueueList:
        return self.query_one(QueueList)

    @property
    def marked(self) -> frozenset[str]:
        """Rows marked for tag-then-act: the queue list's own set."""
        return self.queue.marked

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    def on_mount(self) -> None:
        self.rebuild_views()
        self.queue.focus()
        self._update_layout(self.size.width)

    def on_resize(self, event: object) -> None:
        self._update_layout(self.size.width)

    def _update_layout(self, width: int) -> None:
        self.set_class(width < NARROW, "-narrow")
        self._arrange()

    def _arrange(self) -> None:
        """Show the panes and detail parts that the width, the open detail and the contact call for."""
        if not self.query("#left"):
            return  # not composed yet
        narrow = self.has_class("-narrow")
        self.query_one("#left").display = not (narrow and self.detail_open)
        self.query_one("#detail").display = not narrow or self.detail_open
        composing = self.has_class("-composing")
        self.query_one(CallPanel).display = self._showing_call and not (narrow and composing)

    # ------------------------------------------------------------------------------------------ live data

    def rebuild_views(self) -> None:
        self.views.rebuild(self.main.store.conversations, self.main.clock(), self.main.store.heads)
        self.queue.rows_changed()
        self.refresh_chrome()

    def apply_changes(self, changes: Changes, *, draw: bool = True) -> None:
        """A batch of events reached the store: update views in place, keep the cursor, refresh what shows."""
        store = self.main.store
        if changes.reloaded or len(changes.conversations) > 20_000:  # one sort beats 20k insertions
            self.views.rebuild(store.conversations, self.main.clock(), store.heads, changes.order)
            self._rows_moved = True
        else:
            moved = self.views.update(
                changes.conversations | changes.removed,
                store.conversations,
                self.main.clock(),
                changes.previous,
            )
            self._rows_moved = self._rows_moved or moved
            self._rows_touched |= changes.conversations
        self._rows_touched |= changes.typing
        # Another agent opening or leaving a conversation changes its row's owner column (a collision).
        self._agents_moved = self._agents_moved or bool(changes.agents)
        self.filtering.store_changed(changes)
        if self.open_id:
            for message in changes.messages:
                if message.conversation_id == self.open_id:
                    self.query_one(Transcript).add(message)
            # A survey answered (records) shows on the customer card: this contact's, or a past one's.
            if (
                self.open_id in changes.conversations
                or self.open_id in changes.typing
                or changes.agents
                or changes.records
            ):
                self._header_stale = True
        if draw:
            self.draw()

    def draw(self) -> None:
        """Once a frame at most: the list, the chrome, and the open conversation's header if it changed.

        When no row moved (most of a flood: unread counts, timestamps), only the visible changed rows are
        repainted, not the whole list."""
        if self._rows_moved:
            self.queue.rows_changed()
        elif self._rows_touched:
            self.queue.rows_updated(self._rows_touched)
        if self._agents_moved and not self._rows_moved:
            self.queue.refresh_live()
        self._rows_moved = self._agents_moved = False
        self._rows_touched = set()
        if self._header_stale:
            self._header_stale = False
            self.detail.show_header()
        self.refresh_chrome()

    def tick(self) -> None:
        """Once a second: waiting times and SLA clocks move; snoozed items wake."""
        if not self.query(QueueList):
            return  # not composed yet, or its widgets already removed while the console closes
        now = self.main.clock()
        view = self.views[self.current]
        if view.next_wake <= now:
            view.rebuild(self.main.store.conversations.values(), now)
            self.queue.rows_changed()
        self.queue.refresh_live()
        self.refresh_chrome()
        if self.open_id:
            self.detail.show_header()

    def refresh_chrome(self) -> None:
        app = self.main
        self.query_one(StatusBar).show(app.store, app.me, app.clock(), self.views)
        self._draw_view_bar()
        view = self.views[self.current]
        self.set_class(len(view) == 0, "-empty")
        if len(view) == 0:
            self._show_empty_message(view.filter.text, view.filter.errors)

    def _show_empty_message(self, text: str, errors: list[str]) -> None:
        """An empty list says why: nothing waiting, or nothing matching the filter typed."""
        message = empty_list_message(self.current, text, errors, self.main.store.links)
        if message != self._empty_message:
            self._empty_message = message
            # The filter is the agent's typing: plain text, never markup.
            self.query_one("#empty", Static).update(Text(message))

    def _draw_view_bar(self) -> None:
        self.query_one(ViewBar).show(self.views, self.current, self.queue.cursor, self.queue.mark_count)

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
        now = self.main.clock()
        if view.next_wake <= now:  # a snoozed item woke while this view was not shown
            view.rebuild(self.main.store.conversations.values(), now)
        self.queue.set_view(view)
        prompt = self.query_one(PromptLine)
        if prompt.mode == "idle":
            prompt.value = view.filter.text  # each view keeps its own filter; show this one's
        self.queue.focus()
        self.refresh_chrome()

    def action_open(self) -> None:
        cid = self.queue.cursor_id
        if cid:
            self.open_conversation(cid)
            self.show_detail()

    def action_back(self) -> None:
        composer = self.query_one(Composer)
        if composer.is_open:
            composer.hide()
            self.queue.focus()
        elif self.marks.clear():
            pass
        elif self.detail_open:
            self.hide_detail()
            self.queue.focus()
        elif self.views[self.current].filter.text:
            self.filtering.apply("")
            self.query_one(PromptLine).close(clear=True)

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
        self._draw_view_bar()
        # Moving fast through the list must not load every conversation on the way: wait for a pause.
        if self._detail_timer is not None:
            self._detail_timer.stop()
        if message.conversation_id and not self.has_class("-narrow"):
            cid = message.conversation_id
            self._detail_timer = self.set_timer(0.12, lambda: self.open_conversation(cid))

    def show_taken(self, conversation_id: str) -> None:
        """After taking an item (n, or an accepted offer): open it where the agent will work on it."""
        if not self.query(QueueList):
            return  # the answer came back while the console was closing
        self.action_view("all")
        self.queue.select_id(conversation_id)
        self.open_conversation(conversation_id)
        self.show_detail()

    def show_composing(self, composing: bool) -> None:
        self.set_class(composing, "-composing")
        self._arrange()

    def show_detail(self) -> None:
        if not self.detail_open:
            self.detail_open = True
            self._arrange()

    def hide_detail(self) -> None:
        if self.detail_open:
            self.detail_open = False
            self._arrange()

    def on_queue_list_selected(self, message: QueueList.Selected) -> None:
        self.open_conversation(message.conversation_id)
        self.show_detail()

    # ------------------------------------------------------------------------------------------ detail

    def current_conversation(self) -> Conversation | None:
        cid = self.open_id or self.queue.cursor_id
        return self.main.store.conversations.get(cid) if cid else None

    def target(self) -> Conversation | None:
        """The conversation an action applies to: the highlighted row (the open one if the list is empty).

        Not the open one first: after a move or a filter the detail pane waits a moment before it follows
        the cursor (drawing only), and a key typed in that moment is meant for the row the agent sees
        highlighted. The pane is brought to that row now, so that what the action opens shows it. On a
        narrow screen with the detail open the list is hidden: what the agent sees is the open one."""
        found = self.finding.outside
        if self.has_class("-narrow") and self.detail_open and self.open_id:
            cid: str | None = self.open_id
        elif found is not None and found[0] == self.open_id and found[1] == self.queue.cursor_id:
            cid = self.open_id  # a search result outside the view, opened: still what the agent sees
        else:
            cid = self.queue.cursor_id or self.open_id
        conversation = self.main.store.conversations.get(cid) if cid else None
        if conversation is None:
            self.notify("Select a conversation first.", severity="warning")
            return None
        if self._detail_timer is not None:
            self._detail_timer.stop()
            self._detail_timer = None
        if conversation.id != self.open_id and not self.has_class("-narrow"):
            self.open_conversation(conversation.id)
        return conversation

    def open_conversation(self, cid: str) -> None:
        self.detail.open(cid)

    def show_call_panel(self, shown: bool) -> None:
        if shown != self._showing_call:
            self._showing_call = shown
            self._arrange()

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
            self.filtering.typed(event.value)

    def _prompt_done(self, mode: str, value: str | None) -> None:
        """Enter (`value`) or esc (None) in the prompt, answered before the next key is read."""
        prompt = self.query_one(PromptLine)
        prompt.close(clear=value is None)
        if mode == "filter":
            self.filtering.done(value)
        self.queue.focus()
        if mode == "command" and value is not None:
            self.run_command_line(value)

    def line_handlers(self) -> dict[str, Callable[[list[str]], None]]:
        """What runs each word of command_line.WORDS (the same names: tests/ui/test_command_line.py)."""
        return {
            "view": lambda a: self.action_view(a[0] if a else "all"),
            "theme": lambda a: self.main.set_theme_named(" ".join(a)),
            "presence": self.edits.presence_from_words,
            "priority": lambda a: self.edits.set_priority(a[0] if a else ""),
            "snooze": lambda a: self.edits.snooze_for(a[0] if a else "1h"),
            "tag": self.edits.tags_from_words,
            "transfer": lambda a: self.edits.transfer_to(a[0]) if a else self.edits.transfer(),
            "dtmf": lambda a: self.calls.dtmf("".join(a) if a else None),
            "status": lambda a: self.edits.set_state(a[0] if a else ""),
            "filter": lambda a: self.filtering.apply(" ".join(a)),
            "search": lambda a: self.finding.search(" ".join(a)),
            "quit": lambda a: self.call_later(self.main.action_quit),  # asks first, as ctrl+q does
            "messages": lambda a: self.app.push_screen(MessagesScreen(self.main.said)),
        }

    def run_command_line(self, line: str) -> None:
        parsed = split(line)
        if parsed is None:
            return
        name, args = parsed
        handlers = self.line_handlers()
        if name in handlers:
            handlers[name](args)
            return
        action = BY_NAME.get(name)
        if action is None:
            self.notify(
                f"Unknown command: {name}. Press : then tab to complete, ? for keys.", severity="warning"
            )
            return
        # run_action is a coroutine: called bare it never ran, so `:help` or `:outbox` did nothing.
        self.call_later(self.run_action, action.action)

    # ------------------------------------------------------------------------------------------ the parts' actions
    # Textual runs a key's action on the node holding its binding, the screen: each one goes to its part.

    def action_reply(self) -> None:
        self.composing.open("reply")

    def action_reply_all(self) -> None:
        self.composing.open("reply_all")

    def action_forward(self) -> None:
        self.composing.open("forward")

    def action_note(self) -> None:
        self.composing.open("note")

    def action_macro(self) -> None:
        self.composing.macro()

    def action_undo(self) -> None:
        self.composing.undo()

    def on_composer_edited(self, message: Composer.Edited) -> None:
        self.composing.edited(message)

    def on_composer_text_external_editor(self, message: object) -> None:
        self.composing.edit_externally()

    def action_accept(self) -> None:
        self.taking.accept()

    def action_claim(self) -> None:
        self.taking.claim()

    def action_release(self) -> None:
        self.taking.release()

    def action_next_best(self) -> None:
        self.taking.next_best()

    def action_chat_session(self, number: int) -> None:
        self.taking.chat_session(number)

    def action_save_attachments(self) -> None:
        self.taking.save_attachments()

    def action_merge(self) -> None:
        self.taking.merge()

    def action_hold(self) -> None:
        self.calls.hold()

    def action_mute(self) -> None:
        self.calls.mute()

    def action_dtmf(self) -> None:
        self.calls.dtmf()

    def action_hang_up(self) -> None:
        self.calls.hang_up()

    def action_dial(self) -> None:
        self.calls.dial()

    def action_schedule(self) -> None:
        self.calls.schedule()

    def action_close(self) -> None:
        self.closing.close()

    def action_transfer(self) -> None:
        self.edits.transfer()

    def action_tag(self) -> None:
        self.edits.tag()

    def action_priority(self) -> None:
        self.edits.priority()

    def action_snooze(self) -> None:
        self.edits.snooze()

    def action_presence(self) -> None:
        self.edits.presence()

    def action_mark(self) -> None:
        self.marks.mark()

    def action_search(self, query: str = "") -> None:
        self.finding.search(query)

    def action_history(self) -> None:
        self.finding.history()

    def action_timeline(self) -> None:
        self.finding.timeline()

    def action_reopen(self) -> None:
        self.edits.reopen()

    def on_queue_list_marks_changed(self, message: QueueList.MarksChanged) -> None:
        self.refresh_chrome()

    # ------------------------------------------------------------------------------------------ sending

    def send(self, command: Command, *, undo: bool = False, done: str = "") -> None:
        self.main.send(command, undo=undo, done=done)

    def ask(self, dialog: Screen[Any], answered: Callable[[Any], object]) -> None:
        self.app.push_screen(dialog, answered)

    def show_view(self, name: str) -> None:
        self.action_view(name)

    def back(self) -> None:
        self.action_back()

    async def take_back_for_editing(self, entry: OutboxEntry) -> bool:
        return await self.composing.take_back_for_editing(entry)

    def guard(self, conversation: Conversation, kind: CommandKind) -> bool:
        if not self.main.hub.supports(kind, conversation):
            self.notify(
                f"{conversation.backend} does not support {kind.value.replace('_', ' ')}.", severity="warning"
            )
            return False
        return True

    def action_offer(self, accept: bool) -> None:
        self.query_one(OfferBanner).answer(accept)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Disable keys the backend cannot honour (they show greyed in the footer and in `?`)."""
        if action == "offer":  # off when no offer shows: ctrl+o / ctrl+n then reach the focused widget
            return self.query_one(OfferBanner).showing
        command = _COMMAND_OF.get(action)
        if command is None or not self.main.hub_ready:
            return True
        return True if self.main.hub.supports(command) else None
