"""The simulated team: twelve agents, a seeded stream of contacts, and the work each agent does with one.

Used three ways:
- `python team_agent.py agent WORKSPACE AGENT_ID PARAMS_JSON LOG STOP_FILE`: one agent as a real process
  (tests/system/test_team.py starts twelve on one workspace file). It prints `ready`, waits for `go` on stdin,
  then loops until STOP_FILE exists: advance the work in hand, apply the idle rule, take `next_best`
  while it returns something, sleep one poll. Every pick is logged with the wall-clock window it ran in.
- `feed(...)`: the contacts, from a seeded `random.Random` (the test process creates them on time).
- `python team_agent.py push ...` (same arguments): one agent in push mode, accepting or declining offers.
- `python team_agent.py peak-hour [SEED]`: a discrete-event run of the same routing and the same work on
  a virtual clock, for one Christmas-peak hour at real handling times; prints the service level per channel.
"""

from __future__ import annotations

import heapq
import json
import random
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standardiste.backends.base import SetStatus
from standardiste.backends.local.claims import (
    OfferGone,
    accept_offer,
    decline_offer,
    load_of,
    next_best,
    offer_next,
)
from standardiste.backends.local.commands import perform
from standardiste.backends.local.simulator.colleagues import Timing, Work, advance, start_work
from standardiste.backends.local.workspace import Workspace
from standardiste.console.core.agent_profile import AgentProfile, team_from_config
from standardiste.console.core.model import Channel, Conversation, Customer, Presence, Priority, State
from standardiste.console.core.presence import PresenceRules, idle_change
from standardiste.console.core.routing import RoutingRules, is_breached
from standardiste.console.core.sla import SlaPolicy

# Mixed skills, languages and seniority. a12 is a new hire whose manager already ticked phone and chat:
# the profile keeps email only (the seeds: new hires handle email, experienced agents take live channels).
TEAM_TOML = """
[team.a01]
seniority = "senior"
languages = ["fr", "en"]
channels = { phone = 3, chat = 3, callback = 2, email = 2 }
[team.a02]
seniority = "senior"
languages = ["de", "en"]
channels = { phone = 3, chat = 2, callback = 2, email = 2, social = 2 }
[team.a03]
languages = ["fr", "es"]
channels = { phone = 2, chat = 2, email = 2 }
[team.a04]
languages = ["it", "fr", "en"]
channels = { phone = 2, chat = 3, email = 1, form = 1 }
[team.a05]
languages = ["nl", "de", "en"]
channels = { chat = 3, email = 2, form = 2, social = 2 }
[team.a06]
languages = ["es", "en"]
channels = { phone = 2, callback = 2, email = 1 }
[team.a07]
seniority = "senior"
languages = ["de", "fr", "en", "es", "it", "nl"]
channels = { phone = 3, chat = 3, callback = 3, email = 3, form = 3, social = 3 }
[team.a08]
languages = ["en", "de"]
channels = { phone = 2, chat = 2 }
capacity = { chat = 2 }
[team.a09]
seniority = "new_hire"
languages = ["fr", "en"]
[team.a10]
seniority = "new_hire"
languages = ["de"]
[team.a11]
seniority = "new_hire"
languages = ["es", "it"]
[team.a12]
seniority = "new_hire"
languages = ["nl", "en"]
channels = { phone = 1, chat = 1, email = 1 }
"""

LANGUAGES: dict[str, float] = {"fr": 0.35, "de": 0.20, "en": 0.15, "es": 0.10, "it": 0.10, "nl": 0.10}
# The seeds: 70% of contacts on live channels at Christmas, the rest by mail-like channels.
CHANNEL_SHARES: dict[Channel, float] = {
    Channel.PHONE: 0.40,
    Channel.CHAT: 0.30,
    Channel.EMAIL: 0.22,
    Channel.CALLBACK: 0.03,
    Channel.FORM: 0.03,
    Channel.SOCIAL: 0.02,
}
PRIORITIES: dict[Priority, float] = {
    Priority.LOW: 0.1,
    Priority.NORMAL: 0.75,
    Priority.HIGH: 0.1,
    Priority.URGENT: 0.05,
}


def team() -> dict[str, AgentProfile]:
    return team_from_config(tomllib.loads(TEAM_TOML))


def seed_team(ws: Workspace, presence: Presence = Presence.OFFLINE) -> dict[str, AgentProfile]:
    profiles = team()
    for agent_id, profile in profiles.items():
        ws.upsert_agent(profile.to_agent(agent_id, presence=presence))
        ws.set_presence(agent_id, presence)
    return profiles


