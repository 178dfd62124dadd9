"""`ctrl+f` / `:search`: every conversation ever, open and closed, and every message, found as you type.

The query language is the `/` filter's plus words, "phrases" and dates (console/core/search_query.py);
every searchable backend answers at once (`Hub.search`), results merged rank by rank. A result shows its
channel, state, date, customer and subject, and the words that matched, highlighted inside the snippet the
backend gave: the snippet is sanitised text and the highlight is a style over it, never markup. Enter (or a
click) dismisses the screen with the hit; the workspace opens it, a closed one too.

Keys: typing searches (after a pause of `DEBOUNCE`); down/up (or ctrl+n/ctrl+p) move in the results while
the query keeps the focus; enter opens; esc closes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...backends.base import BackendError
from ...backends.optional import SearchHit
from ...widgets.queue_list import CHANNEL_LABEL
from ..core.model import Conversation
from ..core.sanitize import sanitize
from .timeline_screen import TimelineScreen

DEBOUNCE = 0.15
LIMIT = 50


def hit_text(hit: SearchHit, conversation: Conversation | None, now: float) -> Group:
    """One result: a head line (channel, state, date, customer, subject) and the snippet, matches bold;
    each one line, cut with an ellipsis (a Group keeps each Text's own no_wrap)."""
    line = Text(no_wrap=True, overflow="ellipsis")
    if conversation is not None:
        when = time.strftime(
            "%H:%M" if now - conversation.created_at < 86_400 else "%Y-%m-%d",
            time.localtime(conversation.created_at),
        )
        line.append(f"{CHANNEL_LABEL[conversation.channel]} ", style="bold")
        line.append(f"{conversation.state.value:<10} ", style="dim" if conversation.is_closed else "")
        line.append(f"{when:<10}  ", style="dim")
        line.append(sanitize(conversation.customer_name, single_line=True) or "—", style="bold")
        line.append("  ")
        line.append(sanitize(conversation.subject, single_line=True))
    else:
        line.append(sanitize(hit.conversation_id, single_line=True), style="bold")
    snippet = Text("    " + hit.snippet, no_wrap=True, overflow="ellipsis", style="dim")
    for start, end in hit.spans:
        if 0 <= start < end <= len(hit.snippet):
            snippet.stylize("bold reverse", start + 4, end + 4)
    return Group(line, snippet)


class SearchScreen(ModalScreen[SearchHit | None]):
    DEFAULT_CSS = """
    SearchScreen { align: center top; }
    SearchScreen > Vertical {
        width: 100%; max-width: 140; height: 100%; border: thick $primary; background: $surface; padding: 0 1;
    }
    SearchScreen #search-query { margin: 0 0 0 0; }
    SearchScreen #search-status { height: 1; color: $text-muted; }
    SearchScreen OptionList { height: 1fr; border: none; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="search.close"),
        # Priority: run as the key is read, before the query field takes it, so that the keys typed after
        # enter wait (key_order.py) until the result it opens shows (`release`).
        Binding("enter", "enter", "Open", show=False, priority=True, id="search.open"),
        Binding("down,ctrl+n", "move(1)", "Next result", show=False, id="search.next"),
        Binding("up,ctrl+p", "move(-1)", "Previous result", show=False, id="search.previous"),
        Binding("pagedown", "move(10)", "Page down", show=False, id="search.page_down"),
        Binding("pageup", "move(-10)", "Page up", show=False, id="search.page_up"),
    ]

    def __init__(self, app: Any, query: str = "") -> None:
        super().__init__()
        self.host = app
        self.initial = query
        self.hits: list[SearchHit] = []
        self._timer: Timer | None = None
        self._asked = ""
        # Lets the keys typed after enter go, once the workspace shows what enter opened.
        self.release: Callable[[], None] = lambda: None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text.assemble(
                    ("Search every conversation", "bold"),
                    (
                        '  words, "phrases", lang:de channel:email state:solved tag:refund owner:me '
                        "after:2026-12-01 · enter opens · esc closes",
                        "dim",
                    ),
                )
            )
            yield Input(self.initial, placeholder="remboursement colis state:solved", id="search-query")
            yield Static("", id="search-status")
            yield OptionList(id="search-results")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        if self.initial:
            self._search(self.initial)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._timer is not None:
            self._timer.stop()
        value = event.value
        self._timer = self.set_timer(DEBOUNCE, lambda: self._search(value))

    def action_enter(self) -> None:
        value = self.query_one(Input).value
        if value != self._asked:  # typed and entered before the pause: search first, open nothing
            if self._timer is not None:
                self._timer.stop()
            self._search(value)
            return
        results = self.query_one(OptionList)
        if results.highlighted is not None and self.hits:
            self._open(self.hits[results.highlighted])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.hits):
            self._open(self.hits[event.option_index])

    def _open(self, hit: SearchHit) -> None:
        """Dismissed with the hit; the keys typed after wait until the opener calls `release`."""
        self.release = self.host.hold_keys()
        self.dismiss(hit)

    def action_move(self, step: int) -> None:
        results = self.query_one(OptionList)
        if not self.hits:
            return
        current = results.highlighted if results.highlighted is not None else -1
        results.highlighted = max(0, min(len(self.hits) - 1, current + step))

    def action_close(self) -> None:
        self.dismiss(None)

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    def _search(self, query: str) -> None:
        if not self.query("#search-status"):
            return
        self._asked = query
        if not query.strip():
            self._show([], "", [])
            return
        self.query_one("#search-status", Static).update(Text("searching…", style="dim"))
        self._run(query)

    @work(exclusive=True, group="search")
    async def _run(self, query: str) -> None:
        started = time.perf_counter()
        try:
            found = await self.host.hub.search(query, LIMIT)
        except BackendError as error:
            if query == self._asked:
                self._show([], f"cannot search: {error}", [])
            return
        if query != self._asked:  # the agent typed on: a newer search is coming
            return
        took = (time.perf_counter() - started) * 1000
        count = len(found.hits)
        status = (
            f"{count}{'+' if count >= LIMIT else ''} found in {took:.0f} ms" if count else "nothing found"
        )
        self._show(found.hits, status, found.problems)

    def _show(self, hits: list[SearchHit], status: str, problems: list[str]) -> None:
        if not self.query("#search-results"):
            return  # the answer came after the screen was closed (enter or esc typed ahead of it)
        self.hits = hits
        store = self.host.store
        now = self.host.clock()
        results = self.query_one(OptionList)
        results.clear_options()
        results.add_options(
            Option(hit_text(hit, store.conversations.get(hit.conversation_id) or hit.conversation, now))
            for hit in hits
        )
        if hits:
            results.highlighted = 0
        line = Text(sanitize(status, single_line=True))
        for problem in problems:
            line.append(f"  ⚠ {problem}", style="yellow")
        self.query_one("#search-status", Static).update(line)


class HistoryScreen(SearchScreen):
    """`C`: every contact of one customer, across channels and backends, newest first (`Hub.customer_history`),
    each openable as a search result is. Typing narrows the list to the contacts whose subject has the words."""

    BINDINGS = [Binding("ctrl+t", "timeline", "Timeline", show=False, priority=True, id="history.timeline")]

    def __init__(
        self, app: Any, customer_id: str, name: str, *, conversation: Conversation | None = None
    ) -> None:
        super().__init__(app)
        self.customer_id = customer_id
        self.customer_name = name
        self.conversation = conversation
        self.everything: list[SearchHit] = []

    def action_timeline(self) -> None:
        """The same contacts as one thread in time order; what it opens, this list opens."""
        screen = TimelineScreen(
            self.host,
            self.customer_id,
            self.customer_name,
            conversation=self.conversation,
            loaded=self.host.hold_keys(),
        )

        def opened(hit: SearchHit | None) -> None:
            if hit is not None:
                self.release = screen.release
                self.dismiss(hit)

        self.app.push_screen(screen, opened)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Text.assemble(
                    ("Every contact of ", "bold"),
                    (sanitize(self.customer_name, single_line=True) or "this customer", "bold"),
                    ("  newest first · type to narrow · enter opens · ctrl+t timeline · esc closes", "dim"),
                )
            )
            yield Input(placeholder="words of the subject", id="search-query")
            yield Static("", id="search-status")
            yield OptionList(id="search-results")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._load()

    @work(exclusive=True, group="search")
    async def _load(self) -> None:
        self.query_one("#search-status", Static).update(Text("loading…", style="dim"))
        conversations = await self.host.hub.customer_history(self.customer_id)
        self.everything = [
            SearchHit(
                c.id,
                0.0,
                sanitize(f"{c.queue} · owner {c.assignee or 'nobody'}", single_line=True),
                conversation=c,
            )
            for c in conversations
        ]
        self._search(self._asked)

    def _search(self, query: str) -> None:
        self._asked = query
        words = query.casefold().split()
        hits = [
            h
            for h in self.everything
            if h.conversation and all(w in h.conversation.subject.casefold() for w in words)
        ]
        count = len(hits)
        self._show(hits, f"{count} contact{'s' if count != 1 else ''}", [])
