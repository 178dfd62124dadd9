"""A console as one of a team's on a shared phone queue (team.py has the design): the round that keeps it
alive in the team and holds the customers' application when the lease falls to it, reading the shared queue
when it changes, and, as the holder, writing down what arrives and giving back the calls of a console that
died while its phone rang. team_calls.py shows, takes and gives back the calls.

When the team's queue is on PostgreSQL, a console reads it when a write NOTIFYs (team_listener.py), and
renews its session and the lease every `RENEW_SECONDS`; on a file, it does both every `POLL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from ...console.core.model import State
from ..base import BackendError, Event, NotFound
from . import wire
from .ari import Ari, stop_task
from .calls import leg_of
from .team import ABANDONED, LEASE_SECONDS, WAITING, Row
from .team_calls import TeamCalls, leg_app_of
from .team_listener import TeamListener

log = logging.getLogger(__name__)

# On a file: how often a console reads the shared queue and renews its session and the lease. On
# PostgreSQL: how often it renews (it reads when told), and how often it reads all the same (a notification
# lost). Both well inside LEASE_SECONDS (team_rows.py), after which an unrenewed console counts as gone.
POLL_SECONDS = 0.2
RENEW_SECONDS = 0.5
CATCH_UP_SECONDS = 2.0
# How often the holder checks that the waiting calls' callers are still there (their hang-up is an event;
# this is for one that fell between two holders).
SWEEP_SECONDS = 5.0


class Teamwork(TeamCalls):
    _holder: str
    _team_task: asyncio.Task[None] | None
    _queue_broken: bool
    _team_poke: asyncio.Event
    _swept: float
    _listener: TeamListener | None
    _listen_tried: float
    _duties: asyncio.Task[None] | None
    team_reads: int

    def _team_init(self) -> None:
        self._swept = 0.0
        self._holder = f"{self.agent_id}#{uuid.uuid4().hex[:8]}"
        if self.team is not None:
            self.team.session = self._holder  # this console's claims are its session's
        self._team_task = None
        self._queue_broken = False
        self._team_poke = asyncio.Event()
        self._listener = None
        self._offers = {}
        self._duties = None
        self._listen_tried = float("-inf")
        self.team_reads = 0  # how many times the shared queue was read (the bench and the tests count)

    # ------------------------------------------------------------------------------------- the round

    def _start_team(self) -> None:
        if self.team is not None and self._team_task is None:
            self._team_task = asyncio.create_task(self._team_loop(), name=f"asterisk-team-{self.name}")

    async def _stop_team(self) -> None:
        task, self._team_task = self._team_task, None
        if task is not None:
            await stop_task(task)
        duties, self._duties = self._duties, None
        if duties is not None:
            await stop_task(duties)
        for offer in list(self._offers.values()):
            await stop_task(offer)  # a call handed to this agent, being taken: given back below
        await self._stop_listener()
        await self._drop_queue()
        if self.team is not None:
            with contextlib.suppress(Exception):  # a lost database: the lease lapses by itself
                await self.team.give_up(self._holder)
            for call in list(self._calls.values()):
                if call.claimed and call.conversation.state in (State.RINGING, State.QUEUED):
                    with contextlib.suppress(Exception):
                        await self._unclaim(call)  # a call this console was still taking: back to the team
            with contextlib.suppress(Exception):
                await self.team.leave()
            await self.team.close()

    async def _stop_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.stop()

    async def _listening(self) -> bool:
        """On PostgreSQL, a listener running (started again after a loss): True while the console may wait
        to be told; False on a file, or while the listener cannot start (then it polls)."""
        assert self.team is not None
        if not self.team.notifies:
            return False
        if self._listener is not None and self._listener.alive:
            return True
        if time.monotonic() - self._listen_tried < CATCH_UP_SECONDS:
            return False  # a listener that could not start is tried again after a while, not every round
        self._listen_tried = time.monotonic()
        await self._stop_listener()
        listener = TeamListener(self.team.target, self.team.pbx, await asyncio.to_thread(self.team.password))
        try:
            await listener.start()
        except Exception as error:  # the database away: polled meanwhile, tried again next round
            log.warning("%s: cannot listen to the team's queue: %s", self.name, error)
            await listener.stop()
            return False
        self._listener = listener
        return True

    async def _team_loop(self) -> None:
        renewed = read = float("-inf")
        while True:
            listening = await self._listening()
            now = time.monotonic()
            heard = self._team_poke.is_set() or (self._listener is not None and self._listener.heard.is_set())
            self._team_poke.clear()
            if self._listener is not None:
                self._listener.heard.clear()
            every = RENEW_SECONDS if listening else POLL_SECONDS
            try:
                if now - renewed >= every or self._queue_broken:
                    renewed = now
                    await self._renew()
                if heard or not listening or now - read >= CATCH_UP_SECONDS:
                    read = now
                    self.team_reads += 1
                    assert self.team is not None
                    self._emit(self._mirror(await self.team.rows()))
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a lost database or Asterisk: said in the log, tried again
                log.warning("%s: the team's queue: %s", self.name, error)
            await self._wait(max(0.0, renewed + every - time.monotonic()))

    async def _wait(self, timeout: float) -> None:
        """Until poked, told by the listener, or `timeout`. Not asyncio.wait_for: on 3.11 it can swallow
        the cancellation that stops the loop when the wake-up comes at the same moment."""
        waits = {asyncio.ensure_future(self._team_poke.wait())}
        if self._listener is not None:
            waits.add(asyncio.ensure_future(self._listener.heard.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _renew(self) -> None:
        """This console is alive; the holder keeps the customers' application, another takes it when free."""
        assert self.team is not None
        holding = await self.team.lease(self._holder, LEASE_SECONDS, self.agent_id)
        if self._queue_broken or not holding:
            await self._drop_queue()
        if holding and self._queue_ari is None:
            await self._hold_queue()
        elif holding and (self._duties is None or self._duties.done()):
            # Beside the round, not in it: a slow Asterisk must not hold up this console's renewals (its
            # session lapsing would make the next holder give back the calls it rings for).
            self._duties = asyncio.create_task(self._holder_duties(), name=f"asterisk-holder-{self.name}")

    async def _holder_duties(self) -> None:
        """The holder gives back the calls of consoles gone while their phone rang, and now and then marks
        the waiting calls whose caller is gone."""
        assert self.team is not None
        try:
            for row in await self.team.orphans():
                await self._take_back(row)
            if time.monotonic() - self._swept > SWEEP_SECONDS:
                await self._sweep(await self.team.rows())
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a lost database or Asterisk: tried again next round
            log.warning("%s: the holder's round: %s", self.name, error)

    # ------------------------------------------------------------------------ the customers' application

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
            if channel is None or args is None or channel_id in known or f"cb-{channel_id}" in known:
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
        waiting = [row for row in rows if row.state == WAITING and not row.is_callback]
        if not waiting:
            return
        if alive is None:
            listed = await self.ari.request("GET", "/channels", what="the list of calls")
            alive = {str(c.get("id")) for c in listed or [] if isinstance(c, dict)}
        for row in waiting:
            if row.channel not in alive:
                await self.team.finish(row.channel, ABANDONED, mine=False)

    async def _take_back(self, row: Row) -> None:
        """A call claimed by a console that died while its agent's phone rang: the phone leg hung up, the
        caller moved back into the customers' application, and the call waits for anyone again (a caller
        gone meanwhile is abandoned). Of several holders (a lease changing hands) one does it."""
        assert self.team is not None
        if not await self.team.take_over(row.channel):
            return
        log.info(
            "%s: %s's console is gone: %s goes back to the team's queue", self.name, row.owner, row.channel
        )
        gone = False
        try:
            listed = await self.ari.request("GET", "/channels", what="the list of calls")
            for channel in listed or []:
                leg = leg_of(str(channel.get("id", ""))) if isinstance(channel, dict) else None
                if leg == (row.channel, "agent"):
                    await self._quietly(self.ari.request("DELETE", f"/channels/{channel['id']}"))
            if row.owner:
                await self._quietly(
                    self.ari.request(
                        "DELETE",
                        f"/applications/{leg_app_of(self.config.app, row.owner)}/subscription",
                        eventSource=f"channel:{row.channel}",
                    )
                )
            await self.ari.request(
                "POST",
                f"/channels/{row.channel}/move",
                what="giving the call back",
                app=self.config.app,
                appArgs=",".join(row.args),
            )
        except NotFound:
            gone = True  # the caller hung up meanwhile
        except BackendError as error:  # left where it is: the next taker's move takes it from there
            log.warning("%s: could not move %s back to the queue: %s", self.name, row.channel, error)
        finally:
            # Whatever failed above, the claim taken over is not left with this console: it waits for
            # anyone again (or is abandoned), else nobody would give it back.
            if gone:
                await self.team.finish(row.channel, ABANDONED)
            else:
                await self.team.release(row.channel)

    async def _drop_queue(self) -> None:
        ari, self._queue_ari = self._queue_ari, None
        if ari is not None:
            await ari.close()

    async def _queue_event(self, message: dict[str, Any]) -> list[Event]:
        """An event of the customers' application, on the websocket this console holds for the team."""
        assert self.team is not None
        kind = message["type"]
        if kind == "ApplicationReplaced":
            self._queue_broken = True  # another client took it: the lease says who may have it
            self._team_poke.set()
        elif kind == "StasisStart":
            args = list(message["args"])
            if args[:1] not in (["agent"], ["customer"]):
                await self._queue_arrival(wire.channel_of(message["channel"]), args)
        elif (
            kind == "ChannelVarset"
            and message["variable"] == wire.MESSAGES_VARIABLE
            and "channel" in message
            and await self.team.say(message["channel"]["id"], message["value"])
        ):
            self._team_poke.set()  # the customer said something while waiting: every console shows it
        elif kind == "ChannelDestroyed" and await self.team.gone(message["channel"]["id"]):
            # Definitive (a StasisEnd may be a move): a caller still waiting hung up, or one whose taker's
            # console died. Written once; a live console's call is its taker's to end.
            self._team_poke.set()
        return []

    async def _queue_arrival(self, channel: wire.Channel, args: list[str]) -> None:
        assert self.team is not None
        if "callback" in args:
            # A callback request: a row of the team's (anyone takes it); the caller, told by the dialplan
            # before, is hung up.
            await self.team.arrived(f"cb-{channel.id}", args, channel.caller_name, channel.caller_number)
            await self._quietly(self.ari.request("DELETE", f"/channels/{channel.id}"))
            self._team_poke.set()
            return
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