# Timing, Work and one agent's handling of an item live in backends/local/simulator/colleagues.py (the demo's colleagues).
# Sped-up time for the process test: a call lasts about a second, the SLAs are seconds.
FAST = Timing(
    talk=(0.8, 1.6),
    wrap=0.2,
    chat=(1.0, 2.5),
    callback=(0.6, 1.2),
    email=(0.15, 0.4),
    targets={"phone": 1.5, "chat": 2.0, "callback": 5.0, "email": 8.0, "form": 10.0, "social": 4.0},
)
# A real Christmas hour: calls of 2.5-5.5 min plus 30 s of wrap-up, chats of 4-9 min, mails of 2-6 min;
# the SLA targets are the product's defaults (sla.py).
PEAK = Timing(
    talk=(150.0, 330.0),
    wrap=30.0,
    chat=(240.0, 540.0),
    callback=(120.0, 300.0),
    email=(120.0, 360.0),
    targets={},
)


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # seconds from the start of the run
    channel: Channel
    language: str
    priority: Priority
    tags: tuple[str, ...]
    n: int


def arrivals(
    seed: int, duration: float, per_second: float, bursts: tuple[tuple[float, int], ...] = ()
) -> list[Arrival]:
    """A Poisson stream of contacts over `duration`, channel and language drawn from the shares.

    `bursts`: (at, how many) contacts arriving at once on top of the stream (a newsletter goes out, a
    carrier announces a strike): that is when several items wait together and their order matters.
    """
    rng = random.Random(seed)
    times: list[float] = [at for at, n in bursts for _ in range(n)]
    at = rng.expovariate(per_second)
    while at < duration:
        times.append(at)
        at += rng.expovariate(per_second)
    found: list[Arrival] = []
    for at in sorted(times):
        channel = rng.choices(list(CHANNEL_SHARES), weights=list(CHANNEL_SHARES.values()))[0]
        language = rng.choices(list(LANGUAGES), weights=list(LANGUAGES.values()))[0]
        priority = rng.choices(list(PRIORITIES), weights=list(PRIORITIES.values()))[0]
        tags = ("refund",) if rng.random() < 0.1 else ()
        found.append(Arrival(at, channel, language, priority, tags, len(found)))
    return found


def feed(ws: Workspace, arrival: Arrival, created_at: float, policy: SlaPolicy) -> int:
    customer = Customer(f"cust-{arrival.n}", f"Client {arrival.n}", language=arrival.language)
    return ws.create_conversation(
        channel=arrival.channel,
        customer=customer,
        subject=f"{arrival.channel.value} {arrival.n}",
        created_at=created_at,
        priority=arrival.priority,
        tags=arrival.tags,
        sla_due_at=policy.due_at(arrival.channel, created_at, arrival.priority),
        callback_number="+33 1 99 00 00 00" if arrival.channel is Channel.CALLBACK else "",
    )


# ---------------------------------------------------------------------------------------------- the work


# ---------------------------------------------------------------------------------------------- the agent process


