"""The routing rules, table by table: eligibility, order, config, SLA clock, presence, agent profiles."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from standardiste.console.core import presence as pr
from standardiste.console.core.agent_profile import AgentProfile, profile_of, team_from_config
from standardiste.console.core.model import (
    Agent,
    Channel,
    Conversation,
    Presence,
    Priority,
    Seniority,
    Skills,
    State,
)
from standardiste.console.core.routing import (
    ClaimCheck,
    Load,
    Refusal,
    RoutingRules,
    best_for,
    breach_at,
    claim_check,
    next_sla_change,
    order_key,
    rank,
    refusal,
    sla_transitions,
    warning_at,
)
from standardiste.console.core.sla import SlaPolicy, SlaState

NOW = 1_000_000.0
RULES = RoutingRules()
P, C, E, CB, F, S = Channel.PHONE, Channel.CHAT, Channel.EMAIL, Channel.CALLBACK, Channel.FORM, Channel.SOCIAL


def conv(cid: str = "1", channel: Channel = P, **kw: Any) -> Conversation:
    state = kw.pop(
        "state",
        {P: State.RINGING, C: State.WAITING, CB: State.REQUESTED}.get(channel, State.NEW),
    )
    values: dict[str, Any] = {
        "id": f"local:{cid}",
        "channel": channel,
        "state": state,
        "subject": "s",
        "customer_id": "c",
        "customer_name": "C",
        "language": "fr",
        "created_at": NOW - 10,
        "updated_at": NOW - 10,
        "sla_due_at": NOW + 100,
    }
    values.update(kw)
    return Conversation(**values)


def agent(**kw: Any) -> Agent:
    skills = Skills(
        channels=kw.pop("channels", {P: 2, C: 2, CB: 1, E: 1, F: 1, S: 1}),
        languages=kw.pop("languages", ("fr", "en")),
        seniority=kw.pop("seniority", Seniority.CONFIRMED),
    )
    return Agent(
        id=kw.pop("id", "me"), name="Me", skills=skills, presence=kw.pop("presence", Presence.AVAILABLE), **kw
    )


def load(*items: tuple[Channel, State, int]) -> Load:
    return Load({(c, s): n for c, s, n in items})


ELIGIBILITY: list[tuple[str, dict[str, Any], dict[str, Any], Load, Refusal | None]] = [
    ("ringing call, skilled, free", {}, {}, load(), None),
    ("away agent", {"presence": Presence.AWAY}, {}, load(), Refusal.NOT_AVAILABLE),
    ("busy set by hand means do not route", {"presence": Presence.BUSY}, {}, load(), Refusal.NOT_AVAILABLE),
    ("wrap-up presence", {"presence": Presence.WRAP_UP}, {}, load(), Refusal.NOT_AVAILABLE),
    ("no phone skill", {"channels": {C: 1}}, {}, load(), Refusal.NO_SKILL),
    ("level 0 is no skill", {"channels": {P: 0}}, {}, load(), Refusal.NO_SKILL),
    ("language not spoken", {}, {"language": "de"}, load(), Refusal.NO_LANGUAGE),
    ("language case ignored", {"languages": ("FR",)}, {"language": "fr"}, load(), None),
    ("new hire, call", {"seniority": Seniority.NEW_HIRE}, {}, load(), Refusal.NEW_HIRE),
    ("new hire, chat", {"seniority": Seniority.NEW_HIRE}, {"channel": C}, load(), Refusal.NEW_HIRE),
    ("new hire, form", {"seniority": Seniority.NEW_HIRE}, {"channel": F}, load(), Refusal.NEW_HIRE),
    ("new hire, email", {"seniority": Seniority.NEW_HIRE}, {"channel": E}, load(), None),
    ("skill before language", {"channels": {C: 1}}, {"language": "de"}, load(), Refusal.NO_SKILL),
    ("language before capacity", {}, {"language": "de"}, load((P, State.CONNECTED, 1)), Refusal.NO_LANGUAGE),
    ("one call at a time", {}, {}, load((P, State.CONNECTED, 1)), Refusal.AT_CAPACITY),
    ("call in wrap-up still counts", {}, {}, load((P, State.WRAP_UP, 1)), Refusal.AT_CAPACITY),
    ("call blocks chat", {}, {"channel": C}, load((P, State.CONNECTED, 1)), Refusal.BLOCKED),
    ("call on hold blocks callback", {}, {"channel": CB}, load((P, State.ON_HOLD, 1)), Refusal.BLOCKED),
    ("call does not block email", {}, {"channel": E}, load((P, State.CONNECTED, 1)), None),
    ("two chats: a third fits", {}, {"channel": C}, load((C, State.ACTIVE, 2)), None),
    ("three chats: full", {}, {"channel": C}, load((C, State.ACTIVE, 3)), Refusal.AT_CAPACITY),
    ("chats are interruptible by a call", {}, {}, load((C, State.ACTIVE, 3)), None),
    ("dialling a callback blocks a call", {}, {}, load((CB, State.DIALLING, 1)), Refusal.BLOCKED),
    ("ten open emails: full", {}, {"channel": E}, load((E, State.OPEN, 10)), Refusal.AT_CAPACITY),
    ("pending emails are parked", {}, {"channel": E}, load((E, State.PENDING, 40)), None),
    ("closed items are not load", {}, {}, load((P, State.ENDED, 3)), None),
    ("own capacity", {"capacity": {C: 1}}, {"channel": C}, load((C, State.ACTIVE, 1)), Refusal.AT_CAPACITY),
    ("capacity 0 means never", {"capacity": {E: 0}}, {"channel": E}, load(), Refusal.AT_CAPACITY),
    ("owned by another", {}, {"assignee": "bob"}, load(), Refusal.OWNED),
    ("already mine and ringing", {}, {"assignee": "me"}, load(), None),
    ("answered call", {}, {"state": State.CONNECTED}, load(), Refusal.NOT_WAITING),
    ("declined call back in queue", {}, {"state": State.QUEUED}, load(), None),
    ("closed", {}, {"state": State.ENDED}, load(), Refusal.CLOSED),
    ("snoozed", {}, {"channel": E, "snoozed_until": NOW + 1}, load(), Refusal.SNOOZED),
    ("snooze over", {}, {"channel": E, "snoozed_until": NOW}, load(), None),
    ("callback later", {}, {"channel": CB, "callback_at": NOW + 60}, load(), Refusal.NOT_DUE),
    ("callback due", {}, {"channel": CB, "state": State.SCHEDULED, "callback_at": NOW}, load(), None),
    (
        "pending email waits on the customer",
        {},
        {"channel": E, "state": State.PENDING},
        load(),
        Refusal.NOT_WAITING,
    ),
]


@pytest.mark.parametrize(
    ("why", "who", "what", "held", "expected"), ELIGIBILITY, ids=[r[0] for r in ELIGIBILITY]
)
def test_eligibility(
    why: str, who: dict[str, Any], what: dict[str, Any], held: Load, expected: Refusal | None
) -> None:
    assert refusal(agent(**who), conv(**what), held, NOW, RULES) is expected


def test_new_hire_channels_and_blocks_come_from_config() -> None:
    rules = RoutingRules.from_config(
        {"new_hire_channels": ["email", "form"], "blocks": {"chat": ["phone", "callback"], "callback": []}}
    )
    hire = agent(seniority=Seniority.NEW_HIRE)
    assert refusal(hire, conv(channel=F), load(), NOW, rules) is None
    assert refusal(agent(), conv(), load((C, State.ACTIVE, 1)), NOW, rules) is Refusal.BLOCKED
    assert refusal(agent(), conv(channel=C), load((P, State.CONNECTED, 1)), NOW, rules) is Refusal.BLOCKED
    assert refusal(agent(), conv(channel=C), load((CB, State.DIALLING, 1)), NOW, rules) is None


# Each row: conversations (id, channel, fields) in any order, and the order the rules must give.
ORDERS: list[tuple[str, list[tuple[str, Channel, dict[str, Any]]], list[str]]] = [
    (
        "call, chat, callback, email",
        [("e", E, {}), ("cb", CB, {}), ("c", C, {}), ("p", P, {})],
        ["p", "c", "cb", "e"],
    ),
    (
        "closest deadline first in a channel",
        [("late", C, {"sla_due_at": NOW + 50}), ("soon", C, {"sla_due_at": NOW + 5})],
        ["soon", "late"],
    ),
    (
        "priority breaks a tie on the deadline",
        [("n", E, {"sla_due_at": NOW + 5}), ("u", E, {"sla_due_at": NOW + 5, "priority": Priority.URGENT})],
        ["u", "n"],
    ),
    (
        "oldest breaks a full tie",
        [("young", E, {"created_at": NOW - 1}), ("old", E, {"created_at": NOW - 9})],
        ["old", "young"],
    ),
    (
        "no deadline after any deadline, oldest first",
        [
            ("none2", E, {"sla_due_at": None, "created_at": NOW - 1}),
            ("none1", E, {"sla_due_at": None}),
            ("d", E, {}),
        ],
        ["d", "none1", "none2"],
    ),
    (
        "email, form and social share a tier: deadline decides",
        [
            ("e", E, {"sla_due_at": NOW + 9}),
            ("s", S, {"sla_due_at": NOW + 2}),
            ("f", F, {"sla_due_at": NOW + 5}),
        ],
        ["s", "f", "e"],
    ),
    (
        "a breached email rises to the callbacks",
        [("cb", CB, {"sla_due_at": NOW + 5}), ("e", E, {"sla_due_at": NOW - 1})],
        ["e", "cb"],
    ),
    (
        "a breached email does not pass a chat",
        [("c", C, {"sla_due_at": NOW + 5}), ("e", E, {"sla_due_at": NOW - 500})],
        ["c", "e"],
    ),
    (
        "a breached callback rises to the chats, by deadline",
        [
            ("c", C, {"sla_due_at": NOW + 5}),
            ("cb", CB, {"sla_due_at": NOW - 1}),
            ("c0", C, {"sla_due_at": NOW - 3}),
        ],
        ["c0", "cb", "c"],
    ),
    (
        "nothing rises above a ringing call",
        [("p", P, {"sla_due_at": NOW + 10}), ("c", C, {"sla_due_at": NOW - 100})],
        ["p", "c"],
    ),
    (
        "breach is at the deadline itself",
        [("cb", CB, {"sla_due_at": NOW + 1}), ("e", E, {"sla_due_at": NOW})],
        ["e", "cb"],
    ),
]


@pytest.mark.parametrize(("why", "items", "expected"), ORDERS, ids=[r[0] for r in ORDERS])
def test_order(why: str, items: list[tuple[str, Channel, dict[str, Any]]], expected: list[str]) -> None:
    conversations = [conv(cid, channel, **kw) for cid, channel, kw in items]
    for shuffled in (conversations, conversations[::-1]):
        assert [c.id.removeprefix("local:") for c in rank(shuffled, NOW, RULES)] == expected


CONFIGURED: list[tuple[str, dict[str, Any], list[tuple[str, Channel, dict[str, Any]]], list[str]]] = [
    (
        "email before chat when ordered so",
        {"order": ["email", "phone", "chat", "callback", ["form", "social"]]},
        [("c", C, {}), ("e", E, {}), ("p", P, {})],
        ["e", "p", "c"],
    ),
    (
        "no rising",
        {"breach_rise": 0},
        [("cb", CB, {"sla_due_at": NOW + 5}), ("e", E, {"sla_due_at": NOW - 1})],
        ["cb", "e"],
    ),
    (
        "rising two tiers up to the chats",
        {"breach_rise": 2},
        [("c", C, {"sla_due_at": NOW + 5}), ("e", E, {"sla_due_at": NOW - 1})],
        ["e", "c"],
    ),
    (
        "ceiling at phone lets a breached chat pass a fresh call",
        {"breach_ceiling": "phone"},
        [("p", P, {"sla_due_at": NOW + 10}), ("c", C, {"sla_due_at": NOW - 1})],
        ["c", "p"],
    ),
    (
        "priority weight: urgent (3) is ordered 2 x 60 s ahead of normal (1)",
        {"priority_weight": "60s"},
        [
            ("n", E, {"sla_due_at": NOW + 100}),
            ("u", E, {"sla_due_at": NOW + 210, "priority": Priority.URGENT}),
        ],
        ["u", "n"],
    ),
]


@pytest.mark.parametrize(("why", "config", "items", "expected"), CONFIGURED, ids=[r[0] for r in CONFIGURED])
def test_configured_order(
    why: str, config: dict[str, Any], items: list[tuple[str, Channel, dict[str, Any]]], expected: list[str]
) -> None:
    rules = RoutingRules.from_config(config)
    conversations = [conv(cid, channel, **kw) for cid, channel, kw in items]
    assert [c.id.removeprefix("local:") for c in rank(conversations, NOW, rules)] == expected


def test_best_for_filters_then_orders() -> None:
    items = [
        conv("de-call", P, language="de"),
        conv("chat", C),
        conv("mail", E),
        conv("other", P, assignee="bob"),
        conv("call", P, sla_due_at=NOW + 500),
    ]
    assert [c.id for c in best_for(agent(), items, load(), NOW, RULES)] == [
        "local:call",
        "local:chat",
        "local:mail",
    ]
    on_call = load((P, State.CONNECTED, 1))
    assert [c.id for c in best_for(agent(), items, on_call, NOW, RULES)] == ["local:mail"]


def test_load_of_store_items() -> None:
    items = [
        conv("a", C, state=State.ACTIVE, assignee="me"),
        conv("b", C, state=State.WRAP_UP, assignee="me"),
        conv("c", C, state=State.ACTIVE, assignee="bob"),
        conv("d", C, state=State.ENDED, assignee="me"),
        conv("e", E, state=State.PENDING, assignee="me"),
    ]
    held = Load.of(items, "me")
    assert held.in_hand(C, RULES) == 2
    assert held.in_hand(E, RULES) == 0
    assert held.blocked(RULES) == {P, CB}  # chats block nothing, but one in wrap-up keeps calls away
    assert Load.of(items[:1], "me").blocked(RULES) == set()
    on_call = Load.of([*items, conv("p", P, state=State.ON_HOLD, assignee="me")], "me")
    assert on_call.blocked(RULES) == {P, C, CB}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"order": "phone"}, "routing.order must be a list"),
        ({"order": ["phone", "fax"]}, "unknown channel 'fax'"),
        ({"order": ["phone", ["phone"]]}, "lists phone twice"),
        ({"breach_rise": -1}, "breach_rise"),
        ({"breach_rise": True}, "breach_rise"),
        ({"breach_ceiling": "pigeon"}, "breach_ceiling"),
        ({"new_hire_channels": "email"}, "new_hire_channels must be a list"),
        ({"parked_states": ["asleep"]}, "parked_states"),
        ({"blocks": {"phone": ["telex"]}}, "blocks.phone"),
        ({"scan_limit": 0}, "scan_limit"),
    ],
)
def test_bad_config_names_the_key(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RoutingRules.from_config(bad)


def test_config_defaults_and_durations() -> None:
    assert RoutingRules.from_config({}) == RoutingRules()
    rules = RoutingRules.from_config(
        {"offer_timeout": "20s", "decline_cooldown": "2m", "parked_states": ["pending"]}
    )
    assert (rules.offer_timeout, rules.decline_cooldown) == (20.0, 120.0)
    assert rules.parked_states == {State.PENDING}
    assert rules.tier(P) < rules.tier(C) < rules.tier(CB) < rules.tier(E) == rules.tier(F) == rules.tier(S)


@pytest.mark.parametrize(
    ("assignee", "state", "expected"),
    [
        (None, State.RINGING, ClaimCheck.FREE),
        ("me", State.CONNECTED, ClaimCheck.MINE),
        ("bob", State.ACTIVE, ClaimCheck.ASK),
        ("bob", State.ENDED, ClaimCheck.CLOSED),
    ],
)
def test_claim_check(assignee: str | None, state: State, expected: ClaimCheck) -> None:
    channel = C if state is State.ACTIVE else P
    assert claim_check(conv(channel=channel, assignee=assignee, state=state), "me") is expected


# ---------------------------------------------------------------------------------------------- SLA clock


def test_breach_flips_exactly_at_the_deadline() -> None:
    policy = SlaPolicy()
    rng = random.Random(5)
    for n in range(500):
        created = NOW + rng.uniform(0, 3600)
        channel = rng.choice(list(Channel))
        priority = rng.choice(list(Priority))
        c = conv(str(n), channel, created_at=created, sla_due_at=policy.due_at(channel, created, priority))
        due = breach_at(c, policy)
        assert due == c.sla_due_at
        assert policy.state(c, due) is SlaState.BREACHED
        assert policy.state(c, math.nextafter(due, -math.inf)) is not SlaState.BREACHED
        warn = warning_at(c, policy)
        assert warn is not None and warn < due
        assert policy.state(c, warn) is SlaState.WARNING
        assert policy.state(c, math.nextafter(warn, -math.inf)) is SlaState.OK


def test_no_deadline_no_transitions() -> None:
    policy = SlaPolicy()
    answered = conv(channel=C, state=State.ACTIVE, answered_at=NOW - 5)
    assert sla_transitions(answered, policy) == []
    assert sla_transitions(conv(sla_due_at=None), policy) == []
    refund = conv("r", E, state=State.OPEN, tags=("refund",), first_response_at=NOW - 1)
    assert [s for _, s in sla_transitions(refund, policy)] == [SlaState.WARNING, SlaState.BREACHED]
    assert breach_at(refund, policy) == refund.created_at + 2 * 86400


def test_next_sla_change_is_the_earliest_future_flip() -> None:
    policy = SlaPolicy()
    rng = random.Random(9)
    items = []
    for n in range(200):
        created = NOW - rng.uniform(0, 120)
        items.append(conv(str(n), C, created_at=created, sla_due_at=policy.due_at(C, created)))
    for _ in range(50):
        now = NOW + rng.uniform(-120, 60)
        moment = next_sla_change(items, policy, now)
        # Brute force: the first instant after `now` where some item's state differs from just before.
        flips = [m for c in items for m, _ in sla_transitions(c, policy) if m > now]
        assert moment == (min(flips) if flips else None)
        if moment is not None:
            before = [policy.state(c, math.nextafter(moment, -math.inf)) for c in items]
            after = [policy.state(c, moment) for c in items]
            assert before != after
            breached_only = next_sla_change(items, policy, now, frozenset({SlaState.BREACHED}))
            assert breached_only is not None and breached_only >= moment
            assert any(policy.state(c, breached_only) is SlaState.BREACHED for c in items)


def test_routing_breach_agrees_with_sla_state() -> None:
    policy = SlaPolicy()
    c = conv("x", E, sla_due_at=NOW)
    for at in (math.nextafter(NOW, -math.inf), NOW):
        promoted = order_key(c, at, RULES)[0] < RULES.tier(E)
        assert promoted is (policy.state(c, at) is SlaState.BREACHED)


# ---------------------------------------------------------------------------------------------- presence

IDLE_RULES = pr.PresenceRules(idle_away=600.0)


@pytest.mark.parametrize(
    ("presence", "held", "idle_for", "expected"),
    [
        (Presence.AVAILABLE, load(), 599.0, None),
        (Presence.AVAILABLE, load(), 600.0, pr.PresenceChange(Presence.AWAY, "idle")),
        (Presence.AVAILABLE, load((P, State.CONNECTED, 1)), 3600.0, None),
        (Presence.AVAILABLE, load((C, State.ACTIVE, 1)), 3600.0, None),
        (Presence.AVAILABLE, load((E, State.OPEN, 3)), 600.0, pr.PresenceChange(Presence.AWAY, "idle")),
        (Presence.AWAY, load(), 3600.0, None),
        (Presence.BUSY, load(), 3600.0, None),
    ],
)
def test_idle_to_away(
    presence: Presence, held: Load, idle_for: float, expected: pr.PresenceChange | None
) -> None:
    who = agent(presence=presence)
    assert pr.idle_change(who, held, NOW - idle_for, NOW, IDLE_RULES, RULES) == expected


def test_idle_timer_and_return() -> None:
    who = agent()
    assert pr.idle_due_at(who, load(), NOW, IDLE_RULES, RULES) == NOW + 600
    assert pr.idle_due_at(who, load(), NOW, pr.PresenceRules(idle_away=None), RULES) is None
    idle = agent(presence=Presence.AWAY, presence_reason="idle")
    assert pr.input_change(idle, IDLE_RULES) == pr.PresenceChange(Presence.AVAILABLE)
    lunch = agent(presence=Presence.AWAY, presence_reason="lunch")
    assert pr.input_change(lunch, IDLE_RULES) is None
    assert pr.input_change(idle, pr.PresenceRules(return_on_input=False)) is None


@pytest.mark.parametrize(
    ("presence", "held", "expected"),
    [
        (Presence.AVAILABLE, load(), Presence.AVAILABLE),
        (Presence.AVAILABLE, load((E, State.OPEN, 4)), Presence.AVAILABLE),
        (Presence.AVAILABLE, load((P, State.CONNECTED, 1)), Presence.BUSY),
        (Presence.AVAILABLE, load((C, State.ACTIVE, 2)), Presence.BUSY),
        (Presence.AVAILABLE, load((P, State.WRAP_UP, 1)), Presence.WRAP_UP),
        (Presence.AVAILABLE, load((P, State.WRAP_UP, 1), (C, State.ACTIVE, 1)), Presence.BUSY),
        (Presence.AWAY, load((P, State.CONNECTED, 1)), Presence.AWAY),
    ],
)
def test_effective_presence(presence: Presence, held: Load, expected: Presence) -> None:
    assert pr.effective_presence(agent(presence=presence), held, RULES) is expected


def test_presence_config_and_choices() -> None:
    rules = pr.PresenceRules.from_config({"idle_away": "5m", "reasons": ["Lunch", "doctor"]})
    assert rules.idle_away == 300.0
    assert rules.reasons == ("lunch", "doctor", "idle")
    assert pr.PresenceRules.from_config({"idle_away": 0}).idle_away is None
    menu = pr.choices(rules)
    keys = [c.key for c in menu]
    assert len(set(keys)) == len(keys) and all(keys)
    assert [(c.presence, c.reason) for c in menu] == [
        (Presence.AVAILABLE, ""),
        (Presence.BUSY, "do not disturb"),
        (Presence.AWAY, "lunch"),
        (Presence.AWAY, "doctor"),
        (Presence.OFFLINE, ""),
    ]
    with pytest.raises(ValueError, match="reasons"):
        pr.PresenceRules.from_config({"reasons": "lunch"})
    assert pr.validate_change(load((P, State.CONNECTED, 1)), Presence.OFFLINE, RULES)
    assert pr.validate_change(load((E, State.OPEN, 1)), Presence.OFFLINE, RULES) is None


# ---------------------------------------------------------------------------------------------- profiles


def test_profile_levels_languages_capacity() -> None:
    profile = AgentProfile.from_config(
        {"seniority": "senior", "languages": ["FR", "en", "fr"], "channels": {"phone": 3, "chat": 2, "email": 0},
         "capacity": {"chat": 2}}
    )  # fmt: skip
    assert profile.skills == Skills({P: 3, C: 2}, ("fr", "en"), Seniority.SENIOR)
    assert profile.capacity[C] == 2 and profile.capacity[E] == 10
    made = profile.to_agent("anna", "Anna")
    assert (made.id, made.name, made.presence, made.capacity[C]) == ("anna", "Anna", Presence.OFFLINE, 2)


def test_new_hire_is_email_only() -> None:
    plain = AgentProfile.from_config({"seniority": "new_hire", "languages": ["de"]})
    assert plain.channels == {E: 1} and not plain.warnings
    eager = AgentProfile.from_config({"seniority": "new-hire", "channels": ["phone", "chat", "email"]})
    assert eager.channels == {E: 1}
    assert eager.warnings == ("new hire: chat, phone left out until confirmed",)
    wider = AgentProfile.from_config(
        {"seniority": "new_hire", "channels": ["form", "phone"]},
        RoutingRules(new_hire_channels=frozenset({E, F})),
    )
    assert wider.channels == {F: 1}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"channels": {"phone": 4}}, "profile.channels.phone"),
        ({"channels": {"fax": 1}}, "unknown channel"),
        ({"channels": "phone"}, "profile.channels must be"),
        ({"channels": ["email"], "languages": []}, "profile.languages"),
        ({"channels": ["email"], "seniority": "intern"}, "profile.seniority"),
        ({"channels": ["email"], "capacity": {"chat": -1}}, "profile.capacity.chat"),
    ],
)
def test_bad_profile(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AgentProfile.from_config(bad)


def test_team_and_console_profile() -> None:
    config = {
        "profile": {"channels": ["email"]},
        "team": {"anna": {"channels": {"phone": 2}, "languages": ["fr"]}, "ben": {"seniority": "new_hire"}},
    }
    team = team_from_config(config)
    assert sorted(team) == ["anna", "ben"]
    assert team["ben"].channels == {E: 1}
    assert profile_of(config) == AgentProfile.from_config({"channels": ["email"]})
    assert profile_of({}) is None
    with pytest.raises(ValueError, match=r"team\.zoe"):
        team_from_config({"team": {"zoe": {"channels": {"phone": 9}}}})


def test_collision_names_owner_viewers_and_typists() -> None:
    from standardiste.backends.base import Snapshot, TypingChanged
    from standardiste.console.core.store import Store

    store = Store()
    chat = conv("7", C, state=State.ACTIVE, assignee="bob")
    store.load(
        Snapshot(
            conversations=[chat, conv("8", E)],
            agents=[
                agent(id="me", viewing=chat.id),
                agent(id="bob", viewing=chat.id, typing_in=chat.id),
                agent(id="zoe", viewing=chat.id),
                agent(id="max", viewing="local:8"),
            ],
        )
    )
    store.apply([TypingChanged(chat.id, "zoe", True), TypingChanged(chat.id, "customer", True)], now=NOW)
    found = pr.collision(store, chat.id, "me", now=NOW + 1)
    assert found == pr.Collision(owner="bob", viewers=("bob", "zoe"), typing=("bob", "zoe"))
    assert claim_check(chat, "me") is ClaimCheck.ASK
    # The indicator lapses; an item of my own with nobody else on it is no collision.
    later = pr.collision(store, chat.id, "me", now=NOW + 60)
    assert later.typing == ("bob",)
    assert not pr.collision(store, "local:9", "me", now=NOW)


@pytest.mark.parametrize("seed", range(5))
def test_best_for_is_the_refusal_filter_ranked_and_limit_keeps_its_head(seed: int) -> None:
    rng = random.Random(seed)
    items = [
        conv(
            str(i),
            rng.choice(list(Channel)),
            language=rng.choice(["fr", "FR", "de", "en"]),
            assignee=rng.choice([None, None, "me", "bob"]),
            sla_due_at=NOW + rng.uniform(-200, 400),
            created_at=NOW - rng.uniform(0, 500),
        )
        for i in range(300)
    ]
    who = agent(languages=rng.choice([("fr", "en"), ("de",)]), seniority=rng.choice(list(Seniority)))
    in_hand = rng.choice([load(), load((P, State.CONNECTED, 1)), load((C, State.ACTIVE, 3))])
    reference = rank([c for c in items if refusal(who, c, in_hand, NOW, RULES) is None], NOW, RULES)
    assert best_for(who, items, in_hand, NOW, RULES) == reference
    assert best_for(who, items, in_hand, NOW, RULES, limit=7) == reference[:7]
