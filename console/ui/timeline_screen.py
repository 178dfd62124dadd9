"""`T` (or ctrl+t in `C`'s list): one customer's contacts as one thread in time order.

Every conversation of the customer, across channels and backends (`Hub.customer_history` for the customer
and for the ids other backends know the same email address or phone number by), its messages
loaded (`Hub.history`) and interleaved by time, oldest at the top and the newest highlighted, as a chat
reads. Each line says when, which channel and conversation (a coloured bar per conversation, its subject),
who wrote and the start of what was written; a conversation without messages (a call) is one line, its
opening. Enter opens the highlighted line's conversation, a closed one too (`X` reopens it), as a search
result opens; esc closes.

Every string is the customer's or a backend's: sanitised and drawn as `Text`, never markup. The keys typed
after `T` wait until the thread is shown (the workspace holds them, this screen lets them go), so `T`, `k`
and enter typed in one burst open the line above the newest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...backends.base import BackendError
from ...backends.optional import SearchHit
from ...widgets.queue_list import CHANNEL_LABEL
from ..core.model import Conversation, Customer, Direction, Message
from ..core.sanitize import sanitize

# The newest conversations of the customer whose messages are loaded, and the lines shown at most.
CONVERSATIONS = 40
LINES = 1000
PARALLEL = 4  # histories asked at once
BODY_CHARS = 200
_BARS = ("cyan", "magenta", "green", "yellow", "blue", "red")
_WHO = {
    Direction.INBOUND: "customer",
    Direction.OUTBOUND: "agent",
    Direction.NOTE: "note",
    Direction.SYSTEM: "·",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the thread: a message of a conversation, or (message None) its opening."""

    at: float
    conversation: Conversation
    message: Message | None = None


def merge(histories: list[tuple[Conversation, list[Message]]], limit: int = LINES) -> list[Entry]:
    """The lines of every conversation in time order, oldest first; the newest `limit` of them."""
    entries: list[Entry] = []
    for conversation, messages in histories:
        if messages:
            entries.extend(Entry(m.created_at, conversation, m) for m in messages)
        else:
            entries.append(Entry(conversation.created_at, conversation))
    entries.sort(key=lambda e: (e.at, e.conversation.id, e.message.id if e.message else ""))
    return entries[-limit:]


def same_person(customers: Mapping[str, Customer], customer_id: str, me: Customer | None = None) -> list[str]:
    """The customer's id and the ids other backends know them by: the same email address or phone number
    (each backend qualifies its own ids, `local:c-anna` and `mail:anna@example.com`)."""
    me = me or customers.get(customer_id)
    ids = [customer_id]
    if me is None:
        return ids
    email = me.email.strip().casefold()
    phone = "".join(ch for ch in me.phone if ch.isdigit())
    for other in customers.values():
        if other.id == customer_id:
            continue
        if (email and other.email.strip().casefold() == email) or (
            len(phone) >= 6 and "".join(ch for ch in other.phone if ch.isdigit()) == phone
        ):
            ids.append(other.id)
    return ids


def one_line(text: str) -> str:
    return " ".join(sanitize(text, single_line=True).split())


def entry_text(entry: Entry, colour: str, now: float) -> Group:
    """A head line (when, channel, conversation, who) and the start of the message, each cut to one line."""
    c = entry.conversation
    head = Text(no_wrap=True, overflow="ellipsis")
    head.append("▌ ", style=colour)
    when = time.strftime("%H:%M" if now - entry.at < 86_400 else "%Y-%m-%d %H:%M", time.localtime(entry.at))
    head.append(f"{when:<16} ", style="dim")
    head.append(f"{CHANNEL_LABEL[c.channel]} ", style="bold")
    head.append(one_line(c.subject) or "(no subject)", style=colour)
    head.append(f"  {c.state.value}", style="dim" if c.is_closed else "")
    head.append(f"  {one_line(c.id.partition(':')[0])}", style="dim")
    message = entry.message
    if message is None:
        body = Text("    opened", style="dim italic", no_wrap=True, overflow="ellipsis")
        return Group(head, body)
    who = _WHO.get(message.direction, "")
    author = one_line(message.author)
    head.append(f"  {who}{' ' + author if author and author != who else ''}", style="italic")
    text = one_line(message.body[: BODY_CHARS * 4])[:BODY_CHARS]
    body = Text(
        "    " + (text or "(no text)"),
        no_wrap=True,
        overflow="ellipsis",
        style="dim" if message.direction in (Direction.NOTE, Direction.SYSTEM) else "",
    )
    return Group(head, body)


