"""The wallboard's figures: pure functions of conversations, wrap-ups, CSAT and agents at a given `now`.

Nothing here reads a clock, a file or a widget, so every figure can be checked against the events that made
it. Definitions (each figure exists for the whole centre, per channel, per queue and per language):

- **answered**: a contact's first answer is `answered_at` (a call picked up, a chat accepted, a callback
  dialled) or, failing that, `first_response_at` (the first reply to an email, form or social message).
- **due**: when that first answer was due: the backend's `sla_due_at`, else the SLA policy's target for
  its channel and priority counted from `created_at`.
- **contacts waiting**: open contacts in a waiting state (nobody on them yet: ringing, queued, waiting
  chat, new email, callback requested), except those snoozed and callbacks scheduled for later. A contact
  waits since `created_at`, or since its last update when it was answered once and put back (transfer).
- **longest wait**: the largest of those waits, in seconds.
- **service level** (SL) = answered within target / (answered + abandoned after target + still unanswered
  past target). Contacts closed unanswered *before* their target (short abandons, misdials, spam) are left
  out: the centre had no fair chance at them. This is the common "answered / (answered + abandoned after
  threshold)" definition, plus the contacts that already missed the target while still waiting, so that a
  queue that stopped answering altogether shows a falling SL instead of none. Each contact is counted
  once, at the instant its outcome was sealed: its answer if within target, else the moment its target
  expired; a window (last 15 minutes, today) holds the contacts sealed inside it.
- **abandonment rate** = abandoned / (answered + abandoned), every abandon counted (short ones too),
  answers at their answer time and abandons at their `closed_at`.
- **average speed of answer** (ASA): mean of answer − created over the contacts answered in the window.
- **average handle time** (AHT): mean `handle_seconds` of the wrap-ups recorded in the window.
- **contacts handled**: contacts closed in the window after an answer (abandoned ones are not handled).
- **backlog by age**: open email, form and social contacts that are ours to act on (not pending on the
  customer, not snoozed), by the age of the customer's last message: <1 h, 1–4 h, 4–24 h, >24 h.
- **SLA breaches**: open contacts past their deadline now (the first answer, then any tagged promise such
  as a refund in 2 days), as `SlaPolicy.deadline` defines it.
- **arrivals**: contacts created in the last 30 minutes (the arrival rate for the Erlang C what-if).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from . import erlang
from .model import LIVE_CHANNELS, Agent, Channel, Conversation, CsatRecord, Presence, State, WrapUpRecord
from .presence import effective_presence
from .routing import Load, RoutingRules, capacity
from .sanitize import sanitize
from .sla import SlaPolicy

RECENT_SECONDS = 15 * 60.0
ARRIVAL_SECONDS = 30 * 60.0
WEEK_SECONDS = 7 * 86400.0
# Upper bounds of the backlog age buckets; the last bucket is everything older.
BACKLOG_EDGES: tuple[float, ...] = (3600.0, 4 * 3600.0, 24 * 3600.0)
BACKLOG_LABELS: tuple[str, ...] = ("<1h", "1-4h", "4-24h", ">24h")
INBOX_CHANNELS = frozenset({Channel.EMAIL, Channel.FORM, Channel.SOCIAL})
# A CSAT answer of 4 or 5 out of 5 is "satisfied", the usual CSAT % convention.
SATISFIED = 4
# How many extra agents the staffing what-if tries.
WHAT_IF_EXTRA = 3


def local_day_start(now: float, tz: tzinfo | None = None) -> float:
    """Midnight of `now`'s day, in `tz` (None: the machine's local time)."""
    moment = datetime.fromtimestamp(now, tz) if tz else datetime.fromtimestamp(now).astimezone()
    return moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def first_answer(conversation: Conversation) -> float | None:
    if conversation.answered_at is not None:
        return conversation.answered_at
    return conversation.first_response_at


def answer_due(conversation: Conversation, policy: SlaPolicy) -> float:
    if conversation.sla_due_at is not None:
        return conversation.sla_due_at
    return policy.due_at(conversation.channel, conversation.created_at, conversation.priority)


def closed_time(conversation: Conversation) -> float | None:
    if not conversation.is_closed:
        return None
    return conversation.closed_at if conversation.closed_at is not None else conversation.updated_at


def sealed(conversation: Conversation, policy: SlaPolicy, now: float) -> tuple[float, bool] | None:
    """When the contact's service-level outcome was sealed and whether it met the target; None if it
    does not count (closed unanswered before its target) or is not decided yet."""
    answer = first_answer(conversation)
    due = answer_due(conversation, policy)
    if answer is not None and answer <= due:
        return (answer, True)
    closed = closed_time(conversation)
    if answer is None and closed is not None and closed < due:
        return None
    if due <= now:
        return (due, False)
    return None


# ---------------------------------------------------------------------------------------------- results


@dataclass(slots=True)
class Period:
    """Counts over one window (last 15 minutes, or today). See the module docstring for definitions."""

    answered: int = 0
    abandoned: int = 0
    sl_met: int = 0
    sl_counted: int = 0
    handled: int = 0
    wait_total: float = 0.0
    handle_total: float = 0.0
    wrapups: int = 0

    @property
    def service_level(self) -> float | None:
        return self.sl_met / self.sl_counted if self.sl_counted else None

    @property
    def abandonment_rate(self) -> float | None:
        offered = self.answered + self.abandoned
        return self.abandoned / offered if offered else None

    @property
    def asa(self) -> float | None:
        return self.wait_total / self.answered if self.answered else None

    @property
    def aht(self) -> float | None:
        return self.handle_total / self.wrapups if self.wrapups else None


@dataclass(slots=True)
class Slice:
    """The figures of one group of contacts: the whole centre, a channel, a queue or a language."""

    kind: str  # "total", "channel", "queue", "language"
    key: str
    waiting: int = 0
    longest_wait: float = 0.0
    breaches: int = 0
    arrivals: int = 0
    backlog: list[int] = field(default_factory=lambda: [0] * len(BACKLOG_LABELS))
    recent: Period = field(default_factory=Period)
    today: Period = field(default_factory=Period)


@dataclass(frozen=True, slots=True)
class Activity:
    """One open contact an agent owns."""

    conversation_id: str
    channel: Channel
    state: State
    subject: str  # customer text: sanitise before display
    seconds: float  # since answered, else since created


@dataclass(frozen=True, slots=True)
class AgentStatus:
    """An agent as the board shows them. `presence` is the effective one (`presence.effective_presence`: an
    available agent on a live contact is busy, in its wrap-up is wrap-up); `declared` is what they set."""

    id: str
    name: str
    presence: Presence
    declared: Presence
    reason: str
    since: float | None  # seconds since they set `declared`; None: never known (never signed in here)
    activities: tuple[Activity, ...]
    # channel -> (contacts in hand, capacity); parked ones (pending on the customer, scheduled) do not
    # count, as in routing
    load: Mapping[Channel, tuple[int, int]]
    handled_today: int
    aht_today: float | None
    supervisor: bool

    @property
    def utilisation(self) -> float:
        """The fullest channel's share of capacity (1.0 = that channel is full)."""
        return max((n / cap for n, cap in self.load.values() if cap > 0), default=0.0)

    @property
    def in_wrap_up(self) -> bool:
        return self.presence is Presence.WRAP_UP or any(a.state is State.WRAP_UP for a in self.activities)

    @property
    def for_seconds(self) -> float | None:
        """How long in the state the board shows: on the live contact that makes them busy (a call, a chat,
        since answered), else in their declared presence. An email in hand is not a state: the seven hours it
        has been open are not "busy for 7h34"."""
        live = self.activities[0] if self.activities else None
        if self.presence in (Presence.BUSY, Presence.WRAP_UP) and live is not None and live.channel.is_live:
            return live.seconds
        return self.since

