"""The customer card: identity, language, contact details and their history across channels."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.text import Text

from ..console.core.model import Conversation, CsatRecord, Customer
from ..console.core.sanitize import sanitize
from .queue_list import CHANNEL_LABEL
from .steady_static import SteadyStatic


class CustomerCard(SteadyStatic):
    DEFAULT_CSS = """
    CustomerCard { height: auto; max-height: 14; border: round $primary 60%; padding: 0 1; }
    """

    def show(
        self,
        customer: Customer | None,
        name: str,
        history: list[Conversation],
        current: str,
        csat: Mapping[str, CsatRecord] | None = None,
    ) -> None:
        lines: list[Text] = []
        title = Text(sanitize(customer.name if customer else name, single_line=True), style="bold")
        if customer is not None:
            title.append(f"  {customer.language.upper()}", style="bold")
            if customer.country:
                title.append(f" · {sanitize(customer.country, single_line=True)}")
        lines.append(title)
        if customer is not None:
            for label, value in (("✉", customer.email), ("☎", customer.phone), ("#", customer.social_handle)):
                if value:
                    lines.append(Text(f"{label} {sanitize(value, single_line=True)}", style="dim"))
        survey = (csat or {}).get(current)
        if survey is not None:
            text = Text(f"This contact's survey: {survey.score}/5 ", style="bold")
            text.append(sanitize(survey.comment, single_line=True)[:80], style="italic")
            lines.append(text)
        others = [c for c in history if c.id != current]
        lines.append(Text(f"History: {len(others)} other contact(s)", style="bold"))
        for past in others[:6]:
            when = datetime.fromtimestamp(past.created_at).strftime("%d %b %H:%M")
            line = Text(f"{when} {CHANNEL_LABEL[past.channel]} {past.state.value:8} ")
            line.append(sanitize(past.subject, single_line=True)[:60])
            survey = (csat or {}).get(past.id)
            if survey is not None:
                line.append(f"  CSAT {survey.score}/5", style="bold")
            lines.append(line)
        # One Text, shown again only when it changed (a second `show` when the customer arrives is common).
        card = Text("\n").join(lines)
        self.update(card)
