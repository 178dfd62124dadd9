"""The outbox view (`O`, `:outbox`): every write not delivered yet, why, and what the agent can do about it.

One row per listed entry: its state, the conversation (customer and subject when the console knows them),
what it is, its last error and when it is tried next. r retries now, e takes a reply or note back into the
composer (withdrawn only once its draft is on disk), d discards after asking. The list is small (what one
agent has not sent yet), so a DataTable is fine; it is redrawn every second for the countdowns.

Subjects, names and errors come from customers and servers: every cell is sanitised `Text`, never markup.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from ...backends.base import Note, Reply
from ...widgets.safe_text import safe_text
from ..core.outbox import EntryState, OutboxEntry

if TYPE_CHECKING:
    from .host import ConsoleHost

COLUMNS = ("State", "Conversation", "What", "Last error", "Next try")


def _when(seconds: float) -> str:
    if seconds <= 0:
        return "now"
    if seconds < 90:
        return f"in {seconds:.0f}s"
    return f"in {seconds / 60:.0f} min"


def state_label(entry: OutboxEntry, outbox: Any, now: float) -> str:
    if outbox.waiting_for_workspace(entry):
        return "waiting: other workspace"
    if entry.state is EntryState.SCHEDULED:
        return "undo window" if entry.due_at > now else "queued"
    return entry.state.value


def next_try(entry: OutboxEntry, outbox: Any, now: float) -> str:
    if entry.state is EntryState.FAILED:
        return "not retried: r retries"
    if outbox.waiting_for_workspace(entry):
        return "when its workspace is open"
    if entry.state is EntryState.SENDING:
        return "sending now"
    return _when(entry.ready_at - now)


def what(entry: OutboxEntry) -> str:
    command = entry.command
    kind = entry.kind.value.replace("_", " ")
    if isinstance(command, Reply):
        kind = "forward" if command.forward else "reply all" if command.reply_all else "reply"
    body = getattr(command, "body", "")
    if body:
        first = body.strip().splitlines()[0] if body.strip() else ""
        return f"{kind}: {first[:40]}"
    return kind


class OutboxScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    OutboxScreen { align: center middle; }
    OutboxScreen > Vertical { width: 90%; height: 80%; border: round $primary; background: $surface; padding: 0 1; }
    OutboxScreen DataTable { height: 1fr; }
    OutboxScreen .-title { text-style: bold; }
    OutboxScreen #outbox-detail { height: auto; max-height: 4; color: $text-muted; }
    """
    BINDINGS = [
        Binding("r", "retry", "Retry now", id="outbox.retry"),
        Binding("e", "edit", "Edit", id="outbox.edit"),
        Binding("d", "discard", "Discard", id="outbox.discard"),
        Binding("escape,q", "close", "Close", id="outbox.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._ids: list[int] = []

    @property
    def main(self) -> ConsoleHost:
        return cast("ConsoleHost", self.app)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Outbox: what is not delivered yet", classes="-title")
            table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id="outbox-table")
            yield table
            yield Label("", id="outbox-detail")
            yield Label("r retry now · e edit · d discard · esc close")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        self.refresh_rows()
        self.set_interval(1.0, self.refresh_rows)
        table.focus()

    # ------------------------------------------------------------------------------------------ rows

    def entries(self) -> list[OutboxEntry]:
        outbox = self.main.outbox
        return outbox.pending() if outbox is not None else []

    def conversation_text(self, entry: OutboxEntry) -> str:
        cid = entry.conversation_id
        if not cid:
            return "(you: " + entry.kind.value.replace("_", " ") + ")"
        if self.main.outbox is not None and self.main.outbox.waiting_for_workspace(entry):
            return cid  # the conversation of this id here is someone else's: do not name it
        conversation = self.main.store.conversations.get(cid)
        if conversation is None:
            return cid
        return f"{conversation.customer_name} — {conversation.subject}"

    def refresh_rows(self) -> None:
        outbox = self.main.outbox
        table = self.query_one(DataTable)
        entries = self.entries()
        now = time.time()
        keep = table.cursor_row
        table.clear()
        self._ids = [e.id for e in entries]
        for entry in entries:
            style = "bold red" if entry.state is EntryState.FAILED else ""
            table.add_row(
                safe_text(state_label(entry, outbox, now), style, single_line=True),
                safe_text(self.conversation_text(entry), single_line=True),
                safe_text(what(entry), single_line=True),
                safe_text(entry.error or "—", single_line=True),
                safe_text(next_try(entry, outbox, now), single_line=True),
                key=str(entry.id),
            )
        if entries:
            table.move_cursor(row=min(max(keep, 0), len(entries) - 1))
        self._show_detail()
        if not entries:
            self.query_one("#outbox-detail", Label).update(Text("Everything is delivered."))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        entry = self.current()
        if entry is not None:
            detail = f"{entry.kind.value} for {entry.conversation_id or 'you'} · attempts {entry.attempts}"
            if entry.error:
                detail += f" · {entry.error}"
            self.query_one("#outbox-detail", Label).update(safe_text(detail))

    def current(self) -> OutboxEntry | None:
        row = self.query_one(DataTable).cursor_row
        if not (0 <= row < len(self._ids)) or self.main.outbox is None:
            return None
        return self.main.outbox.get(self._ids[row])

    # ------------------------------------------------------------------------------------------ actions

    def action_close(self) -> None:
        self.dismiss(None)

    def action_retry(self) -> None:
        entry = self.current()
        if entry is not None:
            self.run_worker(self._retry(entry), group="outbox-view")

    async def _retry(self, entry: OutboxEntry) -> None:
        outbox = self.main.outbox
        if outbox is None:
            return
        if await outbox.retry_now(entry.id):
            self.notify("Retrying now.")
        elif outbox.waiting_for_workspace(entry):
            self.notify("It is for another workspace: it goes when that one is open.", severity="warning")
        else:
            self.notify("It is being sent already.", severity="warning")
        self.refresh_rows()

    def action_edit(self) -> None:
        entry = self.current()
        if entry is None:
            return
        if not isinstance(entry.command, Reply | Note):
            self.notify("Only replies and notes can be edited; discard it instead.", severity="warning")
            return
        if self.main.workspace_of(entry.command) != entry.workspace:
            self.notify("It is for another workspace: open that one to edit it.", severity="warning")
            return
        self.run_worker(self._edit(entry), group="outbox-view")

    async def _edit(self, entry: OutboxEntry) -> None:
        if await self.main.take_back_for_editing(entry):
            self.dismiss(None)
        else:
            self.refresh_rows()

    def action_discard(self) -> None:
        entry = self.current()
        if entry is None:
            return
        from .dialogs import ConfirmDialog

        question = f"Discard this {what(entry)} ({self.conversation_text(entry)})? It will not be sent."
        self.app.push_screen(
            ConfirmDialog(question), lambda yes: yes and self.run_worker(self._discard(entry))
        )

    async def _discard(self, entry: OutboxEntry) -> None:
        outbox = self.main.outbox
        if outbox is None:
            return
        if entry.state is EntryState.FAILED:
            done = await outbox.dismiss(entry.id)
        else:
            done = await outbox.withdraw(entry.id)
        self.notify(
            "Discarded." if done else "Too late: it is being sent.",
            severity="information" if done else "warning",
        )
        self.refresh_rows()


__all__ = ["OutboxScreen"]