class TimelineScreen(ModalScreen[SearchHit | None]):
    DEFAULT_CSS = """
    TimelineScreen { align: center top; }
    TimelineScreen > Vertical {
        width: 100%; max-width: 140; height: 100%; border: thick $primary; background: $surface; padding: 0 1;
    }
    TimelineScreen #timeline-status { height: 1; color: $text-muted; }
    TimelineScreen OptionList { height: 1fr; border: none; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="timeline.close"),
        Binding("enter", "enter", "Open", show=False, priority=True, id="timeline.open"),
        Binding("down,j", "move(1)", "Next", show=False, id="timeline.next"),
        Binding("up,k", "move(-1)", "Previous", show=False, id="timeline.previous"),
        Binding("pagedown", "move(10)", "Page down", show=False, id="timeline.page_down"),
        Binding("pageup", "move(-10)", "Page up", show=False, id="timeline.page_up"),
        Binding("home,g", "move(-1000000)", "Oldest", show=False, id="timeline.oldest"),
        Binding("end,G", "move(1000000)", "Newest", show=False, id="timeline.newest"),
    ]

    def __init__(
        self,
        app: Any,
        customer_id: str,
        name: str,
        *,
        conversation: Conversation | None = None,
        loaded: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__()
        self.host = app
        self.customer_id = customer_id
        self.conversation = conversation  # one of theirs: asks its backend for the customer not loaded yet
        self.customer_name = name
        self.entries: list[Entry] = []
        self._loaded = loaded  # lets the keys typed after `T` go, once the thread shows
        # Lets the keys typed after enter go, once the workspace shows what enter opened.
        self.release: Callable[[], None] = lambda: None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text.assemble(
                    ("Timeline of ", "bold"),
                    (one_line(self.customer_name) or "this customer", "bold"),
                    ("  every contact in time order · enter opens · esc closes", "dim"),
                )
            )
            yield Static(Text("loading…", style="dim"), id="timeline-status")
            yield OptionList(id="timeline-lines")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._load()

    def on_unmount(self) -> None:
        self._loaded()

    @work(exclusive=True, group="timeline")
    async def _load(self) -> None:
        hub = self.host.hub
        problems: list[str] = []
        customers = self.host.store.customers
        me = customers.get(self.customer_id)
        if me is None and self.conversation is not None:
            try:  # the store holds a customer once their card was shown
                me = await hub.customer(self.conversation)
            except BackendError as error:
                problems.append(str(error))
        found_all: dict[str, Conversation] = {}
        for customer_id in same_person(customers, self.customer_id, me):
            try:
                for conversation in await hub.customer_history(customer_id):
                    found_all.setdefault(conversation.id, conversation)
            except BackendError as error:
                problems.append(str(error))
        newest = sorted(found_all.values(), key=lambda c: c.created_at, reverse=True)
        conversations = newest[:CONVERSATIONS]
        gate = asyncio.Semaphore(PARALLEL)

        async def messages_of(conversation: Conversation) -> list[Message]:
            async with gate:
                try:
                    return await hub.history(conversation.id)
                except BackendError as error:
                    problems.append(f"{conversation.id}: {error}")
                    return []

        found = await asyncio.gather(*(messages_of(c) for c in conversations))
        self._show(merge(list(zip(conversations, found, strict=True))), len(conversations), problems)

    def _show(self, entries: list[Entry], conversations: int, problems: list[str]) -> None:
        try:
            if not self.query("#timeline-lines"):
                return  # closed before the answer came
            self.entries = entries
            colours: dict[str, str] = {}
            for entry in entries:
                colours.setdefault(entry.conversation.id, _BARS[len(colours) % len(_BARS)])
            now = self.host.clock()
            lines = self.query_one(OptionList)
            lines.clear_options()
            lines.add_options(Option(entry_text(e, colours[e.conversation.id], now)) for e in entries)
            if entries:
                lines.highlighted = len(entries) - 1
            status = Text(
                f"{len(entries)} line{'s' if len(entries) != 1 else ''} from {conversations} "
                f"contact{'s' if conversations != 1 else ''}"
                if entries
                else "no contact found"
            )
            for problem in problems:
                status.append(f"  ⚠ {one_line(problem)}", style="yellow")
            self.query_one("#timeline-status", Static).update(status)
        finally:
            self._loaded()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_move(self, step: int) -> None:
        lines = self.query_one(OptionList)
        if not self.entries:
            return
        current = lines.highlighted if lines.highlighted is not None else len(self.entries) - 1
        lines.highlighted = max(0, min(len(self.entries) - 1, current + step))

    def action_enter(self) -> None:
        lines = self.query_one(OptionList)
        if lines.highlighted is not None and 0 <= lines.highlighted < len(self.entries):
            self._open(self.entries[lines.highlighted])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.entries):
            self._open(self.entries[event.option_index])

    def _open(self, entry: Entry) -> None:
        """Dismissed with the line's conversation as a search hit; the keys typed after wait until the
        opener calls `release`."""
        c = entry.conversation
        self.release = self.host.hold_keys()
        message_id = entry.message.id if entry.message is not None else None
        self.dismiss(SearchHit(c.id, 0.0, one_line(c.subject), message_id=message_id, conversation=c))


__all__ = ["Entry", "TimelineScreen", "entry_text", "merge", "same_person"]
