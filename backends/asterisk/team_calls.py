"""A team console's calls of the shared queue (team.py has the design): shown as the table says
(`_mirror`), taken (`_claim`: the claim, then the caller subscribed and moved into this console's
application) and given back (`_unclaim`), their end written once (`_team_finish`), its phone's answer
written down (`_team_answered`), taken over again after a restart (`_team_adopt`); and callback requests,
which any agent takes and which then stay with that agent in every console.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable

from ...console.core.model import State
from ..base import Accept, BackendError, Command, CommandResult, Conflict, Event, NotFound
from . import wire
from .calls import Call
from .events import CallEvents
from .team import ABANDONED, ENDED, LEASE_SECONDS, OFFERED, TAKEN, WAITING, Row

log = logging.getLogger(__name__)


def leg_app_of(app: str, agent: str) -> str:
    """The application of an agent's console in a team (state.py's `leg_app`)."""
    return f"{app}-{re.sub(r'[^A-Za-z0-9_.-]', '_', agent)}"


class TeamCalls(CallEvents):
    _team_poke: asyncio.Event
    # Calls handed to this console's agent (a transfer), being taken: by native id.
    _offers: dict[str, asyncio.Task[None]]
    perform: Callable[[Command], Awaitable[CommandResult]]  # commands.py's

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
                    row.channel.removeprefix("cb-") if row.is_callback else row.channel,
                    "",
                    "Ring",
                    row.caller_name,
                    row.caller_number,
                    "Stasis",
                    "",
                    "",
                )
                events += self._arrived(channel, list(row.args), at=row.created_at, hang_up=False)
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
            elif (
                row.state in (TAKEN, OFFERED)
                and row.owner != self.agent_id
                and conversation.assignee != row.owner
            ):
                events.append(self._update(call, assignee=row.owner))
            elif row.state == OFFERED and row.owner == self.agent_id:
                if conversation.assignee != self.agent_id:
                    events.append(self._update(call, assignee=self.agent_id))
                self._take_offer(call)
            elif row.state in (ABANDONED, ENDED):
                events += self._ended_elsewhere(call, row)
        return events

    async def _team_rows_at_start(self) -> list[Row]:
        """The shared queue, and the rows of the team's calls this console still shows open that are not
        in it any more: they ended while it was away for longer than the queue keeps ended calls."""
        assert self.team is not None
        rows = await self.team.rows()
        listed = {row.channel for row in rows}
        missing = [
            call.native
            for call in self._calls.values()
            if call.request is None
            and not call.claimed
            and not call.conversation.is_closed
            and call.conversation.state is not State.WRAP_UP
            and call.native not in listed
        ]
        return rows + await self.team.rows_of(missing)

    def _ended_elsewhere(self, call: Call, row: Row) -> list[Event]:
        events: list[Event] = []
        if call.channel is not None:
            self._by_channel.pop(call.channel, None)
        call.channel = None
        now = time.time()
        if row.is_callback:
            body, state = f"the callback was done by {row.owner or 'another agent'}", State.DONE
        elif row.state == ABANDONED:
            waited = int(now - call.conversation.created_at)
            body, state = f"missed call: the caller hung up after {waited} s waiting", State.ABANDONED
        else:
            body, state = f"the call was taken by {row.owner or 'another agent'}", State.ENDED
        if (added := self._message(call, body)) is not None:
            events.append(added)
        changes = {"assignee": None} if state is State.ABANDONED else {}
        events.append(self._update(call, state=state, closed_at=now, **changes))
        return events

    def _take_offer(self, call: Call) -> None:
        """A call handed to this console's agent: taken as an accept is (its phone rung, bridged when it
        answers; not answered, it goes back to the team's queue for anyone)."""
        if call.native in self._offers:
            return
        task = asyncio.get_running_loop().create_task(self._taking_offer(call), name=f"offer-{call.native}")
        self._offers[call.native] = task
        task.add_done_callback(lambda _: self._offers.pop(call.native, None))

    async def _taking_offer(self, call: Call) -> None:
        try:
            await self.perform(Accept(conversation_id=call.conversation.id, agent_id=self.agent_id))
        except BackendError as error:
            log.info("%s: the call handed to %s: %s", self.name, self.agent_id, error)
            if (added := self._message(call, f"the call handed to {self.agent_id}: {error}")) is not None:
                self._emit([added])

    async def _hand_over(self, call: Call, agent: str) -> bool:
        """A transfer to an agent whose console is alive in the team: the call (claimed here, its phone leg
        hung up) is handed to them in the shared queue, and their console takes it. False when their console
        is not alive (then this console rings their phone itself)."""
        assert self.team is not None
        if not await self.team.live(agent):
            return False
        if not await self.team.offer(call.native, agent):
            raise Conflict(f"{call.conversation.id} is not this console's any more: not transferred")
        call.claimed = False
        if call.channel is not None:
            await self._quietly(
                self.ari.request(
                    "DELETE",
                    f"/applications/{self.leg_app}/subscription",
                    eventSource=f"channel:{call.channel}",
                )
            )
        self._team_poke.set()
        return True

    async def _claim(self, call: Call, agent: str) -> None:
        """Take the call in the shared queue, then make it this console's: its events (its own application
        subscribed to the channel, the channel moved into it). Conflict when another agent has it, or when
        the caller is gone (then written and shown as abandoned)."""
        assert self.team is not None and call.channel is not None
        owner = await self.team.claim(call.native, agent)
        if owner is not None:
            self._team_poke.set()
            if owner in (ABANDONED, ENDED, WAITING) or owner.startswith("nobody"):
                raise Conflict(f"{call.conversation.id}: the caller is gone ({owner})")
            self._emit([self._update(call, assignee=owner)])
            raise Conflict(f"{call.conversation.id} is being taken by {owner}", owner=owner)
        call.claimed = True
        channel = call.channel
        try:
            await self.ari.request(
                "POST",
                f"/applications/{self.leg_app}/subscription",
                what="following the caller",
                eventSource=f"channel:{channel}",
            )
            await self.ari.request(
                "POST",
                f"/channels/{channel}/move",
                what="taking the caller",
                app=self.leg_app,
                appArgs="taken",
            )
        except BackendError as error:
            # A caller who hung up between the claim and now: a 404 of the move, or a 422 of the
            # subscription (no such event source). This console won the claim: it writes the abandon.
            if isinstance(error, NotFound) or not await self._channel_alive(channel):
                self._emit(await self._customer_gone(call))
                raise Conflict(f"{call.conversation.id}: the caller hung up") from None
            await self._unclaim(call)
            raise

    async def _channel_alive(self, channel: str) -> bool:
        try:
            await self.ari.request("GET", f"/channels/{channel}", what="looking for the caller")
        except NotFound:
            return False
        except BackendError:
            return True  # Asterisk unsure: not taken for a hang-up
        return True

    async def _claim_callback(self, call: Call, agent: str) -> None:
        """Take a callback request of the team: it stays with `agent` (shown as theirs in every console)
        until they are done with it. Conflict when another agent has it."""
        assert self.team is not None
        owner = await self.team.claim(call.native, agent)
        self._team_poke.set()
        if owner is None:
            call.claimed = True
            if call.conversation.assignee != agent:
                self._emit([self._update(call, assignee=agent)])
            return
        if owner in (ABANDONED, ENDED, WAITING) or owner.startswith("nobody"):
            raise Conflict(f"{call.conversation.id} is done ({owner})")
        self._emit([self._update(call, assignee=owner)])
        raise Conflict(f"{call.conversation.id} is {owner}'s callback", owner=owner)

    async def _unclaim(self, call: Call, queue: str | None = None) -> None:
        """Give a call this console took back to the team: moved back into the customers' application
        (whose holder sees it waiting again), then released in the shared queue."""
        if self.team is None or not call.claimed or call.native.startswith("cb-"):
            return
        call.claimed = False
        gone = call.channel is None
        queue_arg = self.config.queue_argument.format(queue=queue or call.conversation.queue)
        if call.channel is not None and not await self.team.mine(call.native):
            # Taken back by the holder while this console could not renew its session: another console
            # may have the caller now, so this one does not move them.
            await self._quietly(
                self.ari.request(
                    "DELETE",
                    f"/applications/{self.leg_app}/subscription",
                    eventSource=f"channel:{call.channel}",
                )
            )
            self._team_poke.set()
            return
        if call.channel is not None:
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
            await self.team.finish(call.native, ABANDONED)  # a no-op when ended already
        else:
            await self.team.release(call.native, [queue_arg])
        self._team_poke.set()

    async def _team_finish(self, call: Call, state: State) -> None:
        """A call of the shared queue ended here: written once for the team (abandoned or ended)."""
        if self.team is None or call.request is not None or call.native.startswith("cb-"):
            return
        ended = ABANDONED if state is State.ABANDONED else ENDED
        try:
            # Its own or a waiting one (team.py's condition): a call another agent has stays theirs.
            await self.team.finish(call.native, ended)
        except Exception as error:  # the database is away: the holder's sweep writes it later
            log.warning("%s: could not write the end of %s for the team: %s", self.name, call.native, error)
        self._team_poke.set()

    async def _team_done(self, call: Call) -> None:
        """A callback request this console's agent held is done: done in every console."""
        if self.team is None or not call.claimed or not call.native.startswith("cb-"):
            return
        try:
            await self.team.finish(call.native, ENDED)
        except Exception as error:
            log.warning("%s: could not write that %s is done for the team: %s", self.name, call.native, error)
        self._team_poke.set()

    async def _team_answered(self, call: Call) -> bool:
        """The agent's phone answered a call this console claimed: written down (a call in talk is never
        taken back). False when the claim is not this console's any more: while it could not renew its
        session, the holder gave the call back to the team, and another console may have it."""
        if self.team is None or not call.claimed:
            return True
        try:
            return await self.team.answered(call.native)
        except Exception as error:  # the database is away: the agent keeps the caller they answered
            log.warning(
                "%s: could not write the answer of %s for the team: %s", self.name, call.native, error
            )
            return True

    async def _team_adopt(self) -> None:
        """After a restart (a new session): the calls this agent's earlier console claimed are this
        console's again, unless a live console took them meanwhile (then they are shown as the table says)."""
        if self.team is None:
            return
        # Alive first: a session the holder does not see alive would have its adopted calls taken back.
        await self.team.alive(self.agent_id, LEASE_SECONDS)
        for call in list(self._calls.values()):
            if call.claimed and not await self.team.adopt(call.native, self.agent_id):
                call.claimed, call.ringing = False, None
