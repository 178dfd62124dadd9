"""After a reconnect or a restart of the console: the calls it saw (from the local file), matched with what
Asterisk has now (`GET /channels` and `/bridges`), so that no call is lost or announced twice.
"""

from __future__ import annotations

import time

from ...console.core.model import WAITING_STATES, Channel, Customer, State
from ..base import Event, Unavailable, split_id
from . import wire
from .calls import Call, leg_of
from .events import CallEvents
from .state import LIVE, SHOW_CLOSED_SECONDS


class Restarts(CallEvents):
    """Rebuilding the book of calls: from the local file at the first connect, from Asterisk after each."""

    def _load_stored(self) -> None:
        """The calls this console saw before it stopped, as it saw them; the rebuild checks them against
        Asterisk."""
        assert self._state is not None
        for conversation in self._state.conversations(time.time() - SHOW_CLOSED_SECONDS):
            native = split_id(conversation.id)[1]
            call = Call(native, conversation, said=self._said_count(conversation.id))
            if "-call" in native:  # a callback's phone call: `<request>-call<n>`
                call.request = native.rsplit("-call", 1)[0]
            if conversation.channel is Channel.PHONE and not conversation.is_closed:
                call.channel = f"{native}-dial" if call.request else native
                self._by_channel[call.channel] = native
            if conversation.state in LIVE or conversation.state in WAITING_STATES:
                call.ringing = conversation.assignee
            # In a team, a call this console was taking or talking on, or a callback request its agent
            # took, is its own in the shared queue (if no live console took it meanwhile: _team_adopt).
            call.claimed = bool(
                self.team is not None
                and call.request is None
                and not conversation.is_closed
                and conversation.assignee == self.agent_id
            )
            self._calls[native] = call
            number = conversation.customer_id.partition(":tel:")[2]
            self._customers[conversation.customer_id] = Customer(
                conversation.customer_id, conversation.customer_name, phone=number
            )

    def _said_count(self, conversation_id: str) -> int:
        assert self._state is not None
        prefix = f"{conversation_id}:said"
        return sum(m.id.startswith(prefix) for m in self._state.messages(conversation_id))

    async def _rebuild(self) -> list[Event]:
        """Match what this console knew with Asterisk's channels and bridges now: calls that ended while it
        was away are closed, calls that came meanwhile are added, lines the customer said are announced."""
        channels = await self.ari.request("GET", "/channels", what="the list of calls")
        bridge_list = await self.ari.request("GET", "/bridges", what="the list of bridges")
        if not isinstance(channels, list) or not isinstance(bridge_list, list):
            raise Unavailable("Asterisk's ARI answered the lists of channels and bridges with something else")
        # Checked as the events are (wire.py): what Asterisk says is read only in the shape the models give.
        found = {c["id"]: wire.channel_of(c) for c in channels if wire.channel_problem(c) is None}
        await self._team_adopt()
        bridges = {b["id"]: b for b in bridge_list if wire.bridge_problem(b) is None}
        later: list[Event] = []
        for call in list(self._calls.values()):
            if call.conversation.is_closed or call.conversation.channel is not Channel.PHONE:
                continue
            if self.team is not None and not call.claimed and call.conversation.state in WAITING_STATES:
                continue  # a call of the team's queue that another console is taking, or nobody: its end is shared
            legs = sorted((c for c in found if (leg_of(c) or ("", ""))[0] == call.native), key=len)
            agent_legs = [c for c in legs if leg_of(c) == (call.native, "agent")]
            call.agent_leg = agent_legs[-1] if agent_legs else None
            call.agent_leg_up = bool(call.agent_leg and found[call.agent_leg].state == "Up")
            call.legs = max([call.legs, *(int(c.rsplit("agent", 1)[1]) for c in agent_legs)])
            if call.channel is None or call.channel not in found:
                later += await self._customer_gone(call, away=True)
                continue
            if call.agent_leg is None and call.conversation.state in LIVE:
                later += await self._agent_leg_gone(call, "", away=True)
            elif call.agent_leg is None and call.conversation.state in WAITING_STATES:
                # A phone that was ringing for it is gone: it waits for anyone again (in a team, a call
                # another console is taking says so in the shared queue, not here).
                call.ringing = None
                if call.conversation.assignee is not None and (self.team is None or call.claimed):
                    self._update(call, assignee=None)
                if call.claimed:
                    await self._unclaim(call)
            later += self._customer_said(call, found[call.channel].messages)
        # In a team the calls that came meanwhile are in the shared queue (teamwork.py), not found here.
        for channel in found.values() if self.team is None else ():
            args = channel.stasis_args
            if not args or args[0] != self.config.app or channel.id in self._by_channel or leg_of(channel.id):
                continue
            if args[1:2] in (["agent"], ["customer"]):
                continue  # a leg of a call this console does not know: not its to take
            later += self._arrived(channel, args[1:], announce=False)
            call = self._calls[self._by_channel[channel.id]] if channel.id in self._by_channel else None
            if call is None:
                continue
            bridge = bridges.get(f"{self.config.app}-{call.native}")
            agent_legs = sorted(c for c in found if leg_of(c) == (call.native, "agent"))
            if bridge and agent_legs and agent_legs[-1] in bridge["channels"]:
                leg = found[agent_legs[-1]]
                agent = (leg.stasis_args or ["", "", "", ""])[3:4]
                call.agent_leg, call.agent_leg_up = leg.id, True
                self._update(
                    call,
                    state=State.CONNECTED if channel.id in bridge["channels"] else State.ON_HOLD,
                    assignee=agent[0] if agent else None,
                    answered_at=time.time(),
                )
        return later
