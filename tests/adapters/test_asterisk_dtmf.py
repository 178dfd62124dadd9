"""Tones keyed into the customer's line (SendDtmf) on the real Asterisk (tests/asterisk_server.py): they reach
the customer's side of the call, a callback's dialled leg included, as ARI's own `ChannelDtmfReceived` events
on that side say; bad digits and calls in the wrong state are refused with typed errors, and ARI's own
refusals (no such channel, a channel outside Stasis, no digits) come back typed as well.

The customer's side is the `;1` half of the Local channel whose `;2` half is the call in the console's
application (asterisk_server.py's `call`), or the `;2` half of a callback's dialled `-dial` leg: a channel
in the dialplan (on hold music), which this test's own ARI application subscribes to, so that Asterisk tells
it each digit that channel reads.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from asterisk_server import AsteriskServer, asterisk
from helpers.asterisk_kit import PhoneTraffic, eventually, make_backend, number_of
from standardiste.backends.asterisk import AsteriskBackend
from standardiste.backends.base import (
    Accept,
    Conflict,
    ConversationUpserted,
    Hold,
    Invalid,
    NotFound,
    PlaceCallback,
    SendDtmf,
    split_id,
)
from standardiste.backends.testing import Tail, watching
from standardiste.console.core.model import Channel, Conversation, State

pytestmark = pytest.mark.xdist_group("asterisk")

__all__ = ["asterisk"]

LISTENER = "customer-line"  # this test's ARI application: the customer's ear


@pytest.fixture
async def pbx(asterisk: AsteriskServer, tmp_path: Path) -> AsyncIterator[AsteriskBackend]:
    backend = make_backend(asterisk, tmp_path / "data")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()
        await asyncio.to_thread(asterisk.hang_up_all)


class Ear:
    """A websocket of the application LISTENER: the `ChannelDtmfReceived` events of the channels it is
    subscribed to, each checked against the model of Asterisk's events.json (Event: type, application,
    timestamp; ChannelDtmfReceived: digit a string, duration_ms an int, channel a Channel with an id)."""

    def __init__(self, server: AsteriskServer) -> None:
        self.server = server
        self.heard: dict[str, list[dict[str, Any]]] = {}
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Ear:
        url = self.server.url.replace("http://", "ws://", 1)
        token = base64.b64encode(f"{self.server.user}:{self.server.password}".encode()).decode()
        self._ws = await websockets.connect(
            f"{url}/events?app={LISTENER}&subscribeAll=false",
            additional_headers={"Authorization": f"Basic {token}"},
        )
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        await self._ws.close()

    async def _read(self) -> None:
        async for raw in self._ws:
            event = json.loads(raw)
            if event.get("type") != "ChannelDtmfReceived":
                continue
            assert isinstance(event["application"], str) and isinstance(event["timestamp"], str)
            assert isinstance(event["digit"], str) and len(event["digit"]) == 1
            assert isinstance(event["duration_ms"], int) and not isinstance(event["duration_ms"], bool)
            assert isinstance(event["channel"]["id"], str)
            self.heard.setdefault(event["channel"]["id"], []).append(event)

    def listen(self, channel_id: str) -> None:
        self.server.ari("POST", f"/applications/{LISTENER}/subscription", eventSource=f"channel:{channel_id}")

    def digits(self, channel_id: str) -> str:
        return "".join(e["digit"] for e in self.heard.get(channel_id, []))

    async def hears(self, channel_id: str, digits: str, timeout: float = 10.0) -> list[dict[str, Any]]:
        await eventually(lambda: len(self.digits(channel_id)) >= len(digits), timeout, f"tones {digits}")
        await asyncio.sleep(0.5)  # a tone too many would have arrived by now
        assert self.digits(channel_id) == digits
        return self.heard[channel_id]


def far_half(server: AsteriskServer, channel_id: str) -> str:
    """The other half of a Local channel (`…;1` -> `…;2`): the phone at the far end of that leg."""
    channels = server.ari("GET", "/channels")
    name = next(c["name"] for c in channels if c["id"] == channel_id)
    return str(next(c["id"] for c in channels if c["name"] == name.replace(";1", ";2")))


def latest(tail: Tail, conversation_id: str) -> Conversation | None:
    found = [e.conversation for e in tail.events if isinstance(e, ConversationUpserted)]
    return next((c for c in reversed(found) if c.id == conversation_id), None)


async def state_of(tail: Tail, conversation_id: str, state: State, timeout: float = 5.0) -> Conversation:
    return await tail.wait_for(
        lambda: (c := latest(tail, conversation_id)) is not None and c.state is state and c,
        timeout,
        f"{conversation_id} {state.value}",
    )


async def test_tones_reach_the_customers_line_while_connected_and_on_hold(
    asterisk: AsteriskServer, pbx: AsteriskBackend
) -> None:
    async with Ear(asterisk) as ear, watching(pbx) as tail:
        name = "Tess Tones"
        customer_side = (await asyncio.to_thread(asterisk.call, number_of(name), name))["id"]
        call = await tail.arrival(name, 5)
        await asyncio.to_thread(ear.listen, customer_side)

        with pytest.raises(Conflict, match="ringing"):
            await pbx.perform(SendDtmf(conversation_id=call.id, digits="1"))  # nobody is on the line yet
        await pbx.perform(Accept(conversation_id=call.id))
        await state_of(tail, call.id, State.CONNECTED)

        agents_phone = await asyncio.to_thread(far_half, asterisk, f"{split_id(call.id)[1]}-agent1")
        await asyncio.to_thread(ear.listen, agents_phone)
        result = await pbx.perform(SendDtmf(conversation_id=call.id, digits="12#9"))
        assert result.ok and result.detail == "sent 4 tones"  # the digits stay out of what is kept
        heard = await ear.hears(customer_side, "12#9")
        assert all(e["duration_ms"] >= 80 for e in heard)  # duration=100 asked (Asterisk rounds to frames)
        # The agent's phone (it echoes what it hears, asterisk_server.py) heard none: sent to the customer.
        assert ear.digits(agents_phone) == ""

        await pbx.perform(Hold(conversation_id=call.id))
        await state_of(tail, call.id, State.ON_HOLD)
        await pbx.perform(SendDtmf(conversation_id=call.id, digits="*wAd"))  # a pause, letters either case
        await ear.hears(customer_side, "12#9*AD")


@pytest.mark.parametrize("digits", ["", "12x4", "1 2", "f", "1" * 41, "٣"])
async def test_digits_outside_dtmf_are_refused_before_anything_is_sent(
    asterisk: AsteriskServer, pbx: AsteriskBackend, digits: str
) -> None:
    async with Ear(asterisk) as ear, watching(pbx) as tail:
        name = f"Ivan Invalid {len(digits)}"
        customer_side = (await asyncio.to_thread(asterisk.call, number_of(name), name))["id"]
        call = await tail.arrival(name, 5)
        await asyncio.to_thread(ear.listen, customer_side)
        await pbx.perform(Accept(conversation_id=call.id))
        await state_of(tail, call.id, State.CONNECTED)
        with pytest.raises(Invalid, match="0-9"):
            await pbx.perform(SendDtmf(conversation_id=call.id, digits=digits))
        await pbx.perform(SendDtmf(conversation_id=call.id, digits="0"))  # the line works
        await ear.hears(customer_side, "0")


async def test_a_callbacks_tones_go_to_the_dialled_customer(
    asterisk: AsteriskServer, pbx: AsteriskBackend
) -> None:
    traffic = PhoneTraffic(asterisk)
    async with Ear(asterisk) as ear, watching(pbx) as tail:
        await traffic.new_conversation(Channel.CALLBACK, "Dina-Dtmf", customer="dina")
        request = await tail.arrival("Dina-Dtmf", 5)
        with pytest.raises(Invalid, match="callback request"):
            await pbx.perform(SendDtmf(conversation_id=request.id, digits="1"))
        placed = (await pbx.perform(PlaceCallback(conversation_id=request.id))).conversation
        assert placed is not None
        await state_of(tail, placed.id, State.CONNECTED)
        native = split_id(placed.id)[1]
        leg = await asyncio.to_thread(asterisk.ari, "GET", f"/channels/{native}-dial")
        assert number_of("dina") in leg["name"]  # Local/<number>@customers;1
        # The customer is the ;2 half of the dialled leg, in the dialplan; the agent's phone, that of theirs.
        customer_side = await asyncio.to_thread(far_half, asterisk, f"{native}-dial")
        agents_phone = await asyncio.to_thread(far_half, asterisk, f"{native}-agent1")
        await asyncio.to_thread(ear.listen, customer_side)
        await asyncio.to_thread(ear.listen, agents_phone)
        await pbx.perform(SendDtmf(conversation_id=placed.id, digits="42"))
        await ear.hears(customer_side, "42")
        assert ear.digits(agents_phone) == ""


async def test_aris_refusals_of_tones_come_back_typed(asterisk: AsteriskServer, pbx: AsteriskBackend) -> None:
    """ARI's answers to POST /channels/{id}/dtmf: 404 no such channel, 409 a channel outside Stasis, 400 no
    digits; each a typed error (412, a channel in an invalid state, maps to Conflict as well)."""
    with pytest.raises(NotFound):
        await pbx.ari.request("POST", "/channels/no-such-channel/dtmf", dtmf="1")
    name = "Otto Outside"
    async with watching(pbx) as tail:
        customer_side = (await asyncio.to_thread(asterisk.call, number_of(name), name))["id"]
        call = await tail.arrival(name, 5)
        with pytest.raises(Conflict, match="409"):
            # The customer's own half is in the dialplan, not in an application.
            await pbx.ari.request("POST", f"/channels/{customer_side}/dtmf", dtmf="1")
        with pytest.raises(Invalid, match="400"):
            await pbx.ari.request("POST", f"/channels/{split_id(call.id)[1]}/dtmf")


async def test_in_a_team_the_console_that_took_the_call_keys_its_tones(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    """Two consoles of a team (docs/asterisk.md, "A team"): the call moved into alice's application takes her
    tones on the customer's line; bob's console is told it is hers."""
    team = str(tmp_path / "team.sqlite")
    made = {
        agent: make_backend(
            asterisk,
            tmp_path / agent,
            agent=agent,
            phone=f"Local/{agent}@agent-phones",
            agent_phones=[],
            team=team,
        )
        for agent in ("alice", "bob")
    }
    async with contextlib.AsyncExitStack() as stack:
        tails: dict[str, Tail] = {}
        for agent, backend in made.items():
            await backend.connect()
            stack.push_async_callback(backend.close)
            tails[agent] = await stack.enter_async_context(watching(backend))
        stack.push_async_callback(asyncio.to_thread, asterisk.hang_up_all)
        ear = await stack.enter_async_context(Ear(asterisk))
        await eventually(lambda: any(b._queue_ari is not None for b in made.values()), 5, "a queue holder")

        name = "Tomas Team"
        customer_side = (
            await asyncio.to_thread(
                asterisk.call, number_of(name), name, "queue-sales", context="from-customer-team"
            )
        )["id"]
        call = await tails["alice"].arrival(name, 5)
        await tails["bob"].arrival(name, 5)
        await asyncio.to_thread(ear.listen, customer_side)
        await made["alice"].perform(Accept(conversation_id=call.id))
        await state_of(tails["alice"], call.id, State.CONNECTED)
        await tails["bob"].wait_for(
            lambda: (c := latest(tails["bob"], call.id)) is not None and c.assignee == "alice",
            5,
            "alice's call",
        )

        with pytest.raises(Conflict, match="alice"):
            await made["bob"].perform(SendDtmf(conversation_id=call.id, digits="9"))
        await made["alice"].perform(SendDtmf(conversation_id=call.id, digits="314#"))
        await ear.hears(customer_side, "314#")
