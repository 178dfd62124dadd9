"""Routing on the local workspace file: take the next best item, and push-mode offers, across processes.

The rules are `routing.py`'s; this module finds the candidates with SQL and takes them safely:
- `next_best` reads candidates without a lock, then claims the best one with one conditional UPDATE (still
  waiting, still unowned, not offered to someone else). If another console got there first the UPDATE
  changes nothing and the next candidate is tried: a lost race costs a retry, never a double owner.
- Offers (push mode) are rows of the `offers` table, whose key is the conversation: an item is offered to
  one agent at a time, by construction. An offer is made, accepted, declined or expired inside one
  `BEGIN IMMEDIATE` transaction. A declined or expired offer is remembered in `routing_refusals` (created
  here) so that the item goes to the next agent instead of coming straight back.

Blocking, like `Workspace`: call it from a worker thread in the app.
"""

from __future__ import annotations

import weakref

from ...console.core.model import WAITING_STATES, Agent, Channel, Conversation, State
from ...console.core.routing import (
    FAR_FUTURE,
    Load,
    Refusal,
    RoutingRules,
    channel_refusal,
    rank,
    refusal,
    rises_when_breached,
    takeable_channels,
)
from ..optional import Offer, OfferGone
from .rows import CONVERSATION_COLUMNS, conversation_from_row, local_id, qualify
from .workspace import Workspace

_WAITING = tuple(sorted(s.value for s in WAITING_STATES))
_IN_WAITING = f"({', '.join('?' * len(_WAITING))})"
# Lost races in a row before a pick gives up for this round (the next poll tries again).
MAX_ROUNDS = 4

_REFUSALS_SQL = (
    "CREATE TABLE IF NOT EXISTS routing_refusals ("
    " conversation_id INTEGER NOT NULL, agent_id TEXT NOT NULL, at REAL NOT NULL, reason TEXT NOT NULL,"
    " PRIMARY KEY (conversation_id, agent_id))"
)
_ready: weakref.WeakSet[Workspace] = weakref.WeakSet()


def _ensure_tables(ws: Workspace) -> None:
    if ws not in _ready:
        with ws.transaction():
            ws.db.execute(_REFUSALS_SQL)
        _ready.add(ws)


def _agent(ws: Workspace, agent_id: str) -> Agent:
    agent = ws.agent(agent_id)
    if agent is None:
        raise KeyError(f"no agent {agent_id}")
    return agent


def load_of(ws: Workspace, agent_id: str) -> Load:
    rows = ws.db.execute(
        "SELECT channel, state, COUNT(*) FROM conversations WHERE assignee = ? AND closed_at IS NULL "
        "GROUP BY channel, state",
        (agent_id,),
    )
    return Load({(Channel(c), State(s)): n for c, s, n in rows})


def _candidates(
    ws: Workspace,
    agent: Agent,
    load: Load,
    now: float,
    rules: RoutingRules,
    *,
    for_offer: bool = False,
) -> list[Conversation]:
    """Eligible waiting items for `agent`, best first: the top `scan_limit` of each channel they may take."""
    languages = sorted({lang.lower() for lang in agent.skills.languages})
    if not languages:
        return []
    found: list[Conversation] = []
    for channel in sorted(takeable_channels(agent, load, rules)):
        # The same order as `routing.order_key` within one channel: breached first when they rise.
        rises = rises_when_breached(channel, rules)
        breached_first = f"(COALESCE(sla_due_at, {FAR_FUTURE}) <= :now) DESC, " if rises else ""
        # Offered to someone else: not mine to take. In push mode, offered to anyone, or declined by me.
        offered = "agent_id != :me" if not for_offer else "TRUE"
        refused = (
            " AND id NOT IN (SELECT conversation_id FROM routing_refusals WHERE agent_id = :me AND at > :cool)"
            if for_offer
            else ""
        )
        sql = (
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE closed_at IS NULL AND channel = :channel "
            f"AND state IN ({', '.join(f':w{n}' for n in range(len(_WAITING)))}) "
            "AND assignee IS NULL "
            f"AND lower(language) IN ({', '.join(f':l{n}' for n in range(len(languages)))}) "
            "AND (snoozed_until IS NULL OR snoozed_until <= :now) "
            "AND (channel != 'callback' OR callback_at IS NULL OR callback_at <= :now) "
            f"AND id NOT IN (SELECT conversation_id FROM offers WHERE {offered} AND expires_at > :now)"
            f"{refused} ORDER BY {breached_first}"
            f"COALESCE(sla_due_at, {FAR_FUTURE}) - priority * :weight, -priority, created_at, id LIMIT :limit"
        )
        params: dict[str, object] = {
            "channel": channel.value,
            "me": agent.id,
            "now": now,
            "weight": rules.priority_weight,
            "limit": rules.scan_limit,
            "cool": now - rules.decline_cooldown,
            **{f"w{n}": s for n, s in enumerate(_WAITING)},
            **{f"l{n}": lang for n, lang in enumerate(languages)},
        }
        found.extend(conversation_from_row(row) for row in ws.db.execute(sql, params))
    # The SQL narrowed; the rules decide (one definition of eligibility, the unit-tested one).
    return rank((c for c in found if refusal(agent, c, load, now, rules) is None), now, rules)


