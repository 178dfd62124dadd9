"""Zendesk's satisfaction ratings as the console's `CsatRecord`s: the optional `Records` capability
(backends/optional.py), which the wallboard reads for its "today" and "this week" figures.

List Satisfaction Ratings (ticketing/ticket-management/satisfaction_ratings/) is the legacy CSAT, allowed
for admins: for an agent who is not one, Zendesk answers 403 and the console's figures come from its other
workspaces. Its rating is good or bad (no scale): good counts as 5, bad as 1, the two ends of the console's
1-5 score. A rating names its ticket, the agent assigned at the time and the requester; the channel is the
ticket's, known from the queue or read once per ticket. Zendesk keeps no wrap-ups here: none are returned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ...console.core.model import Channel, Conversation, CsatRecord, WrapUpRecord
from ...console.core.sanitize import sanitize
from ..base import AuthError, NotFound, qualify
from .mapping import customer_id_of, login_of, timestamp

if TYPE_CHECKING:
    from .api import ZendeskApi

log = logging.getLogger(__name__)

SCORE_OF = {"good": 5, "bad": 1}


def csat_of(
    backend: str, raw: Mapping[str, Any], channel: Channel, agents: Mapping[int, Mapping[str, Any]]
) -> CsatRecord | None:
    """One rating as a record; None for one not given (offered, unoffered) or of another shape."""
    score = SCORE_OF.get(str(raw.get("score")))
    at = timestamp(raw.get("created_at"))
    ticket, assignee, requester = raw.get("ticket_id"), raw.get("assignee_id"), raw.get("requester_id")
    if score is None or at is None or not isinstance(ticket, int) or isinstance(ticket, bool):
        return None
    agent = None
    if isinstance(assignee, int) and not isinstance(assignee, bool):
        agent = login_of(agents.get(assignee)) or f"user-{assignee}"
    return CsatRecord(
        conversation_id=qualify(backend, ticket),
        channel=channel,
        score=score,
        # The customer's own words: sanitised on the way in, as every string from outside.
        comment=sanitize(str(raw.get("comment") or "")),
        at=at,
        agent_id=agent,
        customer_id=customer_id_of(backend, requester) if isinstance(requester, int) else "",
    )


class Csat:
    """`records` for the Zendesk adapter; uses its `api`, `name`, `service`, `_agents`, `_known`,
    `_learn_users` and `_conversation`."""

    name: str
    _agents: dict[int, dict[str, Any]]
    _known: dict[int, Conversation]
    _csat_forbidden: bool = False

    if TYPE_CHECKING:

        @property
        def api(self) -> ZendeskApi: ...
        @property
        def service(self) -> str: ...
        async def _learn_users(self, tickets: Iterable[Mapping[str, Any]]) -> None: ...
        def _conversation(self, raw: Mapping[str, Any]) -> Conversation: ...

    async def records(self, csat_since: float, wrapups_since: float) -> tuple[list[CsatRecord], list[WrapUpRecord]]:
        """The ratings received since `csat_since`, oldest first; none for an agent who is not an admin."""
        if self._csat_forbidden:
            return [], []
        ratings: list[dict[str, Any]] = []
        try:
            async for page in self.api.satisfaction_pages(int(csat_since), int(time.time()) + 1):
                ratings.extend(r for r in page if isinstance(r, dict))
        except AuthError as error:
            if "403" not in str(error):
                raise
            log.warning("%s: satisfaction ratings are for admins (%s): no CSAT from here", self.service, error)
            self._csat_forbidden = True
            return [], []
        channels: dict[int, Channel] = {}
        found: list[CsatRecord] = []
        for raw in ratings:
            ticket = raw.get("ticket_id")
            channel = await self._channel_of(ticket, channels) if isinstance(ticket, int) else Channel.FORM
            record = csat_of(self.name, raw, channel, self._agents)
            if record is not None and csat_since <= record.at:
                found.append(record)
        found.sort(key=lambda r: r.at)
        return found, []

    async def _channel_of(self, ticket_id: int, known: dict[int, Channel]) -> Channel:
        """The ticket's channel: from the queue, else read once. A ticket deleted since has no channel left
        to read: it is counted as a form (mapping.py's channel for a `via` it does not know)."""
        if ticket_id in known:
            return known[ticket_id]
        held = self._known.get(ticket_id)
        if held is not None:
            channel = held.channel
        else:
            try:
                raw = await self.api.ticket(ticket_id)
                await self._learn_users([raw])
                channel = self._conversation(raw).channel
            except NotFound:
                channel = Channel.FORM
        known[ticket_id] = channel
        return channel


__all__ = ["SCORE_OF", "Csat", "csat_of"]
