"""Sessions and heartbeats on the workspace file, on a fake clock: quitting signs off, silence is reaped,
and an agent wrapping up a live contact is not offered calls (routing and the ring)."""

from __future__ import annotations

import time
from pathlib import Path

from app_harness import Contact, make_app, seed, wait_for
from standardiste.backends.base import Claim, EndChat, SetPresence
from standardiste.backends.local import LocalBackend, Workspace
from standardiste.backends.local.backend import default_agent
from standardiste.backends.local.claims import next_best, offer_next
from standardiste.backends.local.commands import perform
from standardiste.backends.local.sessions import GONE_REASON, Session, beat, begin, end
from standardiste.console.core.model import Channel, Presence, State
from standardiste.console.core.presence import PresenceRules
from standardiste.console.core.routing import Load, Refusal, RoutingRules, channel_refusal


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _workspace(tmp_path: Path, clock: Clock) -> tuple[Workspace, str]:
    db = tmp_path / "ws.db"
    (email,) = seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice")], now=clock.now - 60)
    ws = Workspace(db, clock=clock)
    for name in ("anna", "bob"):
        ws.upsert_agent(default_agent(name))
        ws.set_presence(name, Presence.AVAILABLE)
    return ws, email


def test_quitting_signs_off_only_the_last_console_of_an_agent(tmp_path: Path) -> None:
    clock = Clock()
    ws, email = _workspace(tmp_path, clock)
    first, second = Session.new("anna"), Session.new("anna")
    begin(ws, first)
    begin(ws, second)
    ws.set_agent_activity("anna", viewing=email, typing_in=email)
    ws.set_typing(email, "anna", True)

    assert end(ws, first) is False  # her other console still runs: still available, still viewing
    anna = ws.agent("anna")
    assert anna is not None and anna.presence is Presence.AVAILABLE and anna.viewing == email

    assert end(ws, second) is True
    anna = ws.agent("anna")
    assert anna is not None
    assert (anna.presence, anna.viewing, anna.typing_in) == (Presence.OFFLINE, None, None)
    assert ws.db.execute("SELECT COUNT(*) FROM typing WHERE who = 'anna'").fetchone()[0] == 0


def test_a_silent_console_is_reaped_after_gone_after_and_its_offer_freed(tmp_path: Path) -> None:
    clock = Clock()
    ws, email = _workspace(tmp_path, clock)
    anna, bob = Session.new("anna"), Session.new("bob")
    begin(ws, anna)
    begin(ws, bob)
    ws.set_agent_activity("bob", viewing=email)
    offer = offer_next(ws, "bob")
    assert offer is not None and offer.conversation_id == email

    # Bob's console dies; Anna's keeps beating. Not gone before gone_after...
    for _ in range(3):
        clock.now += 5.0
        assert beat(ws, anna, gone_after=20.0) == (False, [])
    clock.now += 5.0  # exactly 20 s since bob's last beat: still not "older than"
    assert beat(ws, anna, gone_after=20.0) == (False, [])
    # ...and gone at the next beat after it.
    clock.now += 5.0
    assert beat(ws, anna, gone_after=20.0) == (False, ["bob"])
    gone = ws.agent("bob")
    assert gone is not None
    assert (gone.presence, gone.presence_reason, gone.viewing) == (Presence.OFFLINE, GONE_REASON, None)
    assert ws.db.execute("SELECT COUNT(*) FROM offers").fetchone()[0] == 0
    # Routing stops offering Bob work, and what he held goes to Anna.
    assert next_best(ws, "bob") is None
    taken = next_best(ws, "anna")
    assert taken is not None and taken.id == email


def test_a_console_seen_as_gone_beats_again_without_coming_back_available(tmp_path: Path) -> None:
    clock = Clock()
    ws, _ = _workspace(tmp_path, clock)
    anna, bob = Session.new("anna"), Session.new("bob")
    begin(ws, anna)
    begin(ws, bob)
    clock.now += 30.0
    assert beat(ws, anna) == (False, ["bob"])
    # Bob's console wakes up (it was suspended): it learns it was reaped and has a row again.
    assert beat(ws, bob) == (True, [])
    assert ws.db.execute("SELECT COUNT(*) FROM sessions WHERE agent_id = 'bob'").fetchone()[0] == 1
    back = ws.agent("bob")
    assert back is not None and back.presence is Presence.OFFLINE  # he chooses to be available again