@dataclass(slots=True)
class Csat:
    """CSAT answers in one window: count, mean score (1–5) and share satisfied (4 or 5)."""

    count: int = 0
    total: int = 0
    satisfied: int = 0

    def add(self, score: int) -> None:
        self.count += 1
        self.total += score
        self.satisfied += score >= SATISFIED

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.count if self.count else None


@dataclass(slots=True)
class CsatPair:
    today: Csat = field(default_factory=Csat)
    week: Csat = field(default_factory=Csat)


@dataclass(frozen=True, slots=True)
class Staffing:
    """Erlang C what-if for one live channel, from the last 30 minutes' arrivals and today's AHT."""

    channel: Channel
    arrivals_per_hour: float
    aht: float | None
    target: float
    servers: int  # agents (phone) or chat slots (chat) in the routing pool with the skill
    estimates: tuple[erlang.Estimate, ...]  # servers + 0, +1, ... +WHAT_IF_EXTRA
    needed: int | None  # servers for `goal`; None without AHT or beyond reach
    goal: float


@dataclass(slots=True)
class Figures:
    now: float
    day_start: float
    total: Slice
    channels: dict[Channel, Slice]
    queues: dict[str, Slice]
    languages: dict[str, Slice]
    agents: list[AgentStatus]
    presence: dict[Presence, int]
    csat: CsatPair
    csat_channels: dict[Channel, CsatPair]
    csat_agents: dict[str, CsatPair]
    comments: list[CsatRecord]  # the week's comments, worst score first, then newest
    staffing: dict[Channel, Staffing]
    waiting: list[Conversation]  # every waiting contact, longest wait first


