"""The console's view of one call (or callback request): the conversation shown, and the Asterisk channels
behind it. Asterisk has no queue and no hold state for a Stasis application: both are kept here.

Channel ids are chosen by the adapter where it creates the channel, so that a console that reconnects (or
restarts) finds each leg's call from the id alone: the customer's channel id is the call's native id; the
agent's phone leg is `<native>-agent<n>`, the customer's leg of a callback `<native>-dial`, the bridge
`<app>-<native>`.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from ...console.core.model import Conversation

_LEG = re.compile(r"^(?P<native>.+)-(?P<kind>agent\d+|dial)$")


def leg_of(channel_id: str) -> tuple[str, str] | None:
    """`("1733.5", "agent")` for `1733.5-agent2`, `("x", "dial")` for `x-dial`; None for another channel."""
    found = _LEG.match(channel_id)
    if found is None:
        return None
    kind = found["kind"]
    return found["native"], "agent" if kind.startswith("agent") else "dial"


@dataclass
class Call:
    native: str
    conversation: Conversation
    # The customer's channel in the application (inbound), or the callback's dialled leg; None once gone.
    channel: str | None = None
    # The agent's phone: the leg originated to it, whether it answered, and whose phone it is.
    agent_leg: str | None = None
    agent_leg_up: bool = False
    ringing: str | None = None
    legs: int = 0
    # The customer's lines (STANDARDISTE_MESSAGES) already announced.
    said: int = 0
    # A callback's phone call: the native id of its request.
    request: str | None = None
    # The agent hung up (or the caller was refused): the end is not an abandon.
    ended_by_agent: bool = False
    # In a team: this console won the call in the shared queue (and moved it into its own application).
    claimed: bool = False
    # An Accept waiting for the agent's phone to answer.
    answered: asyncio.Future[None] | None = field(default=None, repr=False)

    def next_leg(self) -> str:
        self.legs += 1
        return f"{self.native}-agent{self.legs}"
