"""The queue: a Line-API list that draws only the rows on screen, over a `View` of any size.

Like toolong's log view, it is a `ScrollView` whose virtual height is the number of rows; `render_line`
formats the one row asked for. Nothing is built per conversation until it scrolls into sight, so 100,000
rows cost what 40 do. When the view changes under it, the cursor stays on the same conversation and that
row stays at the same place on screen (no jump, no flicker).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.dom import NoScreen
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive, reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from ..console.core.model import Channel, Conversation, Priority, State
from ..console.core.sanitize import sanitize
from ..console.core.sla import SlaPolicy, SlaState, format_duration
from ..console.core.store import Store
from ..console.core.views import View

# Channel labels carry meaning by text and shape, not by colour alone (colour-blind agents).
CHANNEL_LABEL: dict[Channel, str] = {
    Channel.PHONE: "☎ CALL",
    Channel.CHAT: "◆ CHAT",
    Channel.EMAIL: "✉ MAIL",
    Channel.CALLBACK: "↺ CBCK",
    Channel.FORM: "▤ FORM",
    Channel.SOCIAL: "# SOCL",
}
STATE_LABEL: dict[State, str] = {
    State.ON_HOLD: "on hold",
    State.WRAP_UP: "wrap-up",
}
SLA_MARK: dict[SlaState, str] = {
    SlaState.NONE: " ",
    SlaState.OK: " ",
    SlaState.WARNING: "▲",
    SlaState.BREACHED: "✖",
}
PRIORITY_MARK: dict[Priority, str] = {
    Priority.LOW: "↓",
    Priority.NORMAL: " ",
    Priority.HIGH: "↑",
    Priority.URGENT: "‼",
}


NO_STYLE = Style()


def _fit(text: str, width: int) -> str:
    """`text` in exactly `width` terminal cells: a CJK character or an emoji takes two, so len() would
    push every column after a Chinese or Japanese name out of line."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


@dataclass(frozen=True, slots=True)
class RowLive:
    """What a row shows that changes without its conversation changing (the time, who else has it open):
    compared once a second, so that only the rows it changed are repainted."""

    waited: str
    sla_state: SlaState
    sla_text: str
    snooze: str
    typing: bool
    collision: str  # "@ann" (ann has it open), "✎ann" (ann is writing in it), or ""


@dataclass(frozen=True, slots=True)
class Columns:
    """Cell widths of the flexible columns for one list width (the header and every row share them)."""

    compact: bool  # a narrow list: the channel shows as its symbol only, the owner column is shorter
    channel: int
    name: int
    subject: int
    owner: int


# Cells taken by the fixed columns: state 9, waited 6+1, SLA mark+6+1, language 3, priority 1+1, mark 1,
# the space after the name, the space before the owner.
_FIXED = 9 + 7 + 8 + 3 + 2 + 1 + 1 + 1


