"""The call panel: caller, number, wait or talk time, state, and the keys that act on the call."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from ..console.core.model import Channel, Conversation, Customer, State
from ..console.core.sanitize import sanitize
from ..console.core.sla import format_duration
from .key_hints import keys_in_force
from .steady_static import SteadyStatic

# What each state offers: (action, what it does). The keys are the ones bound now (widgets/key_hints.py).
CALL_KEYS: dict[State, tuple[tuple[str, str], ...]] = {
    State.RINGING: (("accept", "answer"), ("hang_up", "decline")),
    State.QUEUED: (("accept", "answer"),),
    State.CONNECTED: (
        ("hold", "hold"),
        ("mute", "mute"),
        ("dtmf", "tones"),
        ("transfer", "transfer"),
        ("hang_up", "hang up"),
        ("note", "note"),
    ),
    State.ON_HOLD: (("hold", "resume"), ("transfer", "transfer"), ("hang_up", "hang up")),
    State.WRAP_UP: (("close", "wrap up with a disposition"),),
    State.REQUESTED: (("dial", "dial now"), ("schedule", "schedule")),
    State.SCHEDULED: (("dial", "dial now"),),
    State.DIALLING: (("close", "record the outcome"),),
}

MEMORY = 64  # calls whose state change is remembered


def _grid(rows: list[tuple[str, Text]]) -> Text:
    """Labels in bold, padded to the widest, two spaces, then the value: one Text, not a Rich Table, whose
    height each layout pass measured by rendering it (a layout when a call opens cost ~20 ms)."""
    width = max(len(label) for label, _ in rows)
    lines = Text(no_wrap=True, overflow="ellipsis")
    for index, (label, value) in enumerate(rows):
        if index:
            lines.append("\n")
        lines.append(label.ljust(width) + "  ", style="bold")
        lines.append_text(value)
    return lines


class CallPanel(SteadyStatic):
    DEFAULT_CSS = """
    CallPanel { height: auto; border: round $secondary; padding: 0 1; }
    CallPanel.-ringing { border: heavy $warning; }
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per call: its state and when this console saw it enter that state. The conversation carries no
        # hold or wrap-up start, but the version that changed its state has its `updated_at` then; a call
        # found already on hold at start counts from its last change (an underestimate, never a talk clock).
        self._entered: dict[str, tuple[State, float]] = {}

    def show(self, conversation: Conversation, customer: Customer | None, now: float) -> None:
        name = sanitize(conversation.customer_name, single_line=True)
        number = customer.phone if customer else ""
        if conversation.channel is Channel.CALLBACK:
            number = conversation.callback_number or number
        state = conversation.state.value.replace("_", " ")
        if conversation.muted:
            state += " · muted"
        rows: list[tuple[str, Text]] = [
            ("Caller", Text(name)),
            ("Number", Text(sanitize(number, single_line=True) or "unknown")),
            ("Language", Text(conversation.language.upper())),
            ("State", Text(state, style="bold reverse" if conversation.state is State.RINGING else "bold")),
        ]
        rows += [(label, Text(format_duration(now - since))) for label, since in self._clocks(conversation)]
        if conversation.callback_at:
            from datetime import datetime

            wished = datetime.fromtimestamp(conversation.callback_at).strftime("%a %H:%M")
            rows.append(("Wished time", Text(wished)))
        keys = self.key_hint(conversation)
        if keys:
            rows.append(("Keys", Text(keys, style="italic")))
        self.set_class(conversation.state is State.RINGING, "-ringing")
        self.update(_grid(rows))

    def key_hint(self, conversation: Conversation) -> str:
        offered = CALL_KEYS.get(conversation.state, ())
        bound = keys_in_force(self, [action for action, _ in offered])
        hints = []
        for action, does in offered:
            if action == "mute" and conversation.muted:
                does = "unmute"
            if action in bound:
                hints.append(f"{bound[action]} {does}")
        return "   ".join(hints)

    def _state_since(self, conversation: Conversation) -> float:
        seen = self._entered.get(conversation.id)
        if seen is None or seen[0] is not conversation.state:
            if len(self._entered) >= MEMORY:
                del self._entered[next(iter(self._entered))]  # the oldest: calls long gone
            seen = self._entered[conversation.id] = (conversation.state, conversation.updated_at)
        return seen[1]

    def _clocks(self, conversation: Conversation) -> list[tuple[str, float]]:
        """The clocks that run now, and since when: after hang-up the talk is over and the wrap-up counts
        (the agent's after-call work); on hold, how long the customer has been waiting in it too."""
        if conversation.state is State.WRAP_UP:
            return [("Wrap-up", self._state_since(conversation))]
        if conversation.answered_at is None:
            return [("Waiting", conversation.created_at)]
        clocks = [("Talking", conversation.answered_at)]
        if conversation.state is State.ON_HOLD:
            clocks.append(("On hold", self._state_since(conversation)))
        return clocks