@dataclass(slots=True)
class AgentParams:
    timing: dict[str, Any]
    routing: dict[str, Any]
    presence: dict[str, Any]
    poll: float = 0.1
    seed: int = 0
    # A break (AWAY "break") from..until, seconds after `go`; None: no break.
    break_at: float | None = None
    break_until: float | None = None
    # From then on the agent stops touching the keyboard once their work is done (the idle rule applies).
    walk_away_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def timing_from(data: dict[str, Any]) -> Timing:
    return Timing(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class Log:
    def __init__(self, path: Path) -> None:
        self.file = path.open("a", encoding="utf-8", buffering=1)

    def write(self, event: str, **fields: Any) -> None:
        self.file.write(json.dumps({"ev": event, **fields}) + "\n")


def run_agent(path: str, agent_id: str, params: AgentParams, log: Log, stop: Path) -> None:
    ws = Workspace(path)
    rules = RoutingRules.from_config(params.routing)
    presence_rules = PresenceRules.from_config(params.presence)
    timing = timing_from(params.timing)
    rng = random.Random(f"{params.seed}-{agent_id}")
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    started = time.time()
    ws.set_presence(agent_id, Presence.AVAILABLE)
    log.write("presence", t=time.time(), presence="available", reason="")
    in_hand: list[Work] = []
    last_input = time.time()
    on_break = False
    while not stop.exists():
        now = time.time()
        elapsed = now - started
        for work in list(in_hand):
            if advance(ws, agent_id, work, now):
                last_input = now  # handling an item is typing
                if work.steps and work.steps[0][1].startswith("wrap_up"):
                    # In wrap-up from here to "done": routing keeps calls away meanwhile (wrap_up_blocks).
                    log.write("wrap_up", t=now, id=work.conversation_id)
            if work.finished:
                in_hand.remove(work)
                log.write("done", t=time.time(), id=work.conversation_id)
        # Before a break the agent stops taking work, finishes what is in hand, then goes away.
        wants_break = params.break_at is not None and params.break_at <= elapsed < (params.break_until or 0.0)
        if wants_break and not on_break and not in_hand:
            ws.set_presence(agent_id, Presence.AWAY, "break")
            log.write("presence", t=time.time(), presence="away", reason="break")
            on_break, last_input = True, time.time()
        elif on_break and not wants_break:
            ws.set_presence(agent_id, Presence.AVAILABLE)
            log.write("presence", t=time.time(), presence="available", reason="")
            on_break, last_input = False, time.time()
        walked_away = params.walk_away_at is not None and elapsed >= params.walk_away_at
        agent = ws.agent(agent_id)
        assert agent is not None
        change = idle_change(agent, load_of(ws, agent_id), last_input, time.time(), presence_rules, rules)
        if change is not None:
            ws.set_presence(agent_id, change.presence, change.reason)
            log.write(
                "presence",
                t=time.time(),
                presence=change.presence.value,
                reason=change.reason,
                last_input=last_input,
            )
        # On break the agent still presses `n` now and then: routing must give them nothing.
        if not walked_away and (on_break or not wants_break):
            _pick(ws, agent_id, rules, timing, rng, in_hand, log)
            last_input = time.time()  # pressing `n` is input
        time.sleep(params.poll)
    ws.close()


def _pick(
    ws: Workspace,
    agent_id: str,
    rules: RoutingRules,
    timing: Timing,
    rng: random.Random,
    in_hand: list[Work],
    log: Log,
) -> None:
    """Take items while `next_best` gives some (the `n` key): each call is logged with its time window."""
    while True:
        t0 = time.time()
        taken = next_best(ws, agent_id, now=t0, rules=rules)
        t1 = time.time()
        if taken is None:
            log.write("pick", t0=t0, t1=t1, got=None)
            return
        log.write(
            "pick", t0=t0, t1=t1, got=taken.id, channel=taken.channel.value, language=taken.language,
            breached=is_breached(taken, t0),
        )  # fmt: skip
        in_hand.append(start_work(ws, agent_id, taken, rng, timing))


def run_push_agent(path: str, agent_id: str, params: AgentParams, log: Log, stop: Path) -> None:
    """Push mode: poll `offer_next`; accept, decline, let expire, or accept too late, as the dice say."""
    ws = Workspace(path)
    rules = RoutingRules.from_config(params.routing)
    rng = random.Random(f"{params.seed}-{agent_id}")
    odds = params.extra
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    ws.set_presence(agent_id, Presence.AVAILABLE)
    seen: set[tuple[str, float]] = set()
    while not stop.exists():
        offer = offer_next(ws, agent_id, rules=rules)
        if offer is not None and (offer.conversation_id, offer.offered_at) not in seen:
            seen.add((offer.conversation_id, offer.offered_at))
            cid = offer.conversation_id
            log.write("offer", id=cid, offered_at=offer.offered_at, expires_at=offer.expires_at)
            dice = rng.random()
            if dice < odds["accept"] + odds["late"]:
                if dice >= odds["accept"]:
                    time.sleep(max(0.0, offer.expires_at - time.time()) + 0.02)
                try:
                    taken = accept_offer(ws, agent_id, cid)
                except OfferGone:
                    log.write("gone", id=cid, late=dice >= odds["accept"], t=time.time())
                else:
                    log.write("accept", id=cid, at=taken.updated_at, late=dice >= odds["accept"])
                    perform(ws, SetStatus(conversation_id=cid, agent_id=agent_id, state=State.SOLVED))
            elif dice < odds["accept"] + odds["late"] + odds["decline"]:
                log.write("decline", id=cid, at=decline_offer(ws, agent_id, cid))
            else:
                log.write("ignore", id=cid)
        time.sleep(params.poll)
    ws.close()


# ---------------------------------------------------------------------------------------------- peak hour


class VirtualClock:
    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t


def peak_hour(
    path: Path,
    seed: int = 2024,
    per_hour: float = 150.0,
    hours: float = 1.0,
    rules: RoutingRules | None = None,
) -> dict[str, Any]:
    """Discrete events on a virtual clock: the same `next_best`, commands and SQLite file, no waiting.

    Arrivals for `hours`; then no new contact and the queue drains. An arriving item is tried on the agents
    in order of longest idle (what an ACD does); an agent who finishes an item pulls the next best.
    """
    clock = VirtualClock(1_700_000_000.0)
    start = clock.t
    ws = Workspace(path, clock=clock)
    profiles = seed_team(ws, Presence.AVAILABLE)
    rules, policy, rng = rules or RoutingRules(), PEAK.policy(), random.Random(seed)
    events: list[tuple[float, int, str, Any]] = []
    for arrival in arrivals(seed, hours * 3600.0, per_hour / 3600.0):
        heapq.heappush(events, (start + arrival.at, arrival.n, "arrival", arrival))
    sequence = len(events)
    idle_since = dict.fromkeys(profiles, start)
    in_hand: dict[str, list[Work]] = {a: [] for a in profiles}

    def pull(agent_id: str) -> None:
        nonlocal sequence
        while (taken := next_best(ws, agent_id, now=clock.t, rules=rules)) is not None:
            work = start_work(ws, agent_id, taken, rng, PEAK)
            in_hand[agent_id].append(work)
            sequence += 1
            heapq.heappush(events, (work.due, sequence, "step", (agent_id, work)))

    while events:
        clock.t, _, kind, data = heapq.heappop(events)
        if kind == "arrival":
            feed(ws, data, clock.t, policy)
            for agent_id in sorted(profiles, key=lambda a: idle_since[a]):
                pull(agent_id)
            continue
        agent_id, work = data
        advance(ws, agent_id, work, clock.t)
        if work.finished:
            in_hand[agent_id].remove(work)
            if not in_hand[agent_id]:
                idle_since[agent_id] = clock.t
            pull(agent_id)
        else:
            sequence += 1
            heapq.heappush(events, (work.due, sequence, "step", (agent_id, work)))
    figures = service_levels(ws, policy)
    figures["_run"] = {"seed": seed, "per_hour": per_hour, "hours": hours, "agents": len(profiles)}
    ws.close()
    return figures


def answered_at(conversation: Conversation) -> float | None:
    """The first answer: picked up (call, chat, callback dialled) or first reply (mail-like channels)."""
    return conversation.answered_at or conversation.first_response_at


def service_levels(ws: Workspace, policy: SlaPolicy) -> dict[str, Any]:
    """Per channel: contacts, share answered by their SLA deadline, mean and worst first-answer wait."""
    rows = ws.db.execute(
        "SELECT id FROM conversations WHERE linked_id IS NULL OR channel != 'phone'"
    ).fetchall()
    conversations = [ws.require(r[0]) for r in rows]
    figures: dict[str, Any] = {}
    for channel in Channel:
        mine = [c for c in conversations if c.channel is channel and "callback" not in c.tags]
        if not mine:
            continue
        waits = [(answered_at(c) or float("inf")) - c.created_at for c in mine]
        within = sum(
            1
            for c in mine
            if answered_at(c) is not None and c.sla_due_at is not None and answered_at(c) <= c.sla_due_at
        )  # type: ignore[operator]
        waits.sort()
        figures[channel.value] = {
            "contacts": len(mine),
            "service_level": within / len(mine),
            "target_s": policy.target(channel),
            "mean_wait_s": sum(waits) / len(waits),
            "p90_wait_s": waits[int(0.9 * (len(waits) - 1))],
            "max_wait_s": waits[-1],
        }
    return figures


def _main(argv: list[str]) -> int:
    if argv[:1] == ["agent"]:
        path, agent_id, params_path, log_path, stop = argv[1:6]
        params = AgentParams(**json.loads(Path(params_path).read_text(encoding="utf-8")))
        run_agent(path, agent_id, params, Log(Path(log_path)), Path(stop))
        return 0
    if argv[:1] == ["push"]:
        path, agent_id, params_path, log_path, stop = argv[1:6]
        params = AgentParams(**json.loads(Path(params_path).read_text(encoding="utf-8")))
        run_push_agent(path, agent_id, params, Log(Path(log_path)), Path(stop))
        return 0
    if argv[:1] == ["peak-hour"]:
        seed = int(argv[1]) if len(argv) > 1 else 2024
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(peak_hour(Path(tmp) / "peak.db", seed), indent=2))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