def _try_claim(ws: Workspace, conversation_id: str, agent_id: str, now: float) -> Conversation | None:
    """One conditional UPDATE: it wins only if the item still waits, unowned, and is not offered elsewhere."""
    row_id = local_id(conversation_id)
    with ws.transaction():
        cursor = ws.db.execute(
            "UPDATE conversations SET assignee = ?, state = CASE WHEN state = 'new' THEN 'open' ELSE state END, "
            "version = version + 1, updated_at = ? "
            f"WHERE id = ? AND closed_at IS NULL AND assignee IS NULL AND state IN {_IN_WAITING} "
            "AND NOT EXISTS (SELECT 1 FROM offers WHERE conversation_id = ? AND agent_id != ? AND expires_at > ?)",
            (agent_id, now, row_id, *_WAITING, row_id, agent_id, now),
        )
        if cursor.rowcount == 0:
            return None
        ws.db.execute("DELETE FROM offers WHERE conversation_id = ?", (row_id,))
        return ws.require(row_id)


def next_best(
    ws: Workspace, agent_id: str, now: float | None = None, rules: RoutingRules | None = None
) -> Conversation | None:
    """Pick AND claim the best item for `agent_id` now (the `n` key); None when there is nothing for them.

    Only unowned items are taken: what is already mine (a call transferred to me) is in my queue already.
    The returned conversation is owned by the agent; a call still rings (the UI sends `Accept` to answer),
    an email is OPEN. `explain` says why nothing came.
    """
    rules = rules or RoutingRules()
    _ensure_tables(ws)
    for _ in range(MAX_ROUNDS):
        at = ws.now() if now is None else now
        agent = _agent(ws, agent_id)
        candidates = _candidates(ws, agent, load_of(ws, agent_id), at, rules)
        if not candidates:
            return None
        for candidate in candidates:
            taken = _try_claim(ws, candidate.id, agent_id, at)
            if taken is not None:
                return taken
    return None


def explain(ws: Workspace, agent_id: str, now: float | None = None, rules: RoutingRules | None = None) -> str:
    """Why `next_best` finds nothing, for the status line."""
    rules = rules or RoutingRules()
    agent = _agent(ws, agent_id)
    load = load_of(ws, agent_id)
    refusals = {c: channel_refusal(agent, c, load, rules) for c in agent.skills.channels}
    if not refusals:
        return "no channel in your skills"
    if all(r is Refusal.NOT_AVAILABLE for r in refusals.values()):
        return f"you are {agent.presence.value}: set yourself available to get work"
    open_channels = [c.value for c, r in refusals.items() if r is None]
    if not open_channels:
        reasons = sorted({f"{c.value}: {r.value}" for c, r in refusals.items() if r is not None})
        return "; ".join(reasons)
    at = ws.now() if now is None else now
    if _candidates(ws, agent, load, at, rules):
        return "items are waiting for you"
    return f"nothing waiting for you on {', '.join(sorted(open_channels))}"


# ---------------------------------------------------------------------------------------------- push mode


def _offer_from_row(row: tuple[int, str, float, float]) -> Offer:
    return Offer(qualify(row[0]), row[1], row[2], row[3])


def _stamp(ws: Workspace, now: float | None) -> float:
    """The time of a push-mode step, read once the write lock is held: so offer times follow lock order."""
    return ws.now() if now is None else now


