"""Chatwoot's CSAT survey responses as the console's `CsatRecord`s: the optional `Records` capability
(backends/optional.py), which the wallboard reads for its "today" and "this week" figures.

A response (Chatwoot's `api/v1/models/_csat_survey_response` view) names the conversation by its display
id, the rating (1 to 5), the customer's feedback, the contact and the agent it was assigned to. It does not
name the inbox: the channel is the conversation's, known from the queue or read once per conversation.
Chatwoot keeps no wrap-ups: none are returned.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...console.core.model import Channel, Conversation, CsatRecord, WrapUpRecord
from ...console.core.sanitize import sanitize
from ..base import NotFound, qualify
from .mapping import agent_id_of, customer_id_of

if TYPE_CHECKING:
    from .api import ChatwootApi


def csat_of(backend: str, raw: Mapping[str, Any], channel: Channel) -> CsatRecord | None:
    """One response as a record; None for one without a rating (a survey sent, not answered yet) or of a
    shape that is not a response."""
    rating, at, display = raw.get("rating"), raw.get("created_at"), raw.get("conversation_id")
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        return None
    if not isinstance(at, int | float) or isinstance(at, bool) or not math.isfinite(at):
        return None
    if not isinstance(display, int) or isinstance(display, bool):
        return None
    contact = raw.get("contact")
    agent = raw.get("assigned_agent")
    return CsatRecord(
        conversation_id=qualify(backend, display),
        channel=channel,
        score=rating,
        # The customer's own words: sanitised on the way in, as every string from outside.
        comment=sanitize(str(raw.get("feedback_message") or "")),
        at=float(at),
        agent_id=agent_id_of(agent) if isinstance(agent, dict) else None,
        customer_id=customer_id_of(backend, contact["id"])
        if isinstance(contact, dict) and contact.get("id") is not None
        else "",
    )


class Csat:
    """`records` for the Chatwoot adapter; uses its `api`, `name`, `_conversations` and `_conversation`."""

    name: str
    _conversations: dict[int, Conversation]

    if TYPE_CHECKING:

        @property
        def api(self) -> ChatwootApi: ...
        def _conversation(self, raw: Mapping[str, Any]) -> Conversation: ...

    async def records(self, csat_since: float, wrapups_since: float) -> tuple[list[CsatRecord], list[WrapUpRecord]]:
        """The CSAT answers recorded since `csat_since`, oldest first; no wrap-ups."""
        # Chatwoot's range is since...until, the end left out: a second past now takes this one in.
        responses = await self.api.csat_responses(int(csat_since), int(time.time()) + 1)
        channels: dict[int, Channel] = {}
        found: list[CsatRecord] = []
        for raw in responses:
            display = raw.get("conversation_id")
            channel = await self._channel_of(display, channels) if isinstance(display, int) else Channel.CHAT
            record = csat_of(self.name, raw, channel)
            if record is not None and csat_since <= record.at:
                found.append(record)
        found.sort(key=lambda r: r.at)
        return found, []

    async def _channel_of(self, display: int, known: dict[int, Channel]) -> Channel:
        """The conversation's channel: from the queue, else read once. A conversation deleted since has no
        channel left to read: it is counted as chat (a guess, said here: the response does not tell)."""
        if display in known:
            return known[display]
        held = self._conversations.get(display)
        if held is not None:
            channel = held.channel
        else:
            try:
                channel = self._conversation(await self.api.conversation(display)).channel
            except NotFound:
                channel = Channel.CHAT
        known[display] = channel
        return channel


__all__ = ["Csat", "csat_of"]
