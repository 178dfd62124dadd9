"""`AsteriskBackend`: the phone queue on a real Asterisk, over ARI (REST + the events websocket).

A customer's call enters the Stasis application with a queue argument and rings in the console; the queue
(order, waiting time) is the console's. Accepting rings the agent's phone endpoint and bridges it with the
caller when it answers. Hold, mute, transfer and hang-up are ARI calls on those channels; notes, wrap-ups and
callback requests are kept in a local SQLite file (local_state.py), since Asterisk keeps none. How each action
maps onto ARI: docs/asterisk.md.

Events: a reader task puts each checked ARI event (wire.py) in a queue; one processor task applies them in
order and puts the console's events in the queue `events()` reads. Commands put theirs there too. When the
websocket goes away `events()` raises and the hub reconnects; the first snapshot after a connect rebuilds
the calls from `GET /channels` and `/bridges` by their channel ids (calls.py), so nothing is lost or doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...console.core.model import (
    WAITING_STATES,
    Channel,
    Conversation,
    Customer,
    Direction,
    Message,
    State,
    WrapUpRecord,
)
from ..base import (
    Accept,
    Backend,
    BackendContext,
    BackendError,
    CallbackOutcome,
    Capabilities,
    Command,
    CommandKind,
    CommandResult,
    Conflict,
    ConversationUpserted,
    CustomerUpdated,
    Event,
    HangUp,
    Hold,
    Invalid,
    MessageAdded,
    Mute,
    Note,
    NotFound,
    PlaceCallback,
    Resume,
    ScheduleCallback,
    Snapshot,
    Transfer,
    Unavailable,
    WrappedUp,
    WrapUp,
    qualify,
    split_id,
)
from ..settings import secret_name
from . import wire
from .ari import Ari
from .calls import Call, leg_of
from .directory import normal
from .local_state import KEEP_CLOSED_SECONDS, LocalState
from .settings import SETTINGS, AsteriskSettings, parse_settings

log = logging.getLogger(__name__)

SUPPORTED = frozenset(
    {
        CommandKind.NOTE,
        CommandKind.ACCEPT,
        CommandKind.HOLD,
        CommandKind.RESUME,
        CommandKind.MUTE,
        CommandKind.HANG_UP,
        CommandKind.TRANSFER,
        CommandKind.WRAP_UP,
        CommandKind.SCHEDULE_CALLBACK,
        CommandKind.PLACE_CALLBACK,
        CommandKind.CALLBACK_OUTCOME,
    }
)
_LIVE = frozenset({State.CONNECTED, State.ON_HOLD})
# Ended calls stay in the snapshot this long (today's missed calls, wrap-ups after a restart); their notes
# and records stay in the local file for good.
SHOW_CLOSED_SECONDS = 24 * 3600


def _caller_id(conversation: Conversation) -> str:
    """The caller shown on the agent's phone; the name is the caller's own text: no quotes or brackets."""
    name = "".join(ch for ch in conversation.customer_name if ch not in '"<>\\' and ch.isprintable())[:60]
    number = "".join(ch for ch in conversation.customer_id.partition(":tel:")[2] if ch in "+0123456789")
    return f'"{name}" <{number}>'


class AsteriskBackend(Backend):
    capabilities = Capabilities(channels=frozenset({Channel.PHONE, Channel.CALLBACK}), commands=SUPPORTED)
    settings = SETTINGS

    def __init__(
        self,
        name: str,
        settings: AsteriskSettings,
        *,
        agent_id: str,
        data_dir: Path,
        secret: Callable[[], str],
    ) -> None:
        self.name = name
        self.config = settings
        self.agent_id = agent_id
        self.data_dir = Path(data_dir)
        self._secret = secret
        self._ari: Ari | None = None
        self._state: LocalState | None = None
        self._calls: dict[str, Call] = {}  # by native id
        self._by_channel: dict[str, str] = {}  # a customer channel id -> native id
        self._customers: dict[str, Customer] = {}
        self._version = 0
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._out: asyncio.Queue[list[Event] | BaseException | None] = asyncio.Queue()
        self._processor: asyncio.Task[None] | None = None
        self._rebuilt = False

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: BackendContext) -> AsteriskBackend:
        parsed = parse_settings(name, settings)
        return cls(
            name,
            parsed,
            agent_id=context.agent_id,
            data_dir=context.data_dir,
            # Asked for at connect: a missing password is an AuthError the console shows, not a crash.
            secret=lambda: context.secret(secret_name(name, SETTINGS, "password")),
        )

    @property
    def workspace_id(self) -> str:
        return f"asterisk:{self.config.url}#{self.config.app}"

    # ------------------------------------------------------------------------------------------ life cycle

    async def connect(self) -> None:
        await self.close()
        if self._state is None:
            self._state = LocalState(self.data_dir / f"asterisk-{self.name}.sqlite")
            self._version = self._state.last_version()
            self._load_stored()
        self._inbox, self._out = asyncio.Queue(), asyncio.Queue()
        ari = Ari(self.config.url, self.config.user, self._secret(), self.config.app, self.config.timeout)
        try:
            await ari.request("GET", "/asterisk/info", what="the login check")
            inbox = self._inbox
            # The websocket first: what happens while the snapshot is read arrives after it, not lost.
            await ari.open_events(inbox.put_nowait, inbox.put_nowait)
        except BaseException:
            await ari.close()
            raise
        self._ari = ari
        self._rebuilt = False

    async def close(self) -> None:
        processor, self._processor = self._processor, None
        if processor is not None:
            processor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await processor
        ari, self._ari = self._ari, None
        if ari is not None:
            await ari.close()
        self._out.put_nowait(None)  # an events() still reading ends

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
            if conversation.state in _LIVE or conversation.state in WAITING_STATES:
                call.ringing = conversation.assignee
            self._calls[native] = call
            number = conversation.customer_id.partition(":tel:")[2]
            self._customers[conversation.customer_id] = Customer(
                conversation.customer_id, conversation.customer_name, phone=number
            )

    def _said_count(self, conversation_id: str) -> int:
        assert self._state is not None
        prefix = f"{conversation_id}:said"
        return sum(m.id.startswith(prefix) for m in self._state.messages(conversation_id))

    @property
    def ari(self) -> Ari:
        if self._ari is None:
            raise Unavailable(f"{self.name} is not connected to Asterisk")
        return self._ari

    async def snapshot(self) -> Snapshot:
        later: list[Event] = []
        if not self._rebuilt:
            later = await self._rebuild()
            self._rebuilt = True
            self._processor = asyncio.create_task(self._process(), name=f"asterisk-{self.name}")
        if later:
            self._out.put_nowait(later)
        assert self._state is not None
        return Snapshot(
            conversations=[c.conversation for c in self._calls.values()],
            customers=list(self._customers.values()),
            me=self.agent_id,
            wrapups=self._state.wrapups(time.time() - KEEP_CLOSED_SECONDS),
        )

    async def events(self) -> AsyncIterator[Sequence[Event]]:
        out = self._out
        while True:
            item = await out.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            if item:
                yield item

    async def _process(self) -> None:
        """Apply the ARI events in order; the console's events go to `events()`."""
        while True:
            message = await self._inbox.get()
            if isinstance(message, BaseException):
                self._out.put_nowait(message)
                return
            try:
                produced = await self._on_event(message)
            except BackendError as error:  # an ARI call made for the event failed: the call is left as is
                log.warning("%s: handling %s failed: %s", self.name, message.get("type"), error)
                produced = []
            except Exception:  # a bug must not stop every later event: logged, and the next one is read
                log.exception("%s: handling %s failed", self.name, message.get("type"))
                produced = []
            if produced:
                self._out.put_nowait(produced)

    def _emit(self, events: list[Event]) -> None:
        if events:
            self._out.put_nowait(events)

    # ------------------------------------------------------------------------------------------ state

    def _id(self, native: str) -> str:
        return qualify(self.name, native)

    def _update(self, call: Call, **changes: Any) -> ConversationUpserted:
        self._version += 1
        call.conversation = call.conversation.evolve(updated_at=time.time(), version=self._version, **changes)
        assert self._state is not None
        self._state.save([call.conversation])
        return ConversationUpserted(call.conversation)

    def _message(
        self,
        call: Call,
        body: str,
        *,
        direction: Direction = Direction.SYSTEM,
        author: str = "",
        message_id: str = "",
    ) -> MessageAdded | None:
        assert self._state is not None
        message = Message(
            message_id or f"{call.conversation.id}:{uuid.uuid4().hex[:12]}",
            call.conversation.id,
            direction,
            author or ("customer" if direction is Direction.INBOUND else self.name),
            body,
            time.time(),
        )
        return MessageAdded(message) if self._state.add_message(message) else None

    def _customer(self, channel: wire.Channel) -> Customer:
        """The caller: a customer of the directory when their number is in it, else as the caller id says."""
        number = normal(channel.caller_number.strip()) if channel.caller_number.strip() else ""
        native = f"tel:{number}" if number.strip("+") else f"anon:{channel.id}"
        known = self.config.directory.get(number) if number else None
        customer = Customer(
            qualify(self.name, native),
            known.name if known else channel.caller_name.strip() or number or "unknown caller",
            language=(known.language if known and known.language else self.config.language),
            email=known.email if known else "",
            phone=number,
        )
        self._customers[customer.id] = customer
        return customer

    def _language(self, customer: Customer, queue: str) -> str:
        known = self.config.directory.get(customer.phone) if customer.phone else None
        if known is not None and known.language:
            return known.language  # what the customer speaks, known, before any guess from the queue
        return self.config.language_of(customer.phone, queue)

    def _call(self, conversation_id: str) -> Call:
        backend, native = split_id(conversation_id)
        call = self._calls.get(native) if backend == self.name else None
        if call is None:
            raise NotFound(f"no call {conversation_id} on {self.name}")
        return call

    # ------------------------------------------------------------------------------------------ rebuild

    async def _rebuild(self) -> list[Event]:
        """Match what this console knew with Asterisk's channels and bridges now: calls that ended while it
        was away are closed, calls that came meanwhile are added, lines the customer said are announced."""
        channels = await self.ari.request("GET", "/channels", what="the list of calls")
        bridge_list = await self.ari.request("GET", "/bridges", what="the list of bridges")
        if not isinstance(channels, list) or not isinstance(bridge_list, list):
            raise Unavailable("Asterisk's ARI answered the lists of channels and bridges with something else")
        # Checked as the events are (wire.py): what Asterisk says is read only in the shape the models give.
        found = {c["id"]: wire.channel_of(c) for c in channels if wire.channel_problem(c) is None}
        bridges = {b["id"]: b for b in bridge_list if wire.bridge_problem(b) is None}
        later: list[Event] = []
        for call in list(self._calls.values()):
            if call.conversation.is_closed or call.conversation.channel is not Channel.PHONE:
                continue
            legs = sorted((c for c in found if (leg_of(c) or ("", ""))[0] == call.native), key=len)
            agent_legs = [c for c in legs if leg_of(c) == (call.native, "agent")]
            call.agent_leg = agent_legs[-1] if agent_legs else None
            call.agent_leg_up = bool(call.agent_leg and found[call.agent_leg].state == "Up")
            call.legs = max([call.legs, *(int(c.rsplit("agent", 1)[1]) for c in agent_legs)])
            if call.channel is None or call.channel not in found:
                later += await self._customer_gone(call, away=True)
                continue
            if call.agent_leg is None and call.conversation.state in _LIVE:
                later += await self._agent_leg_gone(call, "", away=True)
            elif call.agent_leg is None and call.conversation.state in WAITING_STATES:
                # A phone that was ringing for it is gone: it waits for anyone again.
                call.ringing = None
                if call.conversation.assignee is not None:
                    self._update(call, assignee=None)
            later += self._customer_said(call, found[call.channel].messages)
        for channel in found.values():
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

    # ------------------------------------------------------------------------------------------ ARI events

    async def _on_event(self, message: dict[str, Any]) -> list[Event]:
        kind = message["type"]
        if kind == "ApplicationReplaced":
            self._out.put_nowait(
                Unavailable(f"another ARI client took the Stasis application {self.config.app!r}")
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
            if native is not None:
                return await self._customer_gone(self._calls[native], cause=cause)
            return []
        if kind == "ChannelVarset" and message["variable"] == wire.MESSAGES_VARIABLE and "channel" in message:
            native = self._by_channel.get(message["channel"]["id"])
            if native is not None:
                return self._customer_said(self._calls[native], message["value"])
        return []

    def _arrived(self, channel: wire.Channel, args: list[str], *, announce: bool = True) -> list[Event]:
        """A customer's call entered the application: a ringing call in its queue, or a callback request."""
        if channel.id in self._by_channel or channel.id in self._calls:
            return []  # seen already (the snapshot read it before this event was handled)
        queue = self.config.queue_of(args) or self.config.queues[0]
        customer = self._customer(channel)
        now = time.time()
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
        if callback:
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

    async def _quietly(self, request: Awaitable[Any]) -> None:
        with contextlib.suppress(BackendError):
            await request

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
        await self._drop_leg(call)
        await self._quietly(self.ari.request("DELETE", f"/bridges/{self.config.app}-{call.native}"))
        conversation = call.conversation
        if conversation.is_closed or conversation.state is State.WRAP_UP:
            return []
        now = time.time()
        if call.answered is not None and not call.answered.done():
            call.answered.set_exception(Conflict("the caller hung up before the phone answered"))
        where = " while the console could not reach Asterisk" if away else ""
        if conversation.state in _LIVE or (call.request is not None and conversation.answered_at):
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
        if was_up or call.conversation.state in _LIVE:
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
                    app=self.config.app,
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

    # ------------------------------------------------------------------------------------------ commands

    def _phone_of(self, agent: str) -> str:
        if agent == self.agent_id:
            return self.config.phone
        phone = self.config.agent_phones.get(agent)
        if phone is None:
            raise Invalid(f"{agent!r} has no phone in agent_phones of [workspaces.{self.name}]")
        return phone

    async def _ring(self, call: Call, agent: str) -> None:
        """Originate a leg to the agent's phone, into the application (its answer is a StasisStart)."""
        phone = self._phone_of(agent)
        leg = call.next_leg()
        call.agent_leg, call.agent_leg_up, call.ringing = leg, False, agent
        try:
            await self.ari.request(
                "POST",
                "/channels",
                what=f"ringing {phone}",
                endpoint=phone,
                app=self.config.app,
                appArgs=f"agent,{call.native},{agent}",
                channelId=leg,
                callerId=_caller_id(call.conversation),
                timeout=max(1, round(self.config.ring_seconds)),
            )
        except BackendError as error:
            call.agent_leg, call.ringing = None, None
            if isinstance(error, Unavailable) and "Allocation failed" in str(error):
                raise Invalid(
                    f"the phone {phone} of {agent} is unreachable (Asterisk: Allocation failed)"
                ) from None
            raise

    async def perform(self, command: Command) -> CommandResult:
        self.require(command)
        call = self._call(command.conversation_id)
        assert self._state is not None
        # A note is kept under its key (its message id), and gives the kept message back when repeated.
        done = None if isinstance(command, Note) else self._state.applied(command.key)
        if done is not None:
            return CommandResult(True, call.conversation, detail=f"already done: {done}")
        agent = command.agent_id or self.agent_id
        handlers: dict[type[Command], Callable[[Any, Call, str], Awaitable[CommandResult]]] = {
            Note: self._note,
            Accept: self._accept,
            Hold: self._hold,
            Resume: self._resume,
            Mute: self._mute,
            HangUp: self._hang_up,
            Transfer: self._transfer,
            WrapUp: self._wrap_up,
            ScheduleCallback: self._schedule,
            PlaceCallback: self._place_callback,
            CallbackOutcome: self._callback_outcome,
        }
        result = await handlers[type(command)](command, call, agent)
        self._state.remember(command.key, result.detail or command.kind.value)
        return result

    def _phone_call(self, call: Call, *states: State) -> None:
        conversation = call.conversation
        if conversation.channel is not Channel.PHONE:
            raise Invalid(f"{conversation.id} is a callback request, not a call")
        if states and conversation.state not in states:
            wanted = " or ".join(s.value for s in states)
            raise Conflict(f"{conversation.id} is {conversation.state.value}, not {wanted}")

    async def _note(self, command: Note, call: Call, agent: str) -> CommandResult:
        message_id = f"{call.conversation.id}:note-{command.key}" if command.key else ""
        added = self._message(
            call, command.body, direction=Direction.NOTE, author=agent, message_id=message_id
        )
        if added is not None:
            self._emit([added])
            return CommandResult(True, call.conversation, added.message, detail="note kept")
        assert self._state is not None
        kept = next(m for m in self._state.messages(call.conversation.id) if m.id == message_id)
        return CommandResult(True, call.conversation, kept, detail="already done: note kept")

    async def _accept(self, command: Accept, call: Call, agent: str) -> CommandResult:
        self._phone_call(call, State.RINGING, State.QUEUED)
        if call.ringing is not None or call.conversation.assignee not in (None, agent):
            owner = call.ringing or call.conversation.assignee
            raise Conflict(f"{call.conversation.id} is being taken by {owner}", owner=owner)
        if call.channel is None:
            raise Conflict(f"{call.conversation.id}: the caller is gone")
        loop = asyncio.get_running_loop()
        call.answered = loop.create_future()
        await self._ring(call, agent)
        self._emit([self._update(call, assignee=agent)])
        try:
            await asyncio.wait_for(asyncio.shield(call.answered), self.config.ring_seconds + 5)
        except TimeoutError:
            await self._drop_leg(call)
            raise Conflict(f"your phone {self._phone_of(agent)} did not answer") from None
        finally:
            call.answered = None
        return CommandResult(True, call.conversation, detail=f"connected on {self._phone_of(agent)}")

    async def _hold(self, command: Hold, call: Call, agent: str) -> CommandResult:
        self._phone_call(call, State.CONNECTED)
        assert call.channel is not None
        # Out of the bridge, on hold music: the caller hears music and not the agent (ARI's own hold
        # indication sends no event and plays nothing through a Stasis bridge).
        await self.ari.request(
            "POST",
            f"/bridges/{self.config.app}-{call.native}/removeChannel",
            what="hold",
            channel=call.channel,
        )
        await self.ari.request(
            "POST", f"/channels/{call.channel}/moh", what="hold music", mohClass=self.config.moh_class
        )
        self._emit([self._update(call, state=State.ON_HOLD)])
        return CommandResult(True, call.conversation, detail="on hold")

    async def _resume(self, command: Resume, call: Call, agent: str) -> CommandResult:
        self._phone_call(call, State.ON_HOLD)
        assert call.channel is not None
        await self._quietly(self.ari.request("DELETE", f"/channels/{call.channel}/moh"))
        await self.ari.request(
            "POST",
            f"/bridges/{self.config.app}-{call.native}/addChannel",
            what="resume",
            channel=call.channel,
        )
        self._emit([self._update(call, state=State.CONNECTED)])
        return CommandResult(True, call.conversation, detail="resumed")

    async def _mute(self, command: Mute, call: Call, agent: str) -> CommandResult:
        self._phone_call(call, State.CONNECTED, State.ON_HOLD)
        if call.agent_leg is None:
            raise Conflict(f"{call.conversation.id} has no agent's phone to mute")
        # The agent's microphone: what comes in from the agent's phone leg.
        method = "POST" if command.muted else "DELETE"
        await self.ari.request(method, f"/channels/{call.agent_leg}/mute", what="mute", direction="in")
        self._emit([self._update(call, muted=command.muted)])
        return CommandResult(True, call.conversation, detail="muted" if command.muted else "unmuted")

    async def _hang_up(self, command: HangUp, call: Call, agent: str) -> CommandResult:
        if call.conversation.is_closed or call.conversation.state is State.WRAP_UP:
            raise Conflict(f"{call.conversation.id} has ended already")
        if call.channel is None and call.agent_leg is None:
            raise Conflict(f"{call.conversation.id} has no channel left to hang up")
        call.ended_by_agent = True
        if call.channel is not None:
            await self._quietly(self.ari.request("DELETE", f"/channels/{call.channel}", what="hang up"))
        else:
            await self._drop_leg(call)
        # The StasisEnd that follows closes the conversation (as for a caller who hangs up).
        return CommandResult(True, call.conversation, detail="hung up")

    async def _transfer(self, command: Transfer, call: Call, agent: str) -> CommandResult:
        self._phone_call(call, State.RINGING, State.QUEUED, State.CONNECTED, State.ON_HOLD)
        if call.channel is None:
            raise Conflict(f"{call.conversation.id}: the caller is gone")
        if command.to_queue is None and command.to_agent is None:
            raise Invalid("a transfer needs an agent or a queue")
        if command.warm:
            raise Invalid("warm transfers are not done on Asterisk yet: transfer without consulting")
        if command.to_queue is not None and command.to_queue not in self.config.queues:
            raise Invalid(
                f"no queue {command.to_queue!r} on {self.name} (queues: {', '.join(self.config.queues)})"
            )
        target = command.to_agent
        if target is not None:
            self._phone_of(target)  # an agent without a phone is refused before anything changes
        live = call.conversation.state in _LIVE
        await self._drop_leg(call)
        if live:
            await self._quietly(self.ari.request("DELETE", f"/bridges/{self.config.app}-{call.native}"))
            await self.ari.request(
                "POST", f"/channels/{call.channel}/moh", what="hold music", mohClass=self.config.moh_class
            )
        state = State.QUEUED if live else call.conversation.state
        queue = command.to_queue or call.conversation.queue
        events: list[Event] = []
        if target is not None:
            await self._ring(call, target)
            body = f"transferred to {target} by {agent}"
        else:
            body = f"transferred to the {queue} queue by {agent}"
        if (added := self._message(call, body)) is not None:
            events.append(added)
        events.append(self._update(call, state=state, queue=queue, assignee=target, muted=False))
        self._emit(events)
        return CommandResult(True, call.conversation, detail=body)

    async def _wrap_up(self, command: WrapUp, call: Call, agent: str) -> CommandResult:
        conversation = call.conversation
        if conversation.is_closed:
            raise Invalid(f"{conversation.id} is already closed ({conversation.state.value})")
        if conversation.state in WAITING_STATES:
            raise Invalid(f"nothing to wrap up: {conversation.id} was never answered")
        now = time.time()
        started = conversation.answered_at or conversation.created_at
        record = WrapUpRecord(conversation.id, agent, command.disposition, command.note, now, now - started)
        assert self._state is not None
        self._state.add_wrapup(record)
        events: list[Event] = [WrappedUp(record)]
        if command.note.strip() and (
            added := self._message(call, command.note, direction=Direction.NOTE, author=agent)
        ):
            events.append(added)
        closed = State.DONE if conversation.channel is Channel.CALLBACK else State.ENDED
        events.append(self._update(call, state=closed, closed_at=now))
        self._emit(events)
        return CommandResult(True, call.conversation, detail=f"wrapped up: {command.disposition}")

    def _request(self, call: Call) -> None:
        if call.conversation.channel is not Channel.CALLBACK:
            raise Invalid(f"{call.conversation.id} is a call, not a callback request")

    async def _schedule(self, command: ScheduleCallback, call: Call, agent: str) -> CommandResult:
        self._request(call)
        if call.conversation.is_closed:
            raise Invalid(f"{call.conversation.id} is done")
        self._emit([self._update(call, state=State.SCHEDULED, callback_at=command.at)])
        return CommandResult(True, call.conversation, detail="scheduled")

    async def _place_callback(self, command: PlaceCallback, call: Call, agent: str) -> CommandResult:
        self._request(call)
        request = call.conversation
        if request.is_closed or request.state is State.DIALLING:
            raise Invalid(
                f"{request.id} is {request.state.value}: only an open, undialled request is dialled"
            )
        if not self.config.callback_dial:
            raise Invalid(f"[workspaces.{self.name}] callback_dial is not set: no way to dial out")
        if not request.callback_number:
            raise Invalid(f"{request.id} has no number to call back")
        attempt = sum(1 for n in self._calls if n.startswith(f"{call.native}-call")) + 1
        native = f"{call.native}-call{attempt}"
        now = time.time()
        phone = Call(
            native,
            Conversation(
                id=self._id(native),
                channel=Channel.PHONE,
                state=State.RINGING,
                subject=f"Callback: {request.subject}",
                customer_id=request.customer_id,
                customer_name=request.customer_name,
                language=request.language,
                created_at=now,
                updated_at=now,
                queue=request.queue,
                assignee=agent,
                tags=(*request.tags, "callback"),
                callback_number=request.callback_number,
            ),
            request=call.native,
        )
        self._calls[native] = phone
        await self._ring(phone, agent)
        events: list[Event] = [self._update(phone)]
        if added := self._message(call, f"callback attempt {attempt}: dialling {request.callback_number}"):
            events.append(added)
        events.append(
            self._update(call, state=State.DIALLING, assignee=agent, answered_at=request.answered_at or now)
        )
        self._emit(events)
        return CommandResult(True, phone.conversation, detail=f"dialling {request.callback_number}")

    async def _callback_outcome(self, command: CallbackOutcome, call: Call, agent: str) -> CommandResult:
        self._request(call)
        if call.conversation.state is not State.DIALLING:
            raise Invalid(
                f"no callback is being dialled for {call.conversation.id} ({call.conversation.state.value})"
            )
        note = command.note or ("reached" if command.reached else "no answer")
        events: list[Event] = []
        if (added := self._message(call, f"callback outcome: {note}", author=agent)) is not None:
            events.append(added)
        now = time.time()
        if command.reached:
            events.append(self._update(call, state=State.DONE, closed_at=now))
        else:
            retry = command.retry_at or now + 3600
            events.append(self._update(call, state=State.SCHEDULED, callback_at=retry, assignee=None))
        self._emit(events)
        return CommandResult(True, call.conversation, detail=note)

    # ------------------------------------------------------------------------------------------ reading

    async def history(self, conversation_id: str) -> list[Message]:
        call = self._call(conversation_id)
        assert self._state is not None
        return self._state.messages(call.conversation.id)

    async def customer(self, customer_id: str) -> Customer | None:
        return self._customers.get(customer_id)

    async def customer_history(self, customer_id: str) -> list[Conversation]:
        found = [c.conversation for c in self._calls.values() if c.conversation.customer_id == customer_id]
        return sorted(found, key=lambda c: c.created_at, reverse=True)
