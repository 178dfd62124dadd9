"""The call panel: caller, number, wait or talk time, state, and the keys that act on the call."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ..console.model import Channel, Conversation, Customer, State
from ..console.sanitize import sanitize
from ..console.sla import format_duration

CALL_KEYS: dict[State, str] = {
    State.RINGING: "a answer   H decline",
    State.QUEUED: "a answer",
    State.CONNECTED: "h hold   m mute   t transfer   H hang up   N note",
    State.ON_HOLD: "h resume   t transfer   H hang up",
    State.WRAP_UP: "x wrap up with a disposition",
    State.REQUESTED: "d dial now   s schedule",
    State.SCHEDULED: "d dial now",
    State.DIALLING: "x record the outcome",
}


class CallPanel(Static):
    DEFAULT_CSS = """
    CallPanel { height: auto; border: round $secondary; padding: 0 1; }
    CallPanel.-ringing { border: heavy $warning; }
    """

    def show(self, conversation: Conversation, customer: Customer | None, now: float) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        name = sanitize(conversation.customer_name, single_line=True)
        number = customer.phone if customer else ""
        if conversation.channel is Channel.CALLBACK:
            number = conversation.callback_number or number
        table.add_row("Caller", Text(name))
        table.add_row("Number", Text(sanitize(number, single_line=True) or "unknown"))
        table.add_row("Language", conversation.language.upper())
        state = conversation.state.value.replace("_", " ")
        if conversation.muted:
            state += " · muted"
        table.add_row(
            "State", Text(state, style="bold reverse" if conversation.state is State.RINGING else "bold")
        )
        if conversation.answered_at is None:
            table.add_row("Waiting", format_duration(now - conversation.created_at))
        else:
            table.add_row("Talking", format_duration(now - conversation.answered_at))
        if conversation.callback_at:
            from datetime import datetime

            table.add_row(
                "Wished time", datetime.fromtimestamp(conversation.callback_at).strftime("%a %H:%M")
            )
        keys = CALL_KEYS.get(conversation.state, "")
        if keys:
            table.add_row("Keys", Text(keys, style="italic"))
        self.set_class(conversation.state is State.RINGING, "-ringing")
        self.update(table)