def test_agents_without_a_session_are_never_reaped(tmp_path: Path) -> None:
    clock = Clock()
    ws, _ = _workspace(tmp_path, clock)
    anna = Session.new("anna")
    begin(ws, anna)
    clock.now += 3600.0
    assert beat(ws, anna) == (False, [])  # bob (a simulated agent, say) never announced a console
    bob = ws.agent("bob")
    assert bob is not None and bob.presence is Presence.AVAILABLE


def test_presence_timing_from_the_config() -> None:
    rules = PresenceRules.from_config({"heartbeat": "2s", "gone_after": "10s"})
    assert (rules.heartbeat, rules.gone_after) == (2.0, 10.0)
    assert (PresenceRules().heartbeat, PresenceRules().gone_after) == (5.0, 20.0)
    for bad in ({"heartbeat": 0}, {"heartbeat": "5s", "gone_after": "8s"}):
        try:
            PresenceRules.from_config(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} accepted")


def test_an_agent_wrapping_up_a_chat_is_not_offered_calls() -> None:
    rules = RoutingRules()
    agent = default_agent("anna")
    wrapping_up = Load({(Channel.CHAT, State.WRAP_UP): 1})
    assert channel_refusal(agent, Channel.PHONE, wrapping_up, rules) is Refusal.BLOCKED
    assert channel_refusal(agent, Channel.CALLBACK, wrapping_up, rules) is Refusal.BLOCKED
    assert channel_refusal(agent, Channel.EMAIL, wrapping_up, rules) is None
    # An active chat alone does not keep calls away (chats are interruptible).
    assert channel_refusal(agent, Channel.PHONE, Load({(Channel.CHAT, State.ACTIVE): 1}), rules) is None
    assert RoutingRules.from_config({"wrap_up_blocks": []}).wrap_up_blocks == frozenset()


async def test_a_new_call_does_not_ring_for_an_agent_in_wrap_up(tmp_path: Path) -> None:
    db = tmp_path / "workspace.db"
    (chat,) = seed(db, [Contact(Channel.CHAT, "Jean Dupont", "fr", "Colis", age=30)], now=time.time())
    app = make_app(tmp_path, config_text='agent = "alice"\nundo_seconds = 0\nbell = true\n')
    rings: list[None] = []
    app.bell = lambda: rings.append(None)  # type: ignore[method-assign]
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(lambda: chat in app.store.conversations and app.hub_ready, pilot=pilot)
        ws = Workspace(db)
        perform(ws, Claim(conversation_id=chat, agent_id="alice"))
        perform(ws, EndChat(conversation_id=chat, agent_id="alice"))
        ws.close()
        await wait_for(lambda: app.store.conversations[chat].state is State.WRAP_UP, pilot=pilot)
        seed(db, [Contact(Channel.PHONE, "Anna Müller", "de", "Paket", age=1)], now=time.time())
        # The console decides to ring in the step that puts the call in its store: once it is there, it
        # has (or has not) said so.
        await wait_for(lambda: len(app.store.conversations) == 2, pilot=pilot)
        await pilot.pause()
        assert [n.message for n in app.said if "is calling" in n.message] == []
        assert rings == []


async def test_a_reconnect_keeps_the_presence_and_only_quitting_signs_off(tmp_path: Path) -> None:
    db = tmp_path / "ws.db"
    seed(db, [Contact(Channel.EMAIL, "John Smith", "en", "Invoice")])
    backend = LocalBackend(db, agent_id="anna")
    await backend.connect()
    await backend.perform(SetPresence(presence=Presence.AWAY, reason="lunch"))
    await backend.close()  # what the hub does before it reconnects after an error
    await backend.connect()
    ws = Workspace(db)
    anna = ws.agent("anna")
    assert anna is not None and (anna.presence, anna.presence_reason) == (Presence.AWAY, "lunch")
    await backend.sign_off()  # the quit
    await backend.close()
    anna = ws.agent("anna")
    assert anna is not None and anna.presence is Presence.OFFLINE
    # One session across the reconnect, so the quit was not taken for another console of hers.
    assert ws.db.execute("SELECT COUNT(*) FROM sessions WHERE agent_id = 'anna'").fetchone()[0] == 0
    ws.close()