# ---------------------------------------------------------------------------------------------- compute


def compute(
    conversations: Iterable[Conversation],
    agents: Iterable[Agent],
    wrapups: Iterable[WrapUpRecord],
    csat: Iterable[CsatRecord],
    *,
    now: float,
    policy: SlaPolicy | None = None,
    day_start: float | None = None,
    goal: float = 0.8,
    routing: RoutingRules | None = None,
) -> Figures:
    """Every figure of the wallboard at `now`. `goal` is the service level the staffing estimate aims at."""
    policy = policy or SlaPolicy()
    rules = routing or RoutingRules()
    start = local_day_start(now) if day_start is None else day_start
    recent_start = now - RECENT_SECONDS
    arrival_start = now - ARRIVAL_SECONDS
    # A contact closed before every window opened cannot move any figure.
    horizon = min(start, recent_start, arrival_start)

    # Contacts are first summed per (channel, queue, language) cell, then cells are rolled up into the
    # slices: one accumulator update per contact instead of four keeps 100k contacts cheap.
    cells: dict[tuple[Channel, str, str], Slice] = {}
    cell_of: dict[str, Slice] = {}
    owned: dict[str, list[Conversation]] = {}
    waiting: list[tuple[float, Conversation]] = []

    for c in conversations:
        closed = closed_time(c)
        if closed is not None and closed < horizon:
            continue
        key = (c.channel, c.queue, c.language)
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = Slice("cell", "")
        cell_of[c.id] = cell
        answer = first_answer(c)
        if closed is None:
            if c.assignee:
                owned.setdefault(c.assignee, []).append(c)
            wait = _waiting_for(c, answer, now)
            if wait is not None:
                waiting.append((wait, c))
                cell.waiting += 1
                if wait > cell.longest_wait:
                    cell.longest_wait = wait
            if _breached(c, answer, policy, now):
                cell.breaches += 1
            bucket = _backlog_bucket(c, now)
            if bucket is not None:
                cell.backlog[bucket] += 1
        if arrival_start <= c.created_at <= now:
            cell.arrivals += 1
        if answer is not None and answer <= now:
            waited = max(0.0, answer - c.created_at)
            if answer >= start:
                cell.today.answered += 1
                cell.today.wait_total += waited
            if answer >= recent_start:
                cell.recent.answered += 1
                cell.recent.wait_total += waited
        if closed is not None and closed <= now:
            abandoned = c.state is State.ABANDONED
            handled = answer is not None and not abandoned
            for period, since in ((cell.today, start), (cell.recent, recent_start)):
                if closed >= since:
                    period.abandoned += abandoned
                    period.handled += handled
        outcome = sealed(c, policy, now)
        if outcome is not None:
            at, met = outcome
            for period, since in ((cell.today, start), (cell.recent, recent_start)):
                if since <= at <= now:
                    period.sl_counted += 1
                    period.sl_met += met

    total = Slice("total", "all")
    agent_handled: dict[str, Period] = {}
    for record in wrapups:
        if not (record.at <= now and record.at >= min(start, recent_start)):
            continue
        target = cell_of.get(record.conversation_id, total)
        for period, since in ((target.today, start), (target.recent, recent_start)):
            if record.at >= since:
                period.wrapups += 1
                period.handle_total += record.handle_seconds
        if record.at >= start:
            agent_period = agent_handled.setdefault(record.agent_id, Period())
            agent_period.wrapups += 1
            agent_period.handle_total += record.handle_seconds

    channels: dict[Channel, Slice] = {}
    queues: dict[str, Slice] = {}
    languages: dict[str, Slice] = {}
    for (channel, queue, language), cell in cells.items():
        _merge(total, cell)
        _merge(channels.get(channel) or channels.setdefault(channel, Slice("channel", channel.value)), cell)
        _merge(queues.get(queue) or queues.setdefault(queue, Slice("queue", queue)), cell)
        _merge(languages.get(language) or languages.setdefault(language, Slice("language", language)), cell)

    agent_list = list(agents)
    statuses = [
        _agent_status(a, owned.get(a.id, []), agent_handled.get(a.id), now, rules) for a in agent_list
    ]
    statuses.sort(key=_agent_order)
    presence_counts = {p: 0 for p in Presence}
    for status in statuses:
        presence_counts[status.presence] += 1

    csat_total, csat_channels, csat_agents, comments = _csat(csat, now, start)
    waiting.sort(key=lambda pair: pair[0], reverse=True)
    return Figures(
        now=now,
        day_start=start,
        total=total,
        channels=dict(sorted(channels.items(), key=lambda item: _CHANNEL_ORDER[item[0]])),
        queues=dict(sorted(queues.items())),
        languages=dict(sorted(languages.items())),
        agents=statuses,
        presence=presence_counts,
        csat=csat_total,
        csat_channels=csat_channels,
        csat_agents=csat_agents,
        comments=comments,
        staffing=_staffing(channels, agent_list, policy, goal),
        waiting=[c for _, c in waiting],
    )


