"""Simulated colleagues at work, for `--demo` (and the team tests): a contact centre that works, not one agent.

The demo's simulator plays the customers at 30 contacts a minute; without colleagues all of it fell on the one
person trying the console, and within minutes the wallboard read 94% abandonment. Here the simulator's team
(`SIM_TEAM`, the people who handled the backfilled history) comes online and works as agents do, through the
same rules as the console: each takes the next item with `next_best` (skills, languages, capacity, wrap-up),
answers a call or a chat, dials a callback, replies to a mail, then hangs up, wraps up or solves after a
plausible handling time. Between two items a colleague takes a breath, so the queue still holds work for the
person at the keyboard.

`Work`, `start_work`, `step_work` and `advance` are one agent's handling of one item, shared with
tests/team_agent.py (twelve agent processes, and a virtual-clock peak hour).
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ....console.core.model import EMAIL_LIKE, WAITING_STATES, Channel, Conversation, Presence, State
from ....console.core.routing import RoutingRules
from ....console.core.sla import SlaPolicy
from ...base import Accept, BackendError, EndChat, HangUp, PlaceCallback, Reply, SetStatus, WrapUp
from ...base import CallbackOutcome as Outcome
from ..claims import next_best
from ..commands import perform
from ..database import as_target
from ..workspace import Workspace
from .backfill import SIM_TEAM

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Timing:
    """Handling times (uniform ranges, seconds) and SLA targets of one run."""

    talk: tuple[float, float]
    wrap: float
    chat: tuple[float, float]
    callback: tuple[float, float]
    email: tuple[float, float]
    targets: dict[str, float] = field(default_factory=dict)

    def policy(self) -> SlaPolicy:
        return SlaPolicy.from_config(self.targets)


# The demo's pace: faster than life (a call of 20 s to a minute), so that the board moves while you watch.
DEMO = Timing(talk=(20.0, 60.0), wrap=5.0, chat=(30.0, 90.0), callback=(20.0, 45.0), email=(15.0, 40.0))
# A breath between two items, so that work still waits for the person at the keyboard.
BREATH = (3.0, 10.0)
# The person at the keyboard has the first pick: colleagues take nothing until something has waited this long
# (a call rings for you first; a chat waits for you a moment).
FIRST_PICK = 12.0

# What a colleague writes, in the customer's language (English elsewhere).
CHAT_OPENING = {
    "fr": "Bonjour, je regarde votre commande.",
    "de": "Guten Tag, ich sehe mir Ihre Bestellung an.",
    "es": "Hola, estoy revisando su pedido.",
    "it": "Buongiorno, sto controllando il suo ordine.",
    "nl": "Goedendag, ik bekijk uw bestelling.",
    "en": "Hello, I am looking at your order.",
}
MAIL_ANSWER = {
    "fr": "Bonjour,\n\nVotre remboursement est en cours : comptez deux jours ouvrés.\n\nCordialement",
    "de": "Guten Tag,\n\nIhre Erstattung ist unterwegs: rechnen Sie mit zwei Werktagen.\n\nMit freundlichen Grüßen",
    "es": "Hola,\n\nSu reembolso está en curso: cuente dos días hábiles.\n\nUn saludo",
    "it": "Buongiorno,\n\nIl rimborso è in corso: conti due giorni lavorativi.\n\nCordiali saluti",
    "en": "Hello,\n\nYour refund is on its way: allow two working days.\n\nKind regards",
}


@dataclass(slots=True)
class Work:
    """One item in hand and the steps left, each (delay after the previous one, name); `due`: the next one."""

    conversation_id: str
    channel: Channel
    steps: list[tuple[float, str]]
    due: float
    call_id: str = ""
    language: str = "en"

    @property
    def finished(self) -> bool:
        return not self.steps


def start_work(
    ws: Workspace, agent_id: str, conversation: Conversation, rng: random.Random, timing: Timing
) -> Work:
    """What an agent does on taking an item: answer a call or chat, dial a callback; plan the rest."""
    cid = conversation.id
    call_id = ""
    language = conversation.language
    match conversation.channel:
        case Channel.PHONE:
            perform(ws, Accept(conversation_id=cid, agent_id=agent_id))
            steps = [(rng.uniform(*timing.talk), "hang_up"), (timing.wrap, "wrap_up")]
        case Channel.CHAT:
            perform(ws, Accept(conversation_id=cid, agent_id=agent_id))
            opening = CHAT_OPENING.get(language, CHAT_OPENING["en"])
            perform(ws, Reply(conversation_id=cid, agent_id=agent_id, body=opening))
            steps = [(rng.uniform(*timing.chat), "end_chat"), (timing.wrap, "wrap_up")]
        case Channel.CALLBACK:
            placed = perform(ws, PlaceCallback(conversation_id=cid, agent_id=agent_id))
            assert placed.conversation is not None
            call_id = placed.conversation.id
            steps = [(rng.uniform(*timing.callback), "hang_up_callback"), (timing.wrap, "wrap_up_callback")]
        case _:
            steps = [(rng.uniform(*timing.email), "reply_and_solve")]
    return Work(cid, conversation.channel, steps, ws.now() + steps[0][0], call_id, language)


def step_work(ws: Workspace, agent_id: str, work: Work, step: str) -> None:
    cid = work.conversation_id
    if step == "hang_up":
        perform(ws, HangUp(conversation_id=cid, agent_id=agent_id))
    elif step == "end_chat":
        perform(ws, EndChat(conversation_id=cid, agent_id=agent_id))
    elif step == "wrap_up":
        perform(ws, WrapUp(conversation_id=cid, agent_id=agent_id, disposition="resolved"))
    elif step == "hang_up_callback":
        perform(ws, HangUp(conversation_id=work.call_id, agent_id=agent_id))
    elif step == "wrap_up_callback":
        perform(ws, WrapUp(conversation_id=work.call_id, agent_id=agent_id, disposition="resolved"))
        perform(ws, Outcome(conversation_id=cid, agent_id=agent_id, reached=True))
    elif step == "reply_and_solve":
        answer = MAIL_ANSWER.get(work.language, MAIL_ANSWER["en"])
        perform(ws, Reply(conversation_id=cid, agent_id=agent_id, body=answer))
        perform(ws, SetStatus(conversation_id=cid, agent_id=agent_id, state=State.SOLVED))
    else:
        raise ValueError(step)


def resume_work(ws: Workspace, conversation: Conversation, rng: random.Random, timing: Timing) -> Work | None:
    """The rest of the work on an item an agent already holds (the backfill leaves some open in their hands)."""
    state, channel = conversation.state, conversation.channel
    if channel in (Channel.PHONE, Channel.CHAT) and state is State.WRAP_UP:
        steps = [(timing.wrap, "wrap_up")]
    elif channel is Channel.PHONE and state in (State.CONNECTED, State.ON_HOLD):
        steps = [(rng.uniform(*timing.talk), "hang_up"), (timing.wrap, "wrap_up")]
    elif channel is Channel.CHAT and state is State.ACTIVE:
        steps = [(rng.uniform(*timing.chat), "end_chat"), (timing.wrap, "wrap_up")]
    elif channel in EMAIL_LIKE and state in (State.NEW, State.OPEN):
        steps = [(rng.uniform(*timing.email), "reply_and_solve")]
    else:
        return None  # ringing, waiting on the customer, a callback: left as it is
    return Work(conversation.id, channel, steps, ws.now() + steps[0][0], "", conversation.language)


def advance(ws: Workspace, agent_id: str, work: Work, now: float) -> int:
    """Do the steps due by `now`; returns how many were done (`work.finished` tells the end)."""
    done = 0
    while work.steps and work.due <= now:
        _, step = work.steps.pop(0)
        step_work(ws, agent_id, work, step)
        done += 1
        if work.steps:
            work.due += work.steps[0][0]
    return done


@dataclass(slots=True)
class _Colleague:
    agent_id: str
    in_hand: list[Work] = field(default_factory=list)
    rested_at: float = 0.0  # takes the next item from then on


class Colleagues:
    """The simulator's team at work on a workspace file, in one thread (`run`) or stepped by hand (`step`)."""

    def __init__(
        self,
        path: str | Path,
        *,
        seed: int | None = None,
        timing: Timing = DEMO,
        breath: tuple[float, float] = BREATH,
        rules: RoutingRules | None = None,
        poll: float = 0.5,
        team: tuple[str, ...] | None = None,
        first_pick: float = FIRST_PICK,
    ) -> None:
        self.path = as_target(path) if isinstance(path, str) else path
        self.rng = random.Random(seed)
        self.timing = timing
        self.breath = breath
        self.rules = rules or RoutingRules()
        self.poll = poll
        self.team = [_Colleague(agent_id) for agent_id in (team or tuple(a for a, _, _ in SIM_TEAM))]
        self.handled = 0
        self.first_pick = first_pick

    def come_in(self, ws: Workspace) -> None:
        now = ws.now()
        # Only the people the workspace knows (the simulator's backfill writes them).
        self.team = [c for c in self.team if ws.agent(c.agent_id) is not None]
        held: dict[str, list[Conversation]] = {}
        for conversation in ws.conversations():
            if conversation.assignee and not conversation.is_closed:
                held.setdefault(conversation.assignee, []).append(conversation)
        for colleague in self.team:
            ws.set_presence(colleague.agent_id, Presence.AVAILABLE)
            for conversation in held.get(colleague.agent_id, []):
                work = resume_work(ws, conversation, self.rng, self.timing)
                if work is not None:
                    colleague.in_hand.append(work)
            # Not all at the same second: the first ones start at once, the others within a breath.
            colleague.rested_at = now + self.rng.uniform(0.0, self.breath[1])

    def leave(self, ws: Workspace) -> None:
        for colleague in self.team:
            ws.set_presence(colleague.agent_id, Presence.OFFLINE)

    def _something_waited(self, ws: Workspace, at: float) -> bool:
        states = [s.value for s in WAITING_STATES]
        (oldest,) = ws.db.execute(
            "SELECT MIN(created_at) FROM conversations WHERE closed_at IS NULL AND assignee IS NULL "
            f"AND state IN ({', '.join('?' * len(states))}) "
            "AND (snoozed_until IS NULL OR snoozed_until <= ?) "
            "AND (channel != 'callback' OR callback_at IS NULL OR callback_at <= ?)",
            (*states, at, at),
        ).fetchone()
        return oldest is not None and at - oldest >= self.first_pick

    def step(self, ws: Workspace, now: float | None = None) -> None:
        at = ws.now() if now is None else now
        may_pick = self._something_waited(ws, at)
        for colleague in self.team:
            for work in list(colleague.in_hand):
                try:
                    advance(ws, colleague.agent_id, work, at)
                except BackendError as error:  # the customer hung up, someone took it over: let it go
                    log.info("%s drops %s: %s", colleague.agent_id, work.conversation_id, error)
                    work.steps.clear()
                if work.finished:
                    colleague.in_hand.remove(work)
                    colleague.rested_at = at + self.rng.uniform(*self.breath)
                    self.handled += 1
            # Chats run side by side (routing caps them by capacity); anything else is one at a time.
            busy = any(work.channel is not Channel.CHAT for work in colleague.in_hand)
            if busy or at < colleague.rested_at or not may_pick:
                continue
            taken = next_best(ws, colleague.agent_id, at, self.rules)
            if taken is None:
                continue
            try:
                colleague.in_hand.append(start_work(ws, colleague.agent_id, taken, self.rng, self.timing))
            except BackendError as error:
                log.info("%s could not start %s: %s", colleague.agent_id, taken.id, error)

    def run(self, stop: threading.Event) -> None:
        ws = Workspace(self.path)
        try:
            self.come_in(ws)
            while not stop.wait(self.poll):
                self.step(ws)
            self.leave(ws)
        finally:
            ws.close()
