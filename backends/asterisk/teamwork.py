"""A console as one of a team's on a shared phone queue (team.py has the design): holding the customers'
application when the lease falls to it, showing the shared queue's calls, taking one (claim, subscribe,
move) and giving it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from ...console.core.model import State
from ..base import BackendError, Conflict, Event, NotFound
from . import wire
from .ari import Ari, stop_task
from .calls import Call
from .events import CallEvents
from .team import ABANDONED, ENDED, TAKEN, WAITING, Row

log = logging.getLogger(__name__)

# How often a console reads the shared queue and renews its lease; how long a lease lasts unrenewed (a
# console that died without giving it up hands the customers' application on after this).
POLL_SECONDS = 0.2
LEASE_SECONDS = 2.0
# How often the holder checks that the waiting calls' callers are still there (their hang-up is an event;
# this is for one that fell between two holders).
SWEEP_SECONDS = 5.0


class Teamwork(CallEvents):
    _holder: str
    _team_task: asyncio.Task[None] | None
    _queue_broken: bool
    _team_poke: asyncio.Event
    _swept: float

    def _team_init(self) -> None:
        self._swept = 0.0
        self._holder = f"{self.agent_id}#{uuid.uuid4().hex[:8]}"
        self._team_task = None
        self._queue_broken = False
        self._team_poke = asyncio.Event()

    # ------------------------------------------------------------------------------------- the lease

    def _start_team(self) -> None:
        if self.team is not None and self._team_task is None:
            self._team_task = asyncio.create_task(self._team_loop(), name=f"asterisk-team-{self.name}")

    async def _stop_team(self) -> None:
        task, self._team_task = self._team_task, None
        if task is not None:
            await stop_task(task)
        await self._drop_queue()
        if self.team is not None:
            with contextlib.suppress(Exception):  # a lost database: the lease lapses by itself
                await self.team.give_up(self._holder)
            for call in list(self._calls.values()):
                if call.claimed and call.conversation.state in (State.RINGING, State.QUEUED):
                    with contextlib.suppress(Exception):
                        await self._unclaim(call)  # a call this console was still taking: back to the team
            await self.team.close()

    async def _team_loop(self) -> None:
        while True:
            try:
                await self._team_round()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a lost database or Asterisk: said in the log, tried again
                log.warning("%s: the team's queue: %s", self.name, error)
            self._team_poke.clear()
            # Until poked or the next poll. Not asyncio.wait_for: on 3.11 it can swallow the cancellation
            # that stops this loop when the poke comes at the same moment.
            poked = asyncio.ensure_future(self._team_poke.wait())
            try:
                await asyncio.wait({poked}, timeout=POLL_SECONDS)
            finally:
                poked.cancel()

    async def _team_round(self) -> None:
        assert self.team is not None
        holding = await self.team.lease(self._holder, LEASE_SECONDS)
        if self._queue_broken or not holding:
            await self._drop_queue()
        if holding and self._queue_ari is None:
            await self._hold_queue()
        elif holding and time.monotonic() - self._swept > SWEEP_SECONDS:
            await self._sweep(await self.team.rows())
        self._emit(self._mirror(await self.team.rows()))

    async def _hold_queue(self) -> None:
        """Register the customers' application (this console holds the lease), and write down what is in it
        already: calls that came while another held it, or while nobody did."""
        assert self.team is not None
        ari = Ari(self.config.url, self.config.user, self._secret(), self.config.app, self.config.timeout)
        self._queue_broken = False

        def lost(error: BaseException) -> None:
            self._queue_broken = True
            self._team_poke.set()

        try:
            await ari.open_events(self._inbox.put_nowait, lost)
        except BaseException:
            await ari.close()
            raise
        self._queue_ari = ari
        log.info("%s: this console holds the customers' application %r", self.name, self.config.app)
        app = await self.ari.request("GET", f"/applications/{self.config.app}", what="the queue's channels")
        listed = await self.ari.request("GET", "/channels", what="the list of calls")
        alive = {c["id"]: wire.channel_of(c) for c in listed or [] if wire.channel_problem(c) is None}
        rows = await self.team.rows()
        known = {row.channel for row in rows}
        for channel_id in app.get("channel_ids", []) if isinstance(app, dict) else []:
            channel = alive.get(channel_id)
            args = channel.stasis_args if channel is not None else None
            if channel is None or args is None or channel_id in known:
                continue
            await self._queue_arrival(channel, args[1:])
        for row in rows:  # what waiting callers said while nobody held the queue (its channelvars)
            if row.state == WAITING and row.channel in alive:
                await self.team.say(row.channel, alive[row.channel].messages)
        await self._sweep(rows, set(alive))

    async def _sweep(self, rows: list[Row], alive: set[str] | None = None) -> None:
        """Waiting calls whose caller is gone are abandoned: they hung up while nobody held the queue (or
        while a console was giving one back). The holder looks when it takes the queue, and now and then."""
        assert self.team is not None
        self._swept = time.monotonic()
        if alive is None:
            if not any(row.state == WAITING for row in rows):
                return
            listed = await self.ari.request("GET", "/channels", what="the list of calls")
            alive = {str(c.get("id")) for c in listed or [] if isinstance(c, dict)}
        for row in rows:
            if row.state == WAITING and row.channel not in alive:
                await self.team.finish(row.channel, ABANDONED, None)

    async def _drop_queue(self) -> None:
        ari, self._queue_ari = self._queue_ari, None
        if ari is not None:
            await ari.close()

    # ------------------------------------------------------------------------ the customers' application

    async def _queue_event(self, message: dict[str, Any]) -> list[Event]:
        """An event of the customers' application, on the websocket this console holds for the team."""
        assert self.team is not None
        kind = message["type"]
        if kind == "ApplicationReplaced":
            self._queue_broken = True  # another client took it: the lease says who may have it
            self._team_poke.set()
        elif kind == "StasisStart":
            channel = wire.channel_of(message["channel"])
            args = list(message["args"])
            if "callback" in args:
                return self._arrived(channel, args)  # a callback request: kept by this console
            if args[:1] not in (["agent"], ["customer"]):
                await self._queue_arrival(channel, args)
        elif (
            kind == "ChannelVarset"
            and message["variable"] == wire.MESSAGES_VARIABLE
            and "channel" in message
            and await self.team.say(message["channel"]["id"], message["value"])
        ):
            self._team_poke.set()  # the customer said something while waiting: every console shows it
        elif kind == "ChannelDestroyed" and await self.team.finish(message["channel"]["id"], ABANDONED, None):
            # Definitive (a StasisEnd may be a move): a caller still waiting hung up. Written once; a
            # call being taken is its taker's to end.
            self._team_poke.set()
        return []

    async def _queue_arrival(self, channel: wire.Channel, args: list[str]) -> None:
        assert self.team is not None
        if await self.team.arrived(
            channel.id, args, channel.caller_name, channel.caller_number, channel.messages
        ):
            # Its ChannelDestroyed comes to the customers' application (whoever holds it then) even after
            # the call is moved to a console's: a caller who hangs up is seen.
            await self._quietly(
                self.ari.request(
                    "POST",
                    f"/applications/{self.config.app}/subscription",
                    eventSource=f"channel:{channel.id}",
                )
            )
            self._team_poke.set()

    # ------------------------------------------------------------------------------- the shared queue

    def _mirror(self, rows: list[Row]) -> list[Event]:
        """The shared queue's calls in this console: new ones ring, those another agent takes are theirs,
        those that ended end. The calls this console took follow their own events."""
        events: list[Event] = []
        for row in rows:
            call = self._calls.get(row.channel)
            if call is None:
                if row.state not in (WAITING, TAKEN):
                    continue
                channel = wire.Channel(
                    row.channel, "", "Ring", row.caller_name, row.caller_number, "Stasis", "", ""
                )
                events += self._arrived(channel, list(row.args), at=row.created_at)
                call = self._calls.get(row.channel)
                if call is None:
                    continue
            conversation = call.conversation
            if call.claimed or conversation.is_closed or conversation.state is State.WRAP_UP:
                continue
            events += self._customer_said(call, row.said)
            queue = self.config.queue_of(list(row.args)) or conversation.queue
            if queue != conversation.queue:
                events.append(self._update(call, queue=queue))
                conversation = call.conversation
            if row.state == WAITING and conversation.assignee is not None and call.ringing is None:
                events.append(self._update(call, assignee=None))
            elif row.state == TAKEN and row.owner != self.agent_id and conversation.assignee != row.owner:
                events.append(self._update(call, assignee=row.owner))
            elif row.state in (ABANDONED, ENDED):
                if call.channel is not None:
                    self._by_channel.pop(call.channel, None)
                call.channel = None
                now = time.time()
                if row.state == ABANDONED:
                    waited = int(now - conversation.created_at)
                    body = f"missed call: the caller hung up after {waited} s waiting"
                    state = State.ABANDONED
                else:
                    body, state = f"the call was taken by {row.owner or 'another agent'}", State.ENDED
                if (added := self._message(call, body)) is not None:
                    events.append(added)
                events.append(self._update(call, state=state, closed_at=now))
        return events

    async def _claim(self, call: Call, agent: str) -> None:
        """Take the call in the shared queue, then make it this console's: its events (its own application
        subscribed to the channel, the channel moved into it). Conflict when another agent has it."""
        assert self.team is not None and call.channel is not None
        owner = await self.team.claim(call.native, agent)
        if owner is not None:
            self._team_poke.set()
            if owner in (ABANDONED, ENDED, WAITING) or owner.startswith("nobody"):
                raise Conflict(f"{call.conversation.id}: the caller is gone ({owner})")
            self._emit([self._update(call, assignee=owner)])
            raise Conflict(f"{call.conversation.id} is being taken by {owner}", owner=owner)
        call.claimed = True
        try:
            await self.ari.request(
                "POST",
                f"/applications/{self.leg_app}/subscription",
                what="following the caller",
                eventSource=f"channel:{call.channel}",
            )
            await self.ari.request(
                "POST",
                f"/channels/{call.channel}/move",
                what="taking the caller",
                app=self.leg_app,
                appArgs="taken",
            )
        except NotFound:
            # The caller hung up between the claim and now: this console writes the abandon.
            self._emit(await self._customer_gone(call))
            raise Conflict(f"{call.conversation.id}: the caller hung up") from None
        except BackendError:
            await self._unclaim(call)
            raise

    async def _unclaim(self, call: Call, queue: str | None = None) -> None:
        """Give a call this console took back to the team: moved back into the customers' application
        (whose holder sees it waiting again), then released in the shared queue."""
        if self.team is None or not call.claimed:
            return
        call.claimed = False
        gone = call.channel is None
        if call.channel is not None:
            queue_arg = self.config.queue_argument.format(queue=queue or call.conversation.queue)
            try:
                await self.ari.request(
                    "POST", f"/channels/{call.channel}/move", app=self.config.app, appArgs=queue_arg
                )
            except NotFound:
                gone = True  # the caller hung up meanwhile: nobody else would see it now
            except BackendError as error:
                log.warning("%s: could not give %s back to the queue: %s", self.name, call.native, error)
            await self._quietly(
                self.ari.request(
                    "DELETE",
                    f"/applications/{self.leg_app}/subscription",
                    eventSource=f"channel:{call.channel}",
                )
            )
        if gone:
            await self.team.finish(call.native, ABANDONED, self.agent_id)  # a no-op when ended already
        else:
            queue_arg = self.config.queue_argument.format(queue=queue or call.conversation.queue)
            await self.team.release(call.native, self.agent_id, [queue_arg])
        self._team_poke.set()

    async def _team_finish(self, call: Call, state: State) -> None:
        """A call of the shared queue ended here: written once for the team (abandoned or ended)."""
        if self.team is None or call.request is not None or call.native.startswith("cb-"):
            return
        ended = ABANDONED if state is State.ABANDONED else ENDED
        try:
            # Its own or a waiting one (team.py's condition): a call another agent has stays theirs.
            await self.team.finish(call.native, ended, self.agent_id)
        except Exception as error:  # the database is away: the holder's rebuild writes it later
            log.warning("%s: could not write the end of %s for the team: %s", self.name, call.native, error)
        self._team_poke.set()