def _merge(into: Slice, cell: Slice) -> None:
    into.waiting += cell.waiting
    into.longest_wait = max(into.longest_wait, cell.longest_wait)
    into.breaches += cell.breaches
    into.arrivals += cell.arrivals
    for index, n in enumerate(cell.backlog):
        into.backlog[index] += n
    for mine, theirs in ((into.recent, cell.recent), (into.today, cell.today)):
        mine.answered += theirs.answered
        mine.abandoned += theirs.abandoned
        mine.sl_met += theirs.sl_met
        mine.sl_counted += theirs.sl_counted
        mine.handled += theirs.handled
        mine.wait_total += theirs.wait_total
        mine.handle_total += theirs.handle_total
        mine.wrapups += theirs.wrapups


def _waiting_for(c: Conversation, answer: float | None, now: float) -> float | None:
    if c.is_closed or not c.is_waiting:
        return None
    if c.snoozed_until is not None and c.snoozed_until > now:
        return None
    if c.state is State.SCHEDULED and c.callback_at is not None and c.callback_at > now:
        return None
    since = c.created_at if answer is None else c.updated_at
    return max(0.0, now - since)


def _breached(c: Conversation, answer: float | None, policy: SlaPolicy, now: float) -> bool:
    deadline = policy.deadline(c)
    if deadline is None and answer is None:
        deadline = answer_due(c, policy)
    return deadline is not None and now >= deadline


def _backlog_bucket(c: Conversation, now: float) -> int | None:
    if c.channel not in INBOX_CHANNELS or c.state is State.PENDING:
        return None
    if c.snoozed_until is not None and c.snoozed_until > now:
        return None
    age = now - (c.last_customer_at if c.last_customer_at is not None else c.created_at)
    for index, edge in enumerate(BACKLOG_EDGES):
        if age < edge:
            return index
    return len(BACKLOG_EDGES)


_PRESENCE_ORDER = {
    Presence.BUSY: 0,
    Presence.WRAP_UP: 1,
    Presence.AVAILABLE: 2,
    Presence.AWAY: 3,
    Presence.OFFLINE: 4,
}
_CHANNEL_ORDER = {channel: index for index, channel in enumerate(Channel)}


