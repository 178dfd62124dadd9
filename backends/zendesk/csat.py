"""Zendesk's satisfaction ratings as the console's `CsatRecord`s: the optional `Records` capability, whose
reading is the help desks' shared `CsatRecords` (backends/http/csat.py).

List Satisfaction Ratings (ticketing/ticket-management/satisfaction_ratings/) is the legacy CSAT, allowed
for admins: for an agent who is not one, Zendesk answers 403 (asked once) and the console's figures come
from its other workspaces. Its rating is good or bad (no scale): good counts as 5, bad as 1, the two ends of
the console's 1-5 score. A rating names its ticket, the agent assigned at the time and the requester; the
channel is the ticket's. For a ticket deleted since it is counted as a form (mapping.py's channel for a
`via` it does not know).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ...console.core.model import Channel, Conversation, CsatRecord
from ...console.core.sanitize import sanitize
from ..base import AuthError, qualify
from ..http.csat import CsatRecords
from .mapping import customer_id_of, login_of, timestamp

if TYPE_CHECKING:
    from .api import ZendeskApi

log = logging.getLogger(__name__)

SCORE_OF = {"good": 5, "bad": 1}


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def csat_of(
    backend: str, raw: Mapping[str, Any], channel: Channel, agents: Mapping[int, Mapping[str, Any]]
) -> CsatRecord | None:
    """One rating as a record; None for one not given (offered, unoffered) or of another shape."""
    score = SCORE_OF.get(str(raw.get("score")))
    at = timestamp(raw.get("created_at"))
    ticket, assignee, requester = (_whole(raw.get(k)) for k in ("ticket_id", "assignee_id", "requester_id"))
    if score is None or at is None or ticket is None:
        return None
    return CsatRecord(
        conversation_id=qualify(backend, ticket),
        channel=channel,
        score=score,
        # The customer's own words: sanitised on the way in, as every string from outside.
        comment=sanitize(str(raw.get("comment") or "")),
        at=at,
        agent_id=None if assignee is None else login_of(agents.get(assignee)) or f"user-{assignee}",
        customer_id="" if requester is None else customer_id_of(backend, requester),
    )


class Csat(CsatRecords):
    """What the shared reading needs of the Zendesk adapter (its `api`, `name`, `service`, `_agents`,
    `_known`, `_learn_users`, `_conversation`)."""

    unknown_channel = Channel.FORM
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

    async def _csat_answers(self, since: int, until: int) -> list[Mapping[str, Any]] | None:
        if self._csat_forbidden:
            return None
        ratings: list[Mapping[str, Any]] = []
        try:
            async for page in self.api.satisfaction_pages(since, until):
                ratings.extend(r for r in page if isinstance(r, dict))
        except AuthError as error:
            if "403" not in str(error):
                raise
            log.warning("%s: satisfaction ratings are for admins (%s): no CSAT from here", self.service, error)
            self._csat_forbidden = True
            return None
        return ratings

    def _csat_native(self, raw: Mapping[str, Any]) -> int | None:
        return _whole(raw.get("ticket_id"))

    def _csat_record(self, raw: Mapping[str, Any], channel: Channel) -> CsatRecord | None:
        return csat_of(self.name, raw, channel, self._agents)

    def _held(self, native: int) -> Conversation | None:
        return self._known.get(native)

    async def _read_conversation(self, native: int) -> Conversation:
        raw = await self.api.ticket(native)
        await self._learn_users([raw])
        return self._conversation(raw)


__all__ = ["SCORE_OF", "Csat", "csat_of"]
