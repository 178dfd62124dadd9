"""What ARI says happens to calls: a customer entering the application, the agent's phone leg answering or
ending, the customer's leg of a callback answering, a caller hanging up, the customer's lines (the channel
variable STANDARDISTE_MESSAGES); and the legs and bridges the adapter makes for them (docs/asterisk.md).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ...console.core.model import Channel, Conversation, Direction, State
from ..base import (
    BackendError,
    Conflict,
    CustomerUpdated,
    Event,
    Invalid,
    MessageAdded,
    Unavailable,
)
from . import wire
from .calls import Call, leg_of
from .state import LIVE, CallState, caller_id


class CallEvents(CallState):
    """The calls changed by ARI's events, one event at a time, in order (adapter.py's processor)."""

    async def _on_event(self, message: dict[str, Any]) -> list[Event]:
        kind = message["type"]
        if self.team is not None and message["application"] == self.config.app:
            return await self._queue_event(message)  # the customers' application, held for the team
        if kind == "ApplicationReplaced":
            self._out.put_nowait(
                Unavailable(f"another ARI client took the Stasis application {self.leg_app!r}")
            )
            return []
        if kind == "StasisStart":
            channel = wire.channel_of(message["channel"])
            args = message["args"]
            if args[:1] == ["agent"]:
                return await self._agent_answered(channel)
            if args[:1] == ["customer"]:
                return await self._callee_answered(channel)
            return self._arrived(channel, args)
        if kind in ("StasisEnd", "ChannelDestroyed"):
            channel_id = message["channel"]["id"]
            cause = str(message.get("cause_txt", ""))
            leg = leg_of(channel_id)
            if leg is not None and leg[0] in self._calls:
                call = self._calls[leg[0]]
                if leg[1] == "agent" and call.agent_leg == channel_id:
                    return await self._agent_leg_gone(call, cause)
                if leg[1] == "dial" and call.channel == channel_id:
                    return await self._customer_gone(call, cause=cause)
                return []
            native = self._by_channel.get(channel_id)
            if native is not None and (kind == "ChannelDestroyed" or self.team is None):
                # In a team a caller's StasisEnd may be a move (given back to the team, taken back by the
                # holder): only ChannelDestroyed, which this console's subscription to the caller brings, is
                # a hang-up.
                return await self._customer_gone(self._calls[native], cause=cause)
            return []
        if kind == "ChannelVarset" and message["variable"] == wire.MESSAGES_VARIABLE and "channel" in message:
            native = self._by_channel.get(message["channel"]["id"])
            if native is not None:
                return self._customer_said(self._calls[native], message["value"])
        return []

    def _arrived(
        self,
        channel: wire.Channel,
        args: list[str],
        *,
        announce: bool = True,
        at: float | None = None,
        hang_up: bool = True,
    ) -> list[Event]:
        """A customer's call entered the application: a ringing call in its queue, or a callback request
        (whose caller is hung up, unless `hang_up` is False: a team's request, hung up by the holder).
        `at`: when it did, if not now (a team's call, as the shared queue wrote it)."""
        if channel.id in self._by_channel or channel.id in self._calls:
            return []  # seen already (the snapshot read it before this event was handled)
        queue = self.config.queue_of(args) or self.config.queues[0]
        customer = self._customer(channel)
        now = time.time() if at is None else at
        callback = "callback" in args
        native = f"cb-{channel.id}" if callback else channel.id
        who = f"{customer.name} {customer.phone}".strip()
        conversation = Conversation(
            id=self._id(native),
            channel=Channel.CALLBACK if callback else Channel.PHONE,
            state=State.REQUESTED if callback else State.RINGING,
            subject=f"Callback for {who}" if callback else f"Call from {who}",
            customer_id=customer.id,
            customer_name=customer.name,
            language=self._language(customer, queue),
            created_at=now,
            updated_at=now,
            queue=queue,
            last_customer_at=now,
            callback_number=customer.phone if callback else "",
        )
        call = Call(native, conversation)
        self._calls[native] = call
        events: list[Event] = [CustomerUpdated(customer)]
        upsert = self._update(call)
        opening = f"callback requested by {who}" if callback else f"call from {who} in the {queue} queue"
        first = self._message(call, opening, message_id=f"{conversation.id}:arrived")
        if first is not None:
            events.append(first)
        if callback and hang_up:
            # The request is taken: the caller is told by the dialplan before, and hung up here.
            asyncio.get_running_loop().create_task(
                self._quietly(self.ari.request("DELETE", f"/channels/{channel.id}"))
            )
        else:
            call.channel = channel.id
            self._by_channel[channel.id] = native
        said = self._customer_said(call, channel.messages)
        events += [*said, upsert]
        # Found by a rebuild, the call is in the snapshot; only what it says is announced after.
        return events if announce else [e for e in said if isinstance(e, MessageAdded)]

    def _customer_said(self, call: Call, value: str) -> list[Event]:
        lines = [line for line in value.split("\n") if line.strip()]
        events: list[Event] = []
        for index in range(call.said, len(lines)):
            added = self._message(
                call,
                lines[index],
                direction=Direction.INBOUND,
                message_id=f"{call.conversation.id}:said{index}",
            )
            if added is not None:
                events.append(added)
        if len(lines) > call.said:
            call.said = len(lines)
            events.append(
                self._update(call, last_customer_at=time.time(), unread=call.conversation.unread + 1)
            )
        return events

    async def _customer_gone(self, call: Call, *, cause: str = "", away: bool = False) -> list[Event]:
        """The caller hung up (or was hung up): waiting, it is an abandoned call; talking, the agent wraps up."""
        if call.channel is not None:
            self._by_channel.pop(call.channel, None)
        call.channel = None
        if call.answered is not None and not call.answered.done():
            # Said before the phone is hung up (which would say "taken elsewhere" to the waiting accept).
            call.answered.set_exception(Conflict("the caller hung up before the phone answered"))
        await self._drop_leg(call)
        await self._quietly(self.ari.request("DELETE", f"/bridges/{self.config.app}-{call.native}"))
        conversation = call.conversation
        if conversation.is_closed or conversation.state is State.WRAP_UP:
            return []
        now = time.time()
        where = " while the console could not reach Asterisk" if away else ""
        if conversation.state in LIVE or (call.request is not None and conversation.answered_at):
            body, changes = f"call ended{where}", {"state": State.WRAP_UP, "closed_at": None}
        elif call.ended_by_agent:
            body, changes = "call ended by the agent", {"state": State.ENDED, "closed_at": now}
        elif call.request is not None:
            body = f"the customer did not answer ({cause or 'no answer'})"
            changes = {"state": State.ENDED, "closed_at": now}
        else:
            waited = int(now - conversation.created_at)
            body = f"missed call: the caller hung up after {waited} s waiting{where}"
            changes = {"state": State.ABANDONED, "closed_at": now, "assignee": None}
        events: list[Event] = []
        if (added := self._message(call, body)) is not None:
            events.append(added)
        events.append(self._update(call, **changes))
        await self._team_finish(call, call.conversation.state)
        return events

    async def _drop_leg(self, call: Call) -> None:
        leg, call.agent_leg, call.agent_leg_up, call.ringing = call.agent_leg, None, False, None
        if call.answered is not None and not call.answered.done():
            call.answered.set_exception(Conflict("the call was taken elsewhere before your phone answered"))
        if leg is not None:
            await self._quietly(self.ari.request("DELETE", f"/channels/{leg}"))

    async def _agent_leg_gone(self, call: Call, cause: str, *, away: bool = False) -> list[Event]:
        """The agent's phone leg ended: not answered (said, and the call waits on), or hung up mid-call
        (the caller is hung up too: nobody is left to talk to)."""
        was_up, agent = call.agent_leg_up, call.ringing or call.conversation.assignee or ""
        call.agent_leg, call.agent_leg_up, call.ringing = None, False, None
        events: list[Event] = []
        if was_up or call.conversation.state in LIVE:
            call.ended_by_agent = True
            if call.channel is not None:
                await self._quietly(self.ari.request("DELETE", f"/channels/{call.channel}"))
            if away:
                events += await self._customer_gone(call, away=True)
            return events
        phone = self._phone_of(agent) if agent else "the phone"
        body = f"{agent}'s phone {phone} did not answer ({cause or 'no answer'})"
        if call.answered is not None and not call.answered.done():
            call.answered.set_exception(
                Conflict(f"your phone {phone} did not answer ({cause or 'no answer'})")
            )
        if (added := self._message(call, body)) is not None:
            events.append(added)
        if call.request is not None:  # a callback's agent did not answer: nothing was dialled
            call.ended_by_agent = True
            events.append(self._update(call, state=State.ENDED, closed_at=time.time()))
        elif not call.conversation.is_closed:
            events.append(self._update(call, assignee=None))
            await self._unclaim(call)  # in a team, back in the shared queue for anyone
        return events

    async def _agent_answered(self, leg: wire.Channel) -> list[Event]:
        owner = leg_of(leg.id)
        call = self._calls.get(owner[0]) if owner else None
        if call is None or call.agent_leg != leg.id:
            await self._quietly(self.ari.request("DELETE", f"/channels/{leg.id}"))  # a leg nobody waits for
            return []
        call.agent_leg_up = True
        agent = call.ringing or self.agent_id
        if call.request is not None:  # a callback: the agent is there, now dial the customer
            number = call.conversation.callback_number
            try:
                await self.ari.request(
                    "POST",
                    "/channels",
                    what="dialling the customer",
                    endpoint=self.config.callback_dial.format(number=number),
                    app=self.leg_app,
                    appArgs=f"customer,{call.native}",
                    channelId=f"{call.native}-dial",
                    callerId=self.config.app,
                    timeout=max(1, int(self.config.ring_seconds * 2)),
                )
            except BackendError as error:
                await self._drop_leg(call)
                events: list[Event] = []
                if (added := self._message(call, f"could not dial {number}: {error}")) is not None:
                    events.append(added)
                return [*events, self._update(call, state=State.ENDED, closed_at=time.time())]
            call.channel = f"{call.native}-dial"
            self._by_channel[call.channel] = call.native
            added = self._message(call, f"dialling {number}")
            return [added] if added else []
        if call.channel is None:
            await self._drop_leg(call)
            return []
        if not await self._team_answered(call):
            # While this console could not renew its session, the call went back to the team (and may be
            # another agent's now): this phone is hung up, the caller left where the team has it.
            call.claimed = False
            if call.answered is not None and not call.answered.done():
                call.answered.set_exception(
                    Conflict("the call went back to the team's queue while this console was away")
                )
            await self._drop_leg(call)
            gave = self._message(
                call, f"{agent}'s console lost the call to the team's queue before answering"
            )
            return [*([gave] if gave else []), self._update(call, assignee=None)]
        try:
            await self._bridge(call)
        except BackendError as error:
            # The phone answered but the caller could not be joined to it (gone meanwhile, Asterisk
            # refusing): the agent's leg is hung up and the accept fails with Asterisk's reason.
            if call.answered is not None and not call.answered.done():
                call.answered.set_exception(error)
            await self._drop_leg(call)
            found = self._message(call, f"could not connect {agent}'s phone to the caller: {error}")
            return [*([found] if found else []), self._update(call, assignee=None)]
        now = time.time()
        events = []
        if (added := self._message(call, f"answered by {agent}")) is not None:
            events.append(added)
        events.append(
            self._update(
                call,
                state=State.CONNECTED,
                assignee=agent,
                answered_at=call.conversation.answered_at or now,
                first_response_at=call.conversation.first_response_at or now,
                muted=False,
            )
        )
        if call.answered is not None and not call.answered.done():
            call.answered.set_result(None)
        return events

    async def _callee_answered(self, channel: wire.Channel) -> list[Event]:
        owner = leg_of(channel.id)
        call = self._calls.get(owner[0]) if owner else None
        if call is None or call.channel != channel.id or call.agent_leg is None:
            await self._quietly(self.ari.request("DELETE", f"/channels/{channel.id}"))
            return []
        try:
            await self._bridge(call)
        except BackendError as error:
            await self._quietly(self.ari.request("DELETE", f"/channels/{channel.id}"))
            await self._drop_leg(call)
            found = self._message(call, f"could not connect the customer to the agent: {error}")
            return [*([found] if found else [])]
        now = time.time()
        return [self._update(call, state=State.CONNECTED, answered_at=now, first_response_at=now)]

    async def _bridge(self, call: Call) -> None:
        """The caller and the agent's leg in one mixing bridge (made once per call, by its own id)."""
        assert call.channel is not None and call.agent_leg is not None
        bridge = f"{self.config.app}-{call.native}"
        if call.request is None:
            await self._quietly(self.ari.request("DELETE", f"/channels/{call.channel}/moh"))
            await self.ari.request("POST", f"/channels/{call.channel}/answer", what="answering the caller")
        await self.ari.request("POST", f"/bridges/{bridge}", what="making the bridge", type="mixing")
        await self.ari.request(
            "POST",
            f"/bridges/{bridge}/addChannel",
            what="bridging the caller with the agent",
            channel=f"{call.channel},{call.agent_leg}",
        )

    async def _ring(self, call: Call, agent: str) -> None:
        """Originate a leg to the agent's phone, into the application (its answer is a StasisStart)."""
        phone = self._phone_of(agent)
        for attempt in range(3):
            leg = call.next_leg()
            call.agent_leg, call.agent_leg_up, call.ringing = leg, False, agent
            try:
                await self.ari.request(
                    "POST",
                    "/channels",
                    what=f"ringing {phone}",
                    endpoint=phone,
                    app=self.leg_app,
                    appArgs=f"agent,{call.native},{agent}",
                    channelId=leg,
                    callerId=caller_id(call.conversation),
                    timeout=max(1, round(self.config.ring_seconds)),
                )
                return
            except Conflict:
                # 409: a channel with that id exists (in a team, the leg of the console that handed the call
                # over, still being hung up): the next number.
                call.agent_leg, call.ringing = None, None
                if attempt == 2:
                    raise
            except BackendError as error:
                call.agent_leg, call.ringing = None, None
                if isinstance(error, Unavailable) and "Allocation failed" in str(error):
                    raise Invalid(
                        f"the phone {phone} of {agent} is unreachable (Asterisk: Allocation failed)"
                    ) from None
                raise