def _agent_order(status: AgentStatus) -> tuple[int, str]:
    return (_PRESENCE_ORDER[status.presence], status.name.lower())


def _agent_status(
    agent: Agent, open_items: list[Conversation], handled: Period | None, now: float, rules: RoutingRules
) -> AgentStatus:
    activities = []
    in_hand = Load.of(open_items, agent.id)
    for c in open_items:
        started = first_answer(c) or c.created_at
        activities.append(Activity(c.id, c.channel, c.state, c.subject, max(0.0, now - started)))
    # The live contact the agent is talking in comes first; then the oldest work.
    activities.sort(key=lambda a: (a.channel not in LIVE_CHANNELS, _CHANNEL_ORDER[a.channel], -a.seconds))
    channels = {c.channel for c in open_items} | {
        ch for ch, level in agent.skills.channels.items() if level > 0
    }
    load = {
        ch: (in_hand.in_hand(ch, rules), capacity(agent, ch))
        for ch in sorted(channels, key=_CHANNEL_ORDER.__getitem__)
    }
    return AgentStatus(
        id=agent.id,
        name=agent.name,
        presence=effective_presence(agent, in_hand, rules),
        declared=agent.presence,
        reason=agent.presence_reason,
        since=max(0.0, now - agent.presence_since) if agent.presence_since else None,
        activities=tuple(activities),
        load=load,
        handled_today=handled.wrapups if handled else 0,
        aht_today=handled.aht if handled else None,
        supervisor=agent.supervisor,
    )


def _csat(
    records: Iterable[CsatRecord], now: float, day_start: float
) -> tuple[CsatPair, dict[Channel, CsatPair], dict[str, CsatPair], list[CsatRecord]]:
    week_start = now - WEEK_SECONDS
    total = CsatPair()
    channels: dict[Channel, CsatPair] = {}
    agents: dict[str, CsatPair] = {}
    comments: list[CsatRecord] = []
    for record in records:
        if not week_start <= record.at <= now:
            continue
        pairs = [total, channels.setdefault(record.channel, CsatPair())]
        if record.agent_id:
            pairs.append(agents.setdefault(record.agent_id, CsatPair()))
        for pair in pairs:
            pair.week.add(record.score)
            if record.at >= day_start:
                pair.today.add(record.score)
        if record.comment.strip():
            comments.append(record)
    comments.sort(key=lambda r: (r.score, -r.at))
    ordered = dict(sorted(channels.items(), key=lambda item: _CHANNEL_ORDER[item[0]]))
    return total, ordered, dict(sorted(agents.items())), comments


def _staffing(
    channels: Mapping[Channel, Slice], agents: list[Agent], policy: SlaPolicy, goal: float
) -> dict[Channel, Staffing]:
    """Erlang C for phone and chat. Servers are the routing pool: agents who declared themselves available
    (on a contact or not) or are in wrap-up, with the channel skill; a "do not disturb" busy, away or
    offline agent takes nothing new. For chat each agent brings its chat capacity (concurrent chats), the
    usual way to fit a multi-session channel into M/M/N. A multi-skilled agent counts on every channel."""
    result: dict[Channel, Staffing] = {}
    logged_in = (Presence.AVAILABLE, Presence.WRAP_UP)
    for channel in (Channel.PHONE, Channel.CHAT):
        s = channels.get(channel)
        if s is None:
            continue
        servers = sum(
            (capacity(a, channel) if channel is Channel.CHAT else 1)
            for a in agents
            if a.presence in logged_in and a.skills.channels.get(channel, 0) > 0
        )
        rate = s.arrivals / ARRIVAL_SECONDS
        aht = s.today.aht
        target = policy.target(channel)
        estimates: tuple[erlang.Estimate, ...] = ()
        needed = None
        if aht is not None and aht > 0:
            estimates = tuple(
                erlang.estimate(servers + k, rate, aht, target) for k in range(WHAT_IF_EXTRA + 1)
            )
            needed = erlang.agents_needed(rate, aht, target, goal)
        result[channel] = Staffing(channel, rate * 3600.0, aht, target, servers, estimates, needed, goal)
    return result


