"""The push-mode offer, shown above the prompt line without taking the focus (see console/ui/push_offers.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.text import Text
from textual.widgets import Static

from ..console.core.model import Conversation
from ..console.core.sanitize import sanitize
from ..console.core.sla import format_duration


class OfferBanner(Static):
    """One offered item, shown above the prompt line without taking the focus.

    The agent may be typing a chat reply when the offer comes: every letter must stay in the composer. So
    the offer is not a dialog, and it is answered with keys that typing does not produce: ctrl+o accepts,
    ctrl+n declines (the screen's priority bindings `offer.accept` / `offer.decline`, live only while an
    offer shows); silence lets it expire."""

    DEFAULT_CSS = """
    OfferBanner {
        height: auto; display: none; padding: 0 1; background: $warning 25%; border-top: tall $warning;
    }
    OfferBanner.-showing { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.conversation: Conversation | None = None
        self.expires_at = 0.0
        self.clock: Callable[[], float] = time.time
        self._on_answer: Callable[[bool | None], None] | None = None

    @property
    def showing(self) -> bool:
        return self.conversation is not None

    def show(
        self,
        conversation: Conversation,
        expires_at: float,
        clock: Callable[[], float],
        on_answer: Callable[[bool | None], None],
    ) -> None:
        self.conversation, self.expires_at, self.clock = conversation, expires_at, clock
        self._on_answer = on_answer
        self.add_class("-showing")
        self._refresh()

    def answer(self, accept: bool | None) -> None:
        """Accept, decline, or None when it expired: said once, then the banner hides."""
        on_answer, self._on_answer = self._on_answer, None
        self.conversation = None
        self.remove_class("-showing")
        if on_answer is not None:
            on_answer(accept)

    def on_mount(self) -> None:
        self.set_interval(0.5, self._refresh)

    def _refresh(self) -> None:
        c = self.conversation
        if c is None:
            return
        left = self.expires_at - self.clock()
        if left <= 0:
            self.answer(None)
            return
        waited = format_duration(self.clock() - c.created_at)
        self.update(
            Text.assemble(
                (f"New {c.channel.value} for you: ", "bold"),
                f"{sanitize(c.customer_name, single_line=True)} "
                f"({sanitize(c.language.upper(), single_line=True)}) · {sanitize(c.queue, single_line=True)}"
                f" · {sanitize(c.subject, single_line=True)}\n",
                f"waiting {waited} · offer ends in {left:.0f}s   ",
                ("ctrl+o accept · ctrl+n decline", "bold"),
            )
        )