def columns(width: int) -> Columns:
    """Widths that use the space: below 90 cells (the list beside the detail at 120 columns, or the whole
    of an 80-column screen) the channel's word and most of the owner give their room to the name and
    subject; the name takes 45% of what is left, 10 to 24 cells, the subject the rest."""
    compact = width < 90
    channel, owner = (2, 6) if compact else (7, 8)
    rest = max(20, width - _FIXED - channel - owner)
    name = max(10, min(24, rest * 9 // 20))
    return Columns(compact, channel, name, rest - name, owner)


HEADER_TITLES = ("State", "Waited", "SLA", "Lg", "Customer", "Subject", "Owner")


def header_text(width: int) -> str:
    """The column titles over the rows, placed with the same widths as `QueueList._row`."""
    cols = columns(width)
    state, waited, sla, lang, name, subject, owner = HEADER_TITLES
    return (
        _fit("" if cols.compact else "Chan.", cols.channel - 1)
        + " "
        + _fit(state, 9)
        + waited.rjust(6)
        + " "
        + " "
        + _fit(sla, 6)
        + " "
        + _fit(lang, 3)
        + "P "
        + " "
        + _fit(name, cols.name)
        + " "
        + _fit(subject, cols.subject)
        + " "
        + _fit(owner, cols.owner)
    )


class QueueHeader(Widget):
    """One line of column titles above the queue list, as wide as the list."""

    DEFAULT_CSS = """
    QueueHeader { height: 1; color: $foreground 60%; text-style: bold; }
    """

    def render(self) -> Text:
        return Text(header_text(self.size.width), no_wrap=True, overflow="crop")


def snooze_label(wake: float, now: float) -> str:
    """A snoozed item's state column (9 cells): when it wakes, local time (`zz 14:30`, `zz Wed 09`)."""
    local = time.localtime(wake)
    return time.strftime("zz %H:%M" if wake - now < 20 * 3600 else "zz %a %H", local)


class QueueList(ScrollView, can_focus=True, inherit_bindings=False):
    """Rows of conversations. Posts `Highlighted` when the cursor moves and `Selected` on enter.

    It declares no keys of its own (the scroll view's arrows would scroll without moving the cursor): the
    screen's remappable actions drive it.
    """

    COMPONENT_CLASSES = {
        "queue-list--cursor",
        "queue-list--cursor-focused",
        "queue-list--phone",
        "queue-list--chat",
        "queue-list--email",
        "queue-list--callback",
        "queue-list--warning",
        "queue-list--breached",
        "queue-list--mine",
        "queue-list--unread",
        "queue-list--dim",
    }
    DEFAULT_CSS = """
    QueueList {
        background: $surface;
        height: 1fr;
        /* No scrollbar: Textual redraws a whole bar per line of it, every frame, which cost more than the
           rows under a flood. The position shows in the view bar instead (row / total). */
        scrollbar-size-vertical: 0;
    }
    QueueList > .queue-list--cursor { background: $accent 40%; text-style: bold; }
    /* Not `QueueList:focus > .queue-list--cursor`: a style that follows focus repaints all 45 rows on each
       `/` and esc; the list picks this one while it has focus and repaints the cursor's row only. */
    QueueList > .queue-list--cursor-focused { background: $accent 70%; text-style: bold; }
    QueueList > .queue-list--phone { color: $secondary; text-style: bold; }
    QueueList > .queue-list--chat { color: $primary; text-style: bold; }
    QueueList > .queue-list--email { color: $foreground 80%; }
    QueueList > .queue-list--callback { color: $secondary; }
    QueueList > .queue-list--warning { color: $warning; text-style: bold; }
    QueueList > .queue-list--breached { color: $error; text-style: bold reverse; }
    QueueList > .queue-list--mine { color: $success; text-style: bold; }
    QueueList > .queue-list--unread { text-style: bold; }
    QueueList > .queue-list--dim { color: $foreground 50%; }
    """

    # No repaint by the reactive itself: a move repaints the two rows it touches, not the 45 on screen.
    cursor: reactive[int] = reactive(0, always_update=True, init=False, repaint=False)
    # The list's own size is the pane's, whatever its number of rows: Textual's declaration laid the whole
    # screen out again each time the count changed (each filter applied, each new conversation of a flood).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    class _QueueMessage(Message):
        def __init__(self, queue: QueueList) -> None:
            super().__init__()
            self.queue = queue

        @property
        def control(self) -> QueueList:
            return self.queue

    class Highlighted(_QueueMessage):
        def __init__(self, queue: QueueList, conversation_id: str | None) -> None:
            super().__init__(queue)
            self.conversation_id = conversation_id

    class Selected(_QueueMessage):
        def __init__(self, queue: QueueList, conversation_id: str) -> None:
            super().__init__(queue)
            self.conversation_id = conversation_id

    class MarksChanged(_QueueMessage):
        """Rows were marked or unmarked (tag-then-act): the screen says how many."""

    def __init__(
        self,
        store: Store,
        view: View,
        *,
        me: str | None,
        sla: SlaPolicy,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.store = store
        self.view = view
        self.me = me
        self.sla = sla
        self.clock = clock
        self._cursor_id: str | None = None
        self._styles: dict[str, Style] = {}
        # Per screen row, what was painted there: its index, conversation and live texts (see refresh_live).
        self._painted: dict[int, tuple[int, str, RowLive]] = {}
        self._marked: set[str] = set()  # rows marked with space (tag-then-act), this list's own

    # ------------------------------------------------------------------------------------------ marks

    @property
    def marked(self) -> frozenset[str]:
        return frozenset(self._marked)

    @property
    def mark_count(self) -> int:
        """How many rows are marked, without copying the set (the status line asks on every key)."""
        return len(self._marked)

    def toggle_mark(self, conversation_id: str) -> None:
        self._marked ^= {conversation_id}
        self.refresh()
        self.post_message(self.MarksChanged(self))

    def clear_marks(self) -> bool:
        """Marks cleared; False when there were none."""
        if not self._marked:
            return False
        self._marked.clear()
        self.refresh()
        self.post_message(self.MarksChanged(self))
        return True

    def take_marks(self) -> list[str]:
        """The marked ids, in order, and the marks spent: an action on marked rows uses them once."""
        taken = sorted(self._marked)
        self.clear_marks()
        return taken

    # ------------------------------------------------------------------------------------------ data

    @property
    def cursor_id(self) -> str | None:
        return self._cursor_id

    def set_view(self, view: View) -> None:
        self.view = view
        self._cursor_id = view.id_at(0) if len(view) else None
        self.scroll_to(y=0, animate=False)
        self._resize()
        self.cursor = 0
        self.refresh()

    def rows_changed(self) -> None:
        """The view changed: keep the cursor on its conversation and that row where it was on screen."""
        old_index = self.cursor
        index = self.view.index_of(self._cursor_id) if self._cursor_id else None
        if index is None:
            index = min(old_index, max(0, len(self.view) - 1))
            self._cursor_id = self.view.id_at(index) if len(self.view) else None
            self.post_message(self.Highlighted(self, self._cursor_id))
        shift = index - old_index
        self._resize()
        if shift:
            self.scroll_to(y=self.scroll_offset.y + shift, animate=False, immediate=True)
        self.set_reactive(QueueList.cursor, index)
        self.refresh()

    def rows_updated(self, conversation_ids: set[str]) -> None:
        """Only these conversations changed, none moved: repaint their rows if they are on screen."""
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        for index in range(top, min(top + height, len(self.view))):
            if self.view.id_at(index) in conversation_ids:
                self.refresh_line(index)

    def _resize(self) -> None:
        size = Size(self.size.width, len(self.view))
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)  # what the layout pass did for a list: clamp the scroll to the rows

    def on_resize(self) -> None:
        self._resize()

    def on_mount(self) -> None:
        self._resize()
        if len(self.view):
            self._cursor_id = self.view.id_at(0)

    def _on_focus(self, event: events.Focus) -> None:
        self._focus_moved(event, True, events.DescendantFocus(self))

    def _on_blur(self, event: events.Blur) -> None:
        self._focus_moved(event, False, events.DescendantBlur(self))

    def _focus_moved(self, event: events.Event, focused: bool, tell_parent: events.Event) -> None:
        # Textual's own handlers repaint the whole list; only the cursor's row looks different with focus.
        event.prevent_default()
        self.has_focus = focused
        self.refresh_line(self.cursor)
        if self.parent is not None:
            self.parent.post_message(tell_parent)

    def watch_has_focus(self, _has_focus: bool) -> None:
        """No restyle: no rule styles the list by `:focus` (render_line picks the cursor's style), and
        restyling it, with its 14 component classes, cost 4 ms on every `/` and esc."""

    def focus(self, scroll_visible: bool = True) -> Self:
        """Focus the list now. Textual's `focus()` waits behind the messages already queued, so a key typed
        right after an esc or a sent reply (`/`) would open the prompt and then lose the focus to the list."""
        with contextlib.suppress(NoScreen):
            self.screen.set_focus(self, scroll_visible=scroll_visible)
        return self

    # ------------------------------------------------------------------------------------------ cursor

    def watch_cursor(self, old: int, index: int) -> None:
        self._cursor_id = self.view.id_at(index) if 0 <= index < len(self.view) else None
        if self._scroll_cursor_into_view():
            self.refresh()
        else:
            self.refresh_line(old)
            self.refresh_line(index)
        self.post_message(self.Highlighted(self, self._cursor_id))

    def validate_cursor(self, index: int) -> int:
        return max(0, min(index, len(self.view) - 1)) if len(self.view) else 0

    def _scroll_cursor_into_view(self) -> bool:
        """Scroll so that the cursor's row shows; True when the list scrolled."""
        top = self.scroll_offset.y
        height = max(1, self.scrollable_content_region.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        return self.scroll_offset.y != top

    def move(self, delta: int) -> None:
        self.cursor = self.cursor + delta

    def page(self, direction: int) -> None:
        self.cursor = self.cursor + direction * max(1, self.scrollable_content_region.height - 1)

    def go(self, index: int) -> None:
        self.cursor = index

    def select_id(self, conversation_id: str) -> bool:
        index = self.view.index_of(conversation_id)
        if index is None:
            return False
        self.cursor = index
        return True

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", None)
        if y is None:
            return
        index = self.scroll_offset.y + int(y)
        if 0 <= index < len(self.view):
            if index == self.cursor and getattr(event, "chain", 1) >= 2:
                self.post_message(self.Selected(self, self.view.id_at(index)))
            self.cursor = index

    # ------------------------------------------------------------------------------------------ drawing

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _base_style(self) -> Style:
        # `rich_style` builds a Style on every call; a 45-row repaint asked for it 45 times.
        style = self._styles.get("")
        if style is None:
            style = self._styles[""] = self.rich_style
        return style

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            component = f"queue-list--{name}"
            style = self.get_component_rich_style(component, partial=True)
            if style.bgcolor is not None:
                # A partial style drops the background's alpha: `$accent 40%` and `$accent 70%` came out the
                # same colour, and the cursor looked alike with and without the keys. The blended one is kept.
                style += Style(bgcolor=self.get_component_rich_style(component).bgcolor)
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        base = self._base_style()
        if not 0 <= index < len(self.view):
            return Strip.blank(width, base)
        conversation = self.store.conversations.get(self.view.id_at(index))
        if conversation is None:
            return Strip.blank(width, base)
        now = self.clock()
        live = self._live(conversation, now)
        self._painted[y] = (index, conversation.id, live)
        strip = Strip(self._row(conversation, width, now, live)).adjust_cell_length(width)
        if index == self.cursor:
            # Inner styles win over outer ones: the cursor goes on before the widget's own background.
            strip = strip.apply_style(self._style("cursor-focused" if self.has_focus else "cursor"))
        return strip.apply_style(base)

    def _live(self, c: Conversation, now: float) -> RowLive:
        """What the time and the other agents change in a row; the rest changes only with the conversation."""
        sla_state = self.sla.state(c, now)
        deadline = self.sla.deadline(c)
        if sla_state is SlaState.BREACHED and deadline is not None:
            sla_text = "+" + format_duration(now - deadline)
        elif sla_state is not SlaState.NONE and deadline is not None:
            sla_text = format_duration(deadline - now)
        else:
            sla_text = ""
        return RowLive(
            waited=format_duration(c.waited(now)) if not c.is_closed else "done",
            sla_state=sla_state,
            sla_text=sla_text,
            snooze=snooze_label(c.snoozed_until, now)
            if c.snoozed_until is not None and c.snoozed_until > now
            else "",
            typing=self.store.typing(c.id, now),
            collision=self._collision(c.id),
        )

    def _collision(self, conversation_id: str) -> str:
        others = self.store.viewers(conversation_id, besides=self.me)
        if not others:
            return ""
        first = others[0]
        return ("✎" if first.typing_in == conversation_id else "@") + first.id

    def refresh_live(self) -> None:
        """Repaint the rows whose live texts changed: once a second (a wait under an hour shows its seconds,
        the rest change once a minute) and when other agents move. Repainting every row instead cost 7 ms
        a second at 160×45, in the way of the agent's keys."""
        now = self.clock()
        top = self.scroll_offset.y
        height = self.scrollable_content_region.height
        for y in range(height):
            index = top + y
            if index >= len(self.view):
                break
            conversation = self.store.conversations.get(self.view.id_at(index))
            if conversation is None:
                continue
            if self._painted.get(y) != (index, conversation.id, self._live(conversation, now)):
                self.refresh_line(index)

    def _row(self, c: Conversation, width: int, now: float, live: RowLive) -> list[Segment]:
        channel_style = self._style(
            {Channel.PHONE: "phone", Channel.CHAT: "chat", Channel.CALLBACK: "callback"}.get(
                c.channel, "email"
            )
        )
        sla_state, sla_text = live.sla_state, live.sla_text
        if sla_state is SlaState.BREACHED and sla_text:
            sla_style = self._style("breached")
        elif sla_state is not SlaState.NONE and sla_text:
            sla_style = self._style("warning") if sla_state is SlaState.WARNING else NO_STYLE
        else:
            sla_style = self._style("dim")
        waited = live.waited
        owner = "me" if c.assignee and c.assignee == self.me else (c.assignee or "")
        owner_style = self._style("mine") if owner == "me" else self._style("dim")
        if live.collision:
            # Collision: someone else has it open (@) or is writing in it (✎).
            owner, owner_style = live.collision, self._style("warning")
        name_style = self._style("unread") if c.unread else NO_STYLE
        state = live.snooze or STATE_LABEL.get(c.state, c.state.value)
        cols = columns(width)
        tags = (" [" + ",".join(c.tags) + "]") if c.tags and cols.subject > 30 else ""
        typing = "…" if live.typing else ""
        label = CHANNEL_LABEL[c.channel]
        return [
            Segment(_fit(label[0] if cols.compact else label, cols.channel - 1) + " ", channel_style),
            Segment(_fit(state, 9), self._style("dim") if c.is_closed else NO_STYLE),
            Segment(waited.rjust(6) + " "),
            Segment(SLA_MARK[sla_state], sla_style),
            Segment(_fit(sla_text, 6) + " ", sla_style),
            Segment(_fit(sanitize(c.language.upper(), single_line=True), 3), self._style("dim")),
            Segment(PRIORITY_MARK[c.priority] + " "),
            Segment("*" if c.id in self._marked else ("●" if c.unread else " "), self._style("unread")),
            Segment(_fit(sanitize(c.customer_name, single_line=True) + typing, cols.name) + " ", name_style),
            Segment(_fit(sanitize(c.subject + tags, single_line=True), cols.subject)),
            Segment(" " + _fit(sanitize(owner, single_line=True), cols.owner), owner_style),
        ]