def finite(value: float | None) -> float | None:
    """JSON has no infinity: an overloaded queue's ASA becomes null."""
    return None if value is None or math.isinf(value) or math.isnan(value) else value


# ---------------------------------------------------------------------------------------------- JSON


def _period_json(period: Period) -> dict[str, Any]:
    return {
        "answered": period.answered,
        "abandoned": period.abandoned,
        "handled": period.handled,
        "service_level": period.service_level,
        "service_level_counted": period.sl_counted,
        "abandonment_rate": period.abandonment_rate,
        "asa_seconds": period.asa,
        "aht_seconds": period.aht,
    }


def _slice_json(s: Slice) -> dict[str, Any]:
    return {
        "waiting": s.waiting,
        "longest_wait_seconds": s.longest_wait,
        "sla_breaches": s.breaches,
        "arrivals_30m": s.arrivals,
        "backlog": dict(zip(BACKLOG_LABELS, s.backlog, strict=True)),
        "last_15m": _period_json(s.recent),
        "today": _period_json(s.today),
    }


def _csat_json(pair: CsatPair) -> dict[str, Any]:
    return {
        window: {"count": c.count, "mean": c.mean, "satisfied": c.satisfied_share}
        for window, c in (("today", pair.today), ("7d", pair.week))
    }


def as_json(figures: Figures, *, comments: int = 20, working_on: int = 5) -> dict[str, Any]:
    """Plain data for other tools. Customer text (CSAT comments) is sanitised: it may reach a terminal."""
    return {
        "now": figures.now,
        "day_start": figures.day_start,
        "total": _slice_json(figures.total),
        "channels": {ch.value: _slice_json(s) for ch, s in figures.channels.items()},
        "queues": {key: _slice_json(s) for key, s in figures.queues.items()},
        "languages": {key: _slice_json(s) for key, s in figures.languages.items()},
        "presence": {p.value: n for p, n in figures.presence.items()},
        "agents": [
            {
                "id": a.id,
                "name": sanitize(a.name, single_line=True),
                "presence": a.presence.value,
                "declared": a.declared.value,
                "reason": sanitize(a.reason, single_line=True),
                "since_seconds": a.since,
                "for_seconds": a.for_seconds,  # what the board's "For" column shows
                "handled_today": a.handled_today,
                "aht_today_seconds": a.aht_today,
                "load": {ch.value: {"open": n, "capacity": cap} for ch, (n, cap) in a.load.items()},
                "open_items": len(a.activities),
                # the live contact first, then the oldest work; the full list can run to hundreds of mails
                "working_on": [
                    {
                        "conversation": w.conversation_id,
                        "channel": w.channel.value,
                        "state": w.state.value,
                        "seconds": w.seconds,
                    }
                    for w in a.activities[:working_on]
                ],
            }
            for a in figures.agents
        ],
        "csat": {
            "all": _csat_json(figures.csat),
            "channels": {ch.value: _csat_json(p) for ch, p in figures.csat_channels.items()},
            "agents": {agent: _csat_json(p) for agent, p in figures.csat_agents.items()},
            "comments": [
                {
                    "conversation": r.conversation_id,
                    "channel": r.channel.value,
                    "score": r.score,
                    "agent": r.agent_id,
                    "at": r.at,
                    "comment": sanitize(r.comment, single_line=True),
                }
                for r in figures.comments[:comments]
            ],
        },
        "staffing": {
            ch.value: {
                "arrivals_per_hour": st.arrivals_per_hour,
                "aht_seconds": st.aht,
                "target_seconds": st.target,
                "servers": st.servers,
                "needed_for_goal": st.needed,
                "goal": st.goal,
                "what_if": [
                    {
                        "servers": e.agents,
                        "load_erlangs": e.load,
                        "wait_probability": e.wait_probability,
                        "service_level": e.service_level,
                        "asa_seconds": finite(e.asa),
                        "occupancy": e.occupancy,
                    }
                    for e in st.estimates
                ],
            }
            for ch, st in figures.staffing.items()
        },
    }
