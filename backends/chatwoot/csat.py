"""Chatwoot's CSAT survey responses as the console's `CsatRecord`s: the optional `Records` capability, whose
reading is the help desks' shared `CsatRecords` (backends/http/csat.py).

A response (Chatwoot's `api/v1/models/_csat_survey_response` view) names the conversation by its display
id, the rating (1 to 5), the customer's feedback, the contact and the agent it was assigned to. It does not
name the inbox: the channel is the conversation's. For a conversation deleted since, it is counted as chat
(a guess, said here: the response does not tell).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...console.core.model import Channel, Conversation, CsatRecord
from ...console.core.sanitize import sanitize
from ..base import qualify
from ..http.csat import CsatRecords
from .mapping import agent_id_of, customer_id_of

if TYPE_CHECKING:
    from .api import ChatwootApi


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def csat_of(backend: str, raw: Mapping[str, Any], channel: Channel) -> CsatRecord | None:
    """One response as a record; None for one without a rating (a survey sent, not answered yet) or of a
    shape that is not a response."""
    rating, at, display = _whole(raw.get("rating")), raw.get("created_at"), _whole(raw.get("conversation_id"))
    if rating is None or not 1 <= rating <= 5 or display is None:
        return None
    if not isinstance(at, int | float) or isinstance(at, bool) or not math.isfinite(at):
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


class Csat(CsatRecords):
    """What the shared reading needs of the Chatwoot adapter (its `api`, `name`, `_conversations`)."""

    unknown_channel = Channel.CHAT
    name: str
    _conversations: dict[int, Conversation]

    if TYPE_CHECKING:

        @property
        def api(self) -> ChatwootApi: ...
        def _conversation(self, raw: Mapping[str, Any]) -> Conversation: ...

    async def _csat_answers(self, since: int, until: int) -> list[Mapping[str, Any]] | None:
        return list(await self.api.csat_responses(since, until))

    def _csat_native(self, raw: Mapping[str, Any]) -> int | None:
        return _whole(raw.get("conversation_id"))

    def _csat_record(self, raw: Mapping[str, Any], channel: Channel) -> CsatRecord | None:
        return csat_of(self.name, raw, channel)

    def _held(self, native: int) -> Conversation | None:
        return self._conversations.get(native)

    async def _read_conversation(self, native: int) -> Conversation:
        return self._conversation(await self.api.conversation(native))


__all__ = ["Csat", "csat_of"]
