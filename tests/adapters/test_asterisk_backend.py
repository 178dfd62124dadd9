"""The Asterisk adapter on a real Asterisk (tests/asterisk_server.py): calls ring in the console within a
second, accept bridges the caller with the agent's phone, hold, mute, transfers and hang-ups act on the real
channels (checked through ARI from outside), a caller who hangs up while waiting is a missed call, a
callback dials the customer and bridges them with the agent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from asterisk_server import AsteriskServer, asterisk
from helpers.asterisk_kit import (
    PhoneTraffic,
    bridge_members,
    eventually,
    make_backend,
    number_of,
    stasis_channels,
)
from helpers.asterisk_sip import SipPhone, display_name
from standardiste.backends.asterisk import AsteriskBackend
from standardiste.backends.base import (
    Accept,
    Conflict,
    ConversationUpserted,
    HangUp,
    Hold,
    Invalid,
    MessageAdded,
    Mute,
    Note,
    PlaceCallback,
    Resume,
    Transfer,
    Unavailable,
    WrappedUp,
    WrapUp,
    split_id,
)
from standardiste.backends.testing import Tail, watching
from standardiste.console.core.model import Channel, Conversation, Direction, State

# One Asterisk for the whole run (one worker): a chroot of 345 MB each, and a PBX stopped by one test
# must not starve another's on two cores.
pytestmark = pytest.mark.xdist_group("asterisk")

__all__ = ["asterisk"]


@pytest.fixture
async def pbx(asterisk: AsteriskServer, tmp_path: Path) -> AsyncIterator[AsteriskBackend]:
    backend = make_backend(asterisk, tmp_path / "data")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()
        await asyncio.to_thread(asterisk.hang_up_all)


def latest(tail: Tail, conversation_id: str) -> Conversation | None:
    found = [e.conversation for e in tail.events if isinstance(e, ConversationUpserted)]
    return next((c for c in reversed(found) if c.id == conversation_id), None)


async def state_of(tail: Tail, conversation_id: str, *states: State, timeout: float = 5.0) -> Conversation:
    def reached() -> Conversation | None:
        now = latest(tail, conversation_id)
        return now if now is not None and now.state in states else None

    return await tail.wait_for(reached, timeout, f"{conversation_id} {'/'.join(s.value for s in states)}")


async def ringing(tail: Tail, asterisk: AsteriskServer, name: str, **call: object) -> Conversation:
    await asyncio.to_thread(asterisk.call, number_of(name), name, **call)  # type: ignore[arg-type]
    return await tail.arrival(name, 5)


async def test_a_call_rings_in_the_console_within_a_second_with_its_caller_and_queue(
    asterisk: AsteriskServer, pbx: AsteriskBackend
) -> None:
    async with watching(pbx) as tail:
        started = time.monotonic()
        await asyncio.to_thread(asterisk.call, "+33123456789", "Alice Martin", "queue-support")
        call = await tail.arrival("Alice Martin", 1.0)
        assert time.monotonic() - started < 1.0
    assert call.channel is Channel.PHONE and call.state is State.RINGING
    assert call.subject == "Call from Alice Martin +33123456789"
    assert call.customer_name == "Alice Martin" and call.queue == "support"
    assert call.customer_id == "pbx:tel:+33123456789"
    assert call.language == "de"  # the queue's language wins over the number's prefix
    customer = await pbx.customer(call.customer_id)
    assert customer is not None and customer.phone == "+33123456789"
    # The caller is really waiting in the application, ringing, not answered.
    channel = await asyncio.to_thread(asterisk.ari, "GET", f"/channels/{split_id(call.id)[1]}")
    assert channel["state"] == "Ring"


async def test_accept_rings_the_agents_phone_and_bridges_it_with_the_caller(
    asterisk: AsteriskServer, pbx: AsteriskBackend
) -> None:
    async with watching(pbx) as tail:
        call = await ringing(tail, asterisk, "Bruno Accept")
        result = await pbx.perform(Accept(conversation_id=call.id))
        assert result.ok
        connected = await state_of(tail, call.id, State.CONNECTED)
        assert connected.assignee == "alice" and connected.answered_at is not None
        native = split_id(call.id)[1]
        members = await eventually(
            lambda: bridge_members(asterisk, f"{asterisk.app}-{native}"), what="bridge"
        )
        assert sorted(members) == sorted([native, f"{native}-agent1"])
        channel = await asyncio.to_thread(asterisk.ari, "GET", f"/channels/{native}")
        assert channel["state"] == "Up"
        # A second agent cannot take it.
        with pytest.raises(Conflict):
            await pbx.perform(Accept(conversation_id=call.id, agent_id="bob"))


async def test_accept_says_so_when_the_agents_phone_does_not_answer(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    backend = make_backend(asterisk, tmp_path / "data", agent="carol", ring_seconds=1.0)
    await backend.connect()
    try:
        async with watching(backend) as tail:
            call = await ringing(tail, asterisk, "Chloe Noanswer")
            with pytest.raises(Conflict, match="did not answer"):
                await backend.perform(Accept(conversation_id=call.id))
            await tail.wait_for(
                lambda: any(
                    isinstance(e, MessageAdded) and "did not answer" in e.message.body for e in tail.events
                ),
                5,
                "the conversation saying the phone did not answer",
            )
            now = latest(tail, call.id)
            assert now is not None and now.state is State.RINGING and now.assignee is None  # still waiting
            channels = [c["id"] for c in await asyncio.to_thread(stasis_channels, asterisk)]
            assert split_id(call.id)[1] in channels
    finally:
        await backend.close()
        await asyncio.to_thread(asterisk.hang_up_all)


async def test_an_unreachable_phone_is_refused_with_a_plain_message(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    backend = make_backend(asterisk, tmp_path / "data", phone="PJSIP/nobody")
    await backend.connect()
    try:
        async with watching(backend) as tail:
            call = await ringing(tail, asterisk, "Dora Unreachable")
            with pytest.raises(Invalid, match="unreachable"):
                await backend.perform(Accept(conversation_id=call.id))
            # It can still be taken: nothing was left half-done.
            assert backend._calls[split_id(call.id)[1]].ringing is None
    finally:
        await backend.close()
        await asyncio.to_thread(asterisk.hang_up_all)


async def test_hold_resume_mute_and_hang_up_act_on_the_real_channels(
    asterisk: AsteriskServer, pbx: AsteriskBackend
) -> None:
    async with watching(pbx) as tail:
        call = await ringing(tail, asterisk, "Emile Hold")
        native = split_id(call.id)[1]
        bridge = f"{asterisk.app}-{native}"
        await pbx.perform(Accept(conversation_id=call.id))
        await state_of(tail, call.id, State.CONNECTED)

        await pbx.perform(Hold(conversation_id=call.id))
        await state_of(tail, call.id, State.ON_HOLD)
        assert await asyncio.to_thread(bridge_members, asterisk, bridge) == [f"{native}-agent1"]
        await pbx.perform(Resume(conversation_id=call.id))
        await state_of(tail, call.id, State.CONNECTED)
        assert sorted(await asyncio.to_thread(bridge_members, asterisk, bridge)) == sorted(
            [native, f"{native}-agent1"]
        )
        with pytest.raises(Conflict):
            await pbx.perform(Resume(conversation_id=call.id))  # not on hold

        await pbx.perform(Mute(conversation_id=call.id, muted=True))
        muted = await tail.wait_for(lambda: (c := latest(tail, call.id)) and c.muted, 5, "muted")
        assert muted
        await pbx.perform(Mute(conversation_id=call.id, muted=False))
        await tail.wait_for(lambda: (c := latest(tail, call.id)) and not c.muted, 5, "unmuted")

        await pbx.perform(HangUp(conversation_id=call.id))
        ended = await state_of(tail, call.id, State.WRAP_UP)
        assert ended.assignee == "alice"
        await eventually(lambda: not [c for c in stasis_channels(asterisk) if c["id"].startswith(native)])

        await pbx.perform(WrapUp(conversation_id=call.id, disposition="resolved", note="sorted out"))
        await state_of(tail, call.id, State.ENDED)
        await tail.wait_for(
            lambda: any(
                isinstance(e, WrappedUp) and e.record.conversation_id == call.id for e in tail.events
            ),
            5,
            "the wrap-up record",
        )
    notes = [m for m in await pbx.history(call.id) if m.direction is Direction.NOTE]
    assert [m.body for m in notes] == ["sorted out"]
    assert (await pbx.snapshot()).wrapups[-1].disposition == "resolved"


async def test_a_caller_hanging_up_while_waiting_is_a_missed_call(
    asterisk: AsteriskServer, pbx: AsteriskBackend
) -> None:
    async with watching(pbx) as tail:
        call = await ringing(tail, asterisk, "Fanny Gone")
        await asyncio.to_thread(
            asterisk.ari, "DELETE", f"/channels/{split_id(call.id)[1]}"
        )  # the caller's side
        missed = await state_of(tail, call.id, State.ABANDONED)
    assert missed.closed_at is not None and missed.assignee is None
    assert any("missed call" in m.body for m in await pbx.history(call.id))


async def test_a_caller_hanging_up_while_the_agents_phone_rings_is_missed_and_the_agent_told(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    backend = make_backend(asterisk, tmp_path / "data", agent="carol", ring_seconds=10.0)  # never answers
    await backend.connect()
    try:
        async with watching(backend) as tail:
            call = await ringing(tail, asterisk, "Gina Impatient")
            native = split_id(call.id)[1]
            accepting = asyncio.create_task(backend.perform(Accept(conversation_id=call.id)))

            def legs() -> list[str]:
                return [
                    c["id"] for c in asterisk.ari("GET", "/channels") if c["id"].startswith(f"{native}-agent")
                ]

            await tail.wait_for(lambda: (latest(tail, call.id) or call).assignee == "carol", 5, "carol's")
            assert await asyncio.to_thread(legs)  # her phone rings
            await asyncio.to_thread(asterisk.ari, "DELETE", f"/channels/{native}")
            with pytest.raises(Conflict, match="the caller hung up before the phone answered"):
                await asyncio.wait_for(accepting, 5)
            missed = await state_of(tail, call.id, State.ABANDONED)
            assert missed.assignee is None
            assert sum("missed call" in m.body for m in await backend.history(call.id)) == 1
            await tail.wait_for(lambda: not legs(), 5, "her phone to stop ringing")
    finally:
        await backend.close()
        await asyncio.to_thread(asterisk.hang_up_all)


async def test_transfer_to_another_agent_and_back_to_a_queue(
    asterisk: AsteriskServer, pbx: AsteriskBackend
) -> None:
    async with watching(pbx) as tail:
        call = await ringing(tail, asterisk, "Gaston Transfer")
        native = split_id(call.id)[1]
        bridge = f"{asterisk.app}-{native}"
        await pbx.perform(Accept(conversation_id=call.id))
        await state_of(tail, call.id, State.CONNECTED)

        await pbx.perform(Transfer(conversation_id=call.id, to_agent="bob"))
        with_bob = await tail.wait_for(
            lambda: (c := latest(tail, call.id)) and c.state is State.CONNECTED and c.assignee == "bob" and c,
            5,
            "the call connected to bob",
        )
        assert with_bob.assignee == "bob"
        members = await eventually(lambda: bridge_members(asterisk, bridge), what="bob's bridge")
        assert sorted(members) == sorted([native, f"{native}-agent2"])
        assert f"{native}-agent1" not in [
            c["id"] for c in await asyncio.to_thread(asterisk.ari, "GET", "/channels")
        ]

        await pbx.perform(Transfer(conversation_id=call.id, to_queue="support"))
        queued = await state_of(tail, call.id, State.QUEUED)
        assert queued.queue == "support" and queued.assignee is None
        channel = await asyncio.to_thread(asterisk.ari, "GET", f"/channels/{native}")
        assert channel["state"] == "Up"  # still there, on hold music, waiting in the console's queue
        with pytest.raises(Invalid):
            await pbx.perform(Transfer(conversation_id=call.id, to_queue="nowhere"))
        with pytest.raises(Invalid, match="warm"):
            await pbx.perform(Transfer(conversation_id=call.id, to_agent="bob", warm=True))

        # From the queue, it is taken again as any waiting call.
        await pbx.perform(Accept(conversation_id=call.id))
        again = await state_of(tail, call.id, State.CONNECTED)
        assert again.assignee == "alice"


async def test_a_callback_dials_the_customer_and_bridges_them_with_the_agent(
    asterisk: AsteriskServer, pbx: AsteriskBackend
) -> None:
    traffic = PhoneTraffic(asterisk)
    async with watching(pbx) as tail:
        await traffic.new_conversation(Channel.CALLBACK, "Hugo-Callback", customer="hugo")
        request = await tail.arrival("Hugo-Callback", 5)
        assert request.channel is Channel.CALLBACK and request.state is State.REQUESTED
        assert request.callback_number == number_of("hugo")
        # The request is taken: the caller's channel is hung up.
        await eventually(lambda: not stasis_channels(asterisk), what="the request's channel gone")

        result = await pbx.perform(PlaceCallback(conversation_id=request.id))
        assert result.conversation is not None
        phone_call = result.conversation
        await state_of(tail, request.id, State.DIALLING)
        connected = await state_of(tail, phone_call.id, State.CONNECTED)
        assert connected.assignee == "alice" and connected.subject.startswith("Callback:")
        native = split_id(phone_call.id)[1]
        members = await eventually(
            lambda: bridge_members(asterisk, f"{asterisk.app}-{native}"), what="bridge"
        )
        assert sorted(members) == sorted([f"{native}-agent1", f"{native}-dial"])
        dialled = await asyncio.to_thread(asterisk.ari, "GET", f"/channels/{native}-dial")
        assert number_of("hugo") in dialled["name"]


async def test_a_note_is_kept_once_per_key_and_the_customers_lines_arrive_in_order(
    asterisk: AsteriskServer, pbx: AsteriskBackend
) -> None:
    traffic = PhoneTraffic(asterisk)
    async with watching(pbx) as tail:
        call = await ringing(tail, asterisk, "Ines Lines")
        native = split_id(call.id)[1]
        await asyncio.to_thread(traffic.says, native, "my order 42 is late")
        await asyncio.to_thread(traffic.says, native, "<b>bold</b> [red]markup[/red]")
        # The customer's two lines (the call's own "incoming call" line is a message too: not counted).
        await tail.wait_for(
            lambda: sum(
                isinstance(e, MessageAdded) and e.message.direction is Direction.INBOUND for e in tail.events
            )
            >= 2,
            5,
            "two lines",
        )
        first = await pbx.perform(Note(conversation_id=call.id, body="VIP", key="k1"))
        again = await pbx.perform(Note(conversation_id=call.id, body="VIP", key="k1"))
        assert (
            first.message is not None and again.message is not None and first.message.id == again.message.id
        )
    history = await pbx.history(call.id)
    inbound = [m.body for m in history if m.direction is Direction.INBOUND]
    assert inbound == ["my order 42 is late", "<b>bold</b> [red]markup[/red]"]  # as said: the console cleans
    assert [m.body for m in history if m.direction is Direction.NOTE] == ["VIP"]


async def test_a_second_console_on_the_same_application_is_said_not_fought_over_silently(
    asterisk: AsteriskServer, pbx: AsteriskBackend, tmp_path: Path
) -> None:
    """ARI gives an application to one websocket: the console it is taken from says so (its events raise,
    the hub shows it down), rather than waiting for calls that now go to the other one."""
    async with watching(pbx) as tail:
        other = make_backend(asterisk, tmp_path / "other", agent="bob")
        await other.connect()
        try:
            await tail.wait_for(lambda: tail.error is not None, 5, "the first console told")
            assert isinstance(tail.error, Unavailable)
            assert "another ARI client took the Stasis application" in str(tail.error)
            async with watching(other) as second:
                await ringing(second, asterisk, "Ophelia Other")  # the calls now go to the other console
        finally:
            await other.close()


async def test_accept_rings_a_real_sip_phone_with_the_callers_id_and_hang_up_sends_it_bye(
    asterisk: AsteriskServer, tmp_path: Path
) -> None:
    phone = await SipPhone(asterisk.phone_port).start()
    backend = make_backend(asterisk, tmp_path / "data", phone="PJSIP/sipagent")
    await backend.connect()
    try:
        async with watching(backend) as tail:
            call = await ringing(tail, asterisk, "Sara Sip")
            await backend.perform(Accept(conversation_id=call.id))
            await state_of(tail, call.id, State.CONNECTED)
            invite = phone.of("INVITE")[0]
            assert display_name(invite.header("from")) == "Sara Sip"
            assert number_of("Sara Sip") in invite.header("from")
            native = split_id(call.id)[1]
            members = await eventually(
                lambda: bridge_members(asterisk, f"{asterisk.app}-{native}"), what="bridge"
            )
            assert sorted(members) == sorted([native, f"{native}-agent1"])
            leg = await asyncio.to_thread(asterisk.ari, "GET", f"/channels/{native}-agent1")
            assert leg["name"].startswith("PJSIP/sipagent-") and leg["state"] == "Up"

            await backend.perform(HangUp(conversation_id=call.id))
            await state_of(tail, call.id, State.WRAP_UP)
            await tail.wait_for(lambda: phone.of("BYE"), 5, "the phone hung up")
    finally:
        await backend.close()
        phone.close()
        await asyncio.to_thread(asterisk.hang_up_all)


async def test_a_caller_in_the_directory_is_that_customer(asterisk: AsteriskServer, tmp_path: Path) -> None:
    directory = tmp_path / "customers.csv"
    directory.write_text(
        "number,name,language,email\n+33 1 23 45 67 00,Alice Martin-Durand,de,alice@customer.test\n",
        encoding="utf-8",
    )
    backend = make_backend(asterisk, tmp_path / "data", directory=str(directory))
    await backend.connect()
    try:
        async with watching(backend) as tail:
            await asyncio.to_thread(asterisk.call, "+33123456700", "A MARTIN PORTABLE", "queue-sales")
            await asyncio.to_thread(asterisk.call, "+33123456799", "Unknown Ulysse", "queue-sales")
            known = await tail.arrival("Alice Martin-Durand", 5)
            unknown = await tail.arrival("Unknown Ulysse", 5)
        assert known.customer_name == "Alice Martin-Durand" and known.customer_id == "pbx:tel:+33123456700"
        assert known.language == "de"  # the directory's, before the +33 prefix's French
        customer = await backend.customer(known.customer_id)
        assert customer is not None and customer.email == "alice@customer.test"
        assert unknown.customer_name == "Unknown Ulysse" and unknown.language == "fr"
    finally:
        await backend.close()
        await asyncio.to_thread(asterisk.hang_up_all)
