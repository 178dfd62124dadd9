"""What the agent asks of a call (the contract's commands), each an ARI request or a change kept in the local
file: accept, hold and resume, mute, tones (DTMF), transfer, hang up, wrap up, notes and callbacks
(docs/asterisk.md's table).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ...console.core.model import WAITING_STATES, Channel, Conversation, Direction, State, WrapUpRecord
from ..base import (
    DTMF_DIGITS,
    Accept,
    CallbackOutcome,
    Command,
    CommandKind,
    CommandResult,
    Conflict,
    Event,
    HangUp,
    Hold,
    Invalid,
    Mute,
    Note,
    PlaceCallback,
    Resume,
    ScheduleCallback,
    SendDtmf,
    Transfer,
    WrappedUp,
    WrapUp,
)
from .calls import Call
from .state import LIVE
from .teamwork import Teamwork

_UPPER_LETTERS = str.maketrans("abcd", "ABCD")  # not w: `w` is half a second's pause, `W` a whole one

SUPPORTED = frozenset(
    {
        CommandKind.NOTE,
        CommandKind.ACCEPT,
        CommandKind.HOLD,
        CommandKind.RESUME,
        CommandKind.MUTE,
        CommandKind.SEND_DTMF,
        CommandKind.HANG_UP,
        CommandKind.TRANSFER,
        CommandKind.WRAP_UP,
        CommandKind.SCHEDULE_CALLBACK,
        CommandKind.PLACE_CALLBACK,
        CommandKind.CALLBACK_OUTCOME,
    }
)


class CallCommands(Teamwork):
    """The contract's commands on calls; `perform` dispatches them (a repeated key applies once)."""

    async def perform(self, command: Command) -> CommandResult:
        self.require(command)
        call = self._call(command.conversation_id)
        assert self._state is not None
        # A note is kept under its key (its message id), and gives the kept message back when repeated.
        done = None if isinstance(command, Note) else self._state.applied(command.key)
        if done is not None:
            return CommandResult(True, call.conversation, detail=f"already done: {done}")
        agent = command.agent_id or self.agent_id
        if self.team is not None:
            await self._team_call(command, call, agent)
        handlers: dict[type[Command], Callable[[Any, Call, str], Awaitable[CommandResult]]] = {
            Note: self._note,
            Accept: self._accept,
            Hold: self._hold,
            Resume: self._resume,
            Mute: self._mute,
            SendDtmf: self._send_dtmf,
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

    async def _team_call(self, command: Command, call: Call, agent: str) -> None:
        """In a team, a call of the shared queue is acted on by the console that took it; the others may
        accept it while it waits, transfer it (to a queue, to an agent), and keep notes on it. A callback
        request is taken by the first command on it, and stays with that agent."""
        conversation = call.conversation
        if call.request is not None or call.claimed or isinstance(command, Note):
            return
        if conversation.channel is Channel.CALLBACK:
            if not conversation.is_closed:
                await self._claim_callback(call, agent)
            return
        if conversation.channel is not Channel.PHONE or isinstance(command, Accept | Transfer):
            return
        owner = conversation.assignee
        if owner is not None and owner != self.agent_id:
            raise Conflict(f"{conversation.id} is {owner}'s call, on their console", owner=owner)
        if not conversation.is_closed:
            raise Conflict(f"{conversation.id} waits in the team's queue: accept it first")

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
        if self.team is not None:
            await self._claim(call, agent)  # of the team's consoles, one wins; the others are told who
        loop = asyncio.get_running_loop()
        call.answered = loop.create_future()
        try:
            await self._ring(call, agent)
            self._emit([self._update(call, assignee=agent)])
            await asyncio.wait_for(asyncio.shield(call.answered), self.config.ring_seconds + 5)
        except TimeoutError:
            await self._drop_leg(call)
            await self._unclaim(call)
            raise Conflict(f"your phone {self._phone_of(agent)} did not answer") from None
        except BaseException:
            if call.conversation.state is not State.CONNECTED:
                await self._unclaim(call)
            raise
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

    async def _send_dtmf(self, command: SendDtmf, call: Call, agent: str) -> CommandResult:
        if not DTMF_DIGITS.fullmatch(command.digits):
            raise Invalid("tones are 1 to 40 of 0-9 * # A-D, w (a 0.5 s pause) and W (1 s)")
        self._phone_call(call, State.CONNECTED, State.ON_HOLD)
        if call.channel is None:
            raise Conflict(f"{call.conversation.id}: the customer is gone")
        # Played out on the customer's channel (a callback's dialled leg), so the far end hears them as
        # keyed by the agent. ARI plays them in the channel's own thread and answers at once; the digits
        # stay out of the detail, which is kept on disk with the key (a PIN is among them).
        await self.ari.request(
            "POST",
            f"/channels/{call.channel}/dtmf",
            what="tones",
            # a-d as A-D: a Local channel passes the letter through as typed, and the far end expects A-D
            dtmf=command.digits.translate(_UPPER_LETTERS),
            between=100,
            duration=100,
        )
        tones = sum(1 for digit in command.digits if digit not in "wW")
        return CommandResult(True, call.conversation, detail=f"sent {tones} tone{'s' if tones != 1 else ''}")

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
        # In a team, an agent whose console is alive takes the call on their console (handed over in the
        # shared queue); otherwise this console rings their phone, which it must know.
        handing = bool(self.team is not None and target is not None and await self.team.live(target))
        if target is not None and not handing:
            self._phone_of(target)  # an agent without a phone is refused before anything changes
        if self.team is not None and not call.claimed:
            await self._claim(call, agent)  # a call waiting in the team's queue: this console moves it
        live = call.conversation.state in LIVE
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
            if not (handing and await self._hand_over(call, target)):
                await self._ring(call, target)
            body = f"transferred to {target} by {agent}"
        else:
            await self._unclaim(call, queue)  # in a team, back in the shared queue, in that queue
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
        await self._team_done(call)
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
            # Alone, anyone tries again; in a team the request stays with the agent who holds it.
            retry = command.retry_at or now + 3600
            keeper = agent if call.claimed else None
            events.append(self._update(call, state=State.SCHEDULED, callback_at=retry, assignee=keeper))
        self._emit(events)
        if command.reached:
            await self._team_done(call)
        return CommandResult(True, call.conversation, detail=note)