def expire_offers(ws: Workspace, now: float | None = None) -> list[Offer]:
    """Drop offers past their time, remembering each as refused by its agent (so it moves on)."""
    _ensure_tables(ws)
    with ws.transaction():
        at = _stamp(ws, now)
        rows = ws.db.execute(
            "SELECT conversation_id, agent_id, offered_at, expires_at FROM offers WHERE expires_at <= ?",
            (at,),
        ).fetchall()
        for row in rows:
            _refuse(ws, row[0], row[1], at, "expired")
        ws.db.execute("DELETE FROM offers WHERE expires_at <= ?", (at,))
    return [_offer_from_row(r) for r in rows]


def _refuse(ws: Workspace, row_id: int, agent_id: str, at: float, reason: str) -> None:
    ws.db.execute(
        "INSERT INTO routing_refusals (conversation_id, agent_id, at, reason) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (conversation_id, agent_id) DO UPDATE SET at = excluded.at, reason = excluded.reason",
        (row_id, agent_id, at, reason),
    )


def current_offer(ws: Workspace, agent_id: str, now: float | None = None) -> Offer | None:
    """The agent's standing offer, for the console to show (accept / decline, with its countdown)."""
    row = ws.db.execute(
        "SELECT conversation_id, agent_id, offered_at, expires_at FROM offers WHERE agent_id = ? AND expires_at > ?",
        (agent_id, _stamp(ws, now)),
    ).fetchone()
    return _offer_from_row(row) if row else None


def offer_next(
    ws: Workspace, agent_id: str, now: float | None = None, rules: RoutingRules | None = None
) -> Offer | None:
    """The item offered to `agent_id`: their standing offer, or a new one for the best item nobody holds.

    An agent holds at most one offer, an item is offered to at most one agent. Call it on each poll; it
    also expires everyone's stale offers, so no central dispatcher is needed.
    """
    rules = rules or RoutingRules()
    _ensure_tables(ws)
    with ws.transaction():
        expire_offers(ws, now)
        at = _stamp(ws, now)
        standing = current_offer(ws, agent_id, at)
        if standing is not None:
            return standing
        agent = _agent(ws, agent_id)
        for candidate in _candidates(ws, agent, load_of(ws, agent_id), at, rules, for_offer=True):
            cursor = ws.db.execute(
                "INSERT INTO offers (conversation_id, agent_id, offered_at, expires_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (local_id(candidate.id), agent_id, at, at + rules.offer_timeout),
            )
            if cursor.rowcount:
                return Offer(candidate.id, agent_id, at, at + rules.offer_timeout)
    return None


def accept_offer(
    ws: Workspace, agent_id: str, conversation_id: str, now: float | None = None
) -> Conversation:
    """Take the offered item (a call still rings: the UI then sends `Accept`). Raises OfferGone.

    The returned conversation's `updated_at` is the moment of acceptance.
    """
    _ensure_tables(ws)
    row_id = local_id(conversation_id)
    with ws.transaction():
        at = _stamp(ws, now)
        row = ws.db.execute(
            "SELECT 1 FROM offers WHERE conversation_id = ? AND agent_id = ? AND expires_at > ?",
            (row_id, agent_id, at),
        ).fetchone()
        taken = _try_claim(ws, qualify(row_id), agent_id, at) if row is not None else None
        if row is not None and taken is None:
            # Ended meanwhile (the caller hung up): the offer is void for everyone.
            ws.db.execute("DELETE FROM offers WHERE conversation_id = ?", (row_id,))
    if row is None:
        raise OfferGone(f"the offer of {qualify(row_id)} is no longer yours")
    if taken is None:
        raise OfferGone(f"{qualify(row_id)} was taken or ended meanwhile")
    return taken


def decline_offer(
    ws: Workspace, agent_id: str, conversation_id: str, now: float | None = None, reason: str = "declined"
) -> float:
    """Give the item back: it goes to the next agent; this one is not offered it again for a while.

    Returns the moment of the decline. Raises OfferGone when the agent holds no offer of it any more.
    """
    _ensure_tables(ws)
    row_id = local_id(conversation_id)
    with ws.transaction():
        at = _stamp(ws, now)
        cursor = ws.db.execute(
            "DELETE FROM offers WHERE conversation_id = ? AND agent_id = ?", (row_id, agent_id)
        )
        if cursor.rowcount == 0:
            raise OfferGone(f"no offer of {qualify(row_id)} to {agent_id}")
        _refuse(ws, row_id, agent_id, at, reason)
    return at
