"""The traffic simulator: realistic customers calling, chatting and writing into a local workspace file.

It writes through its own `Workspace` connection to the same SQLite file the consoles use, so every contact,
message, abandoned call and survey answer reaches them through the ordinary change feed, whoever runs it:
`standardiste simulate` in another terminal, or a worker thread of the console in `--demo`.

- Contacts arrive as a Poisson process (`rate` per minute, x2.5 with the Christmas profile, when one order
  in five produces a contact instead of one in twelve). Channels, languages and topics follow the shares in
  simulated_people.py.
- Callers ring with a patience (`patience_until`); when it runs out before anyone answered, the call is
  abandoned by one conditional UPDATE, so an agent's answer in another process is never overwritten.
- Chat customers open with a message and answer each agent reply after a few seconds, typing indicator
  first, for a few rounds; unanswered ones may ask "anyone there?" and then leave.
- Mail customers send real MIME (mime_factory.py); some send a reminder, some answer the agent's reply with
  a quoted mail in the same thread.
- Survey requests (`csat_requests`) are answered after a delay by about a third of the customers, with a
  score that drops with the wait.
- `backfill(n)` writes a day's history at once (most of it closed, some still open) in batched inserts.

Reproducible: the same seed gives the same contacts (people, channels, texts, attachments, times relative to
the start), because each stream (arrivals, each contact's behaviour, each survey) has its own
`random.Random` derived from the seed; the global `random` is never used. Time comes from `clock` (and
`step(now)`), so tests drive it without sleeping.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ...console.model import (
    Agent,
    Attachment,
    Channel,
    CsatRecord,
    Customer,
    Direction,
    EmailHeaders,
    Priority,
    Seniority,
    Skills,
    State,
)
from ...console.sla import SlaPolicy, format_duration
from .mime_factory import BuiltMail, MailAttachment
from .scenario import (
    AbandonEvent,
    ContactEvent,
    CsatEvent,
    MessageEvent,
    Scenario,
    ScenarioPlayer,
    TypingEvent,
    load_scenario,
)
from .simulated_people import (
    CHANNEL_SHARES,
    EMAIL_LIKE,
    SUPPORT_ADDRESS,
    SUPPORT_NAME,
    ContactFactory,
    ContactSpec,
    Language,
    People,
    customer_mail,
    load_people,
    make_attachment,
    order_number,
    reply_quote,
)
from .workspace import Workspace, capacity_to_json, qualify, skills_to_json

Clock = Callable[[], float]

# Contacts per order: about one in twelve on an ordinary day, one in five at Christmas (the seeds).
PROFILES: dict[str, float] = {"normal": 1.0, "christmas": 2.5}
# About a third of customers answer a satisfaction survey.
CSAT_RESPONSE_RATE = 0.35
CSAT_SCAN_SECONDS = 5.0
# Conversations closed this long ago are forgotten (their customers do nothing more): memory stays flat in
# a day-long demo.
FORGET_CLOSED_SECONDS = 600.0
# A chat customer answers this many agent replies (the last answer is a goodbye).
CHAT_ROUNDS = (2, 4)
STILL_THERE_SHARE = 0.5  # an unanswered chatter asks "anyone there?" before leaving
EMAIL_REPLY_SHARE = 0.45  # a mail customer answers the agent's reply
EMAIL_REMINDER_SHARE = 0.15  # a mail customer with no answer yet writes again
# Mean seconds to answer in the backfilled history (Christmas doubles them).
HISTORY_WAIT = {Channel.PHONE: 25.0, Channel.CHAT: 45.0}
# Backfilled surveys closed this recently are left pending, for the running simulator to answer.
FRESH_SURVEY_SECONDS = 1800.0

# The simulated colleagues who handled the backfilled history (presence offline: they worked earlier).
SIM_TEAM: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("sim-amelie", "Amélie Faure", ("fr", "en")),
    ("sim-hugo", "Hugo Lefort", ("fr", "es", "en")),
    ("sim-jonas", "Jonas Weber", ("de", "nl", "en")),
    ("sim-lucia", "Lucía Moreno", ("es", "pt", "en")),
    ("sim-marco", "Marco Bellini", ("it", "fr", "en")),
    ("sim-sanne", "Sanne de Wit", ("nl", "de", "en")),
    ("sim-ingrid", "Ingrid Lund", ("sv", "da", "nb", "en")),
    ("sim-aino", "Aino Lahti", ("fi", "sv", "en")),
    ("sim-kasia", "Kasia Zielińska", ("pl", "en")),
    ("sim-tom", "Tom Bradley", ("en", "fr")),
)
DISPOSITIONS = {"refund": "refund", "return": "return", "parcel": "order-info", "gift": "order-info"}


def csat_score(
    rng: random.Random, *, channel: Channel, priority: Priority, waited: float, handled: float, sla: SlaPolicy
) -> int:
    """1..5: high when answered within target, falling as the wait passes it; long live calls cost a bit."""
    ratio = waited / max(1.0, sla.target(channel, priority))
    score = 4.6 - min(2.6, max(0.0, ratio - 0.5) * 0.9)
    if channel.is_live and handled > 900:
        score -= 0.5
    score += rng.gauss(0.0, 0.6)
    return max(1, min(5, round(score)))


def csat_comment(rng: random.Random, lang: Language, score: int) -> str:
    if rng.random() >= 0.4:
        return ""
    band = "good" if score >= 4 else "neutral" if score == 3 else "bad"
    return rng.choice(lang.csat[band])


@dataclass(slots=True)
class _Tracked:
    """A conversation this simulator opened, and what its customer will still do."""

    row: int
    spec: ContactSpec
    lang: Language
    rng: random.Random
    scripted: bool
    rounds_left: int = 0
    answer_pending: bool = False
    replies_left: int = 0


@dataclass(order=True, slots=True)
class _Action:
    due: float
    seq: int
    kind: str = field(compare=False)
    row: int = field(compare=False)
    data: Any = field(compare=False, default=None)


class Simulator:
    """Feeds a workspace file. Call `step()` every half second or so from one thread, or `run(stop)`.

    The instance owns its `Workspace` connection: use it from one thread at a time (it may be created in one
    thread and stepped in another).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        rate: float = 2.0,
        profile: str = "normal",
        seed: int | None = None,
        clock: Clock = time.time,
        start: float | None = None,
        scenario: Scenario | None = None,
        sla: SlaPolicy | None = None,
        people: People | None = None,
    ) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}: choose {' or '.join(PROFILES)}")
        if rate < 0:
            raise ValueError("the rate cannot be negative")
        self.seed = seed if seed is not None else secrets.randbits(32)
        self.clock = clock
        self.ws = Workspace(path, clock=clock)
        self.start = clock() if start is None else start
        self.profile = profile
        self.rate = rate * PROFILES[profile]  # contacts per minute
        self.sla = sla or SlaPolicy()
        self.people = people or load_people()
        self.factory = ContactFactory(self.people, christmas=profile == "christmas")
        self.stats: Counter[str] = Counter()
        self._arrivals = random.Random(f"{self.seed}:arrivals")
        # A scenario replaces the random traffic: it is the whole script.
        self._next_arrival = self.start + self._gap() if self.rate > 0 and scenario is None else math.inf
        self._tracked: dict[int, _Tracked] = {}
        self._actions: list[_Action] = []
        self._seq = 0
        self._message_mark = self._max_id("messages")
        self._csat_decided: set[int] = set()
        self._next_csat_scan = self.start
        self._next_prune = self.start + 60.0
        self.player = ScenarioPlayer(scenario, self.start) if scenario else None
        self.refs: dict[str, int] = {}  # scenario ref -> conversation row

    # ------------------------------------------------------------------------------------------ running

    def step(self, now: float | None = None) -> int:
        """Do everything due by `now`; returns how many things happened (contacts, messages, answers...)."""
        now = self.clock() if now is None else now
        done = 0
        while self._next_arrival <= now:
            at = self._next_arrival
            spec = self.factory.next(random.Random(self._arrivals.getrandbits(64)))
            self._next_arrival = at + self._gap()
            self._open(spec, at)
            done += 1
        if self.player is not None:
            done += self._play(now)
        done += self._abandon(now)
        self._watch_agent_replies(now)
        done += self._run_actions(now)
        if now >= self._next_csat_scan:
            self._next_csat_scan = now + CSAT_SCAN_SECONDS
            self._scan_surveys(now)
        if now >= self._next_prune:
            self._next_prune = now + 60.0
            self._forget_closed(now)
        return done

    def _forget_closed(self, now: float) -> None:
        # Scripted conversations are kept: a script may still write to them, and says itself who answers surveys.
        rows = [row for row, tracked in self._tracked.items() if not tracked.scripted]
        for first in range(0, len(rows), 500):
            chunk = rows[first : first + 500]
            closed = self.ws.db.execute(
                f"SELECT id FROM conversations WHERE id IN ({','.join('?' * len(chunk))}) AND closed_at < ?",
                (*chunk, now - FORGET_CLOSED_SECONDS),
            ).fetchall()
            for (row,) in closed:
                del self._tracked[row]

    def run(
        self, stop: threading.Event | None = None, *, duration: float | None = None, tick: float = 0.5
    ) -> None:
        """Step every `tick` seconds until `stop` is set, `duration` has passed or a scenario is over."""
        stop = stop or threading.Event()
        end = self.clock() + duration if duration is not None else math.inf
        while not stop.is_set():
            now = self.clock()
            if now >= end:
                return
            self.step(now)
            if self.player is not None and self.scenario_over(now):
                return
            stop.wait(tick)

    def scenario_over(self, now: float) -> bool:
        """Every event replayed, every scripted patience run out, every scripted survey answered."""
        if self.player is None:
            return False
        return self.player.finished and now >= self.start + _scenario_end(self.player.scenario)

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _gap(self) -> float:
        return self._arrivals.expovariate(self.rate / 60.0)

    def _schedule(self, due: float, kind: str, row: int, data: Any = None) -> None:
        self._seq += 1
        heapq.heappush(self._actions, _Action(due, self._seq, kind, row, data))

    def _max_id(self, table: str) -> int:
        return int(self.ws.db.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0])

    # ------------------------------------------------------------------------------------------ contacts

    def _open(self, spec: ContactSpec, at: float, *, scripted: bool = False) -> int:
        """Create the conversation and the customer's first words; plan what the customer does next."""
        channel, customer = spec.channel, spec.customer
        lang = self.people.language_of(customer)
        callback_at = at + spec.callback_delay if spec.callback_delay is not None else None
        # A callback wished for later is due from the wished time, not from the request.
        sla_from = max(at, callback_at) if callback_at is not None else at
        tracked = _Tracked(0, spec, lang, random.Random(spec.seed), scripted)
        with self.ws.transaction():
            row = self.ws.create_conversation(
                channel=channel,
                customer=customer,
                subject=spec.subject,
                created_at=at,
                queue=spec.queue,
                priority=spec.priority,
                tags=spec.tags,
                sla_due_at=self.sla.due_at(channel, sla_from, spec.priority),
                callback_number=customer.phone if channel is Channel.CALLBACK else "",
                callback_at=callback_at,
                patience_until=at + spec.patience if spec.patience else None,
                language=customer.language,
            )
            tracked.row = row
            if channel is Channel.PHONE:
                self._system(
                    row, f"incoming call from {customer.phone or 'a hidden number'}, queue {spec.queue}", at
                )
            elif channel is Channel.CALLBACK:
                when = (
                    f"at {time.strftime('%H:%M', time.localtime(callback_at))}"
                    if spec.callback_delay and callback_at
                    else "as soon as possible"
                )
                self._system(row, f"callback requested to {customer.phone}, {when}", at)
                if spec.text:
                    self._inbound(row, customer, spec.text, at)
            elif channel is Channel.CHAT:
                self._inbound(row, customer, spec.text, at)
            else:
                mail = customer_mail(
                    tracked.rng,
                    self.people,
                    customer,
                    subject=spec.subject,
                    text=spec.text,
                    at=at,
                    attachments=spec.attachments,
                )
                self._store_mail(row, customer, mail, at)
        self._tracked[row] = tracked
        self.stats[f"contact.{channel.value}"] += 1
        if scripted:
            return row
        if channel is Channel.CHAT:
            tracked.rounds_left = tracked.rng.randint(*CHAT_ROUNDS)
            if spec.patience and tracked.rng.random() < STILL_THERE_SHARE:
                self._schedule(at + spec.patience * 0.6, "still_there", row)
        elif channel in EMAIL_LIKE:
            tracked.replies_left = 2
            if tracked.rng.random() < EMAIL_REMINDER_SHARE:
                self._schedule(at + tracked.rng.uniform(1200.0, 3600.0), "reminder", row)
        return row

    def _inbound(self, row: int, customer: Customer, body: str, at: float) -> None:
        self.ws.add_message(row, direction=Direction.INBOUND, body=body, author=customer.name, created_at=at)

    def _system(self, row: int, body: str, at: float) -> None:
        self.ws.add_message(row, direction=Direction.SYSTEM, body=body, author="system", created_at=at)

    def _store_mail(self, row: int, customer: Customer, mail: BuiltMail, at: float) -> None:
        """Insert, then name the attachments by the new row id: `ref` = `<message row>/<leaf part>`."""
        with self.ws.transaction():
            message = self.ws.add_message(
                row,
                direction=Direction.INBOUND,
                body=mail.body,
                author=customer.name,
                created_at=at,
                email=mail.headers,
                raw=mail.raw,
            )
            if mail.parts:
                message_row = int(message.id.rpartition(":")[2])
                self.ws.db.execute(
                    "UPDATE messages SET attachments = ? WHERE id = ?",
                    (attachments_json(mail.attachments(message_row)), message_row),
                )
        self.stats["mail"] += 1

    # ------------------------------------------------------------------------------------------ abandonment

    def _abandon(self, now: float) -> int:
        """Callers and chatters whose patience ran out before anyone answered hang up / leave.

        One conditional UPDATE inside the write lock: a call an agent answered (state connected, answered_at
        set) in another process in the meantime no longer matches, so it is never clobbered.
        """
        with self.ws.transaction():
            gone = self.ws.db.execute(
                "UPDATE conversations SET state = 'abandoned', closed_at = patience_until, updated_at = ?, "
                "version = version + 1 WHERE closed_at IS NULL AND channel IN ('phone', 'chat') "
                "AND state IN ('ringing', 'queued', 'waiting') AND answered_at IS NULL "
                "AND patience_until IS NOT NULL AND patience_until <= ? "
                "RETURNING id, channel, created_at, patience_until",
                (now, now),
            ).fetchall()
            for row, channel, created_at, gave_up in gone:
                self.ws.db.execute("DELETE FROM offers WHERE conversation_id = ?", (row,))
                self.ws.db.execute(
                    "DELETE FROM typing WHERE conversation_id = ? AND who = 'customer'", (row,)
                )
                waited = format_duration(gave_up - created_at)
                what = "caller hung up" if channel == "phone" else "customer left the chat"
                self._system(row, f"{what} after {waited} without an answer", gave_up)
        self.stats["abandoned"] += len(gone)
        return len(gone)

    def _customer_leaves(self, row: int, at: float) -> None:
        """A scripted hang-up: unanswered -> abandoned; answered -> the agent goes to wrap-up."""
        with self.ws.transaction():
            conversation = self.ws.conversation(row)
            if conversation is None or conversation.is_closed or conversation.state is State.WRAP_UP:
                return
            if conversation.answered_at is None and conversation.is_waiting:
                self.ws.update_conversation(row, state=State.ABANDONED, closed_at=at, updated_at=at)
                what = "caller hung up" if conversation.channel is Channel.PHONE else "customer left the chat"
                self._system(
                    row, f"{what} after {format_duration(at - conversation.created_at)} without an answer", at
                )
                self.stats["abandoned"] += 1
            else:
                self.ws.update_conversation(row, state=State.WRAP_UP, wrap_up_since=at, held_since=None)
                what = "caller hung up" if conversation.channel is Channel.PHONE else "customer left the chat"
                self._system(row, what, at)
            self.ws.db.execute("DELETE FROM typing WHERE conversation_id = ? AND who = 'customer'", (row,))

    # ------------------------------------------------------------------------------------------ reactions

    def _watch_agent_replies(self, now: float) -> None:
        top = self._max_id("messages")
        if top <= self._message_mark:
            return
        rows = self.ws.db.execute(
            "SELECT id, conversation_id, body, created_at, email FROM messages "
            "WHERE id > ? AND id <= ? AND direction = 'outbound' ORDER BY id",
            (self._message_mark, top),
        ).fetchall()
        self._message_mark = top
        for _message_id, row, _body, created_at, _email in rows:
            tracked = self._tracked.get(row)
            if tracked is None or tracked.scripted:
                continue
            rng, channel = tracked.rng, tracked.spec.channel
            if channel is Channel.CHAT and tracked.rounds_left > 0 and not tracked.answer_pending:
                tracked.answer_pending = True
                self._schedule(max(now, created_at) + rng.uniform(1.5, 5.0), "typing", row)
            elif channel in EMAIL_LIKE and tracked.replies_left > 0:
                tracked.replies_left -= 1
                if rng.random() < EMAIL_REPLY_SHARE:
                    self._schedule(
                        max(now, created_at) + min(3600.0, rng.lognormvariate(5.5, 0.7)), "mail", row
                    )

    def _run_actions(self, now: float) -> int:
        done = 0
        while self._actions and self._actions[0].due <= now:
            action = heapq.heappop(self._actions)
            tracked = self._tracked.get(action.row)
            if action.kind == "csat":
                done += self._answer_survey(action.row, action.due, action.data)
            elif tracked is not None:
                done += self._react(tracked, action)
        return done

    def _react(self, tracked: _Tracked, action: _Action) -> int:
        conversation = self.ws.conversation(tracked.row)
        if conversation is None:
            return 0
        ended = conversation.is_closed or conversation.state is State.WRAP_UP
        lang, rng, customer, at = tracked.lang, tracked.rng, tracked.spec.customer, action.due
        if action.kind == "typing":
            if ended:
                tracked.answer_pending = False
                return 0
            last = tracked.rounds_left == 1
            text = rng.choice(lang.bye if last else lang.followups).format(order=tracked.spec.order)
            typing_for = min(12.0, max(2.0, len(text) / rng.uniform(4.0, 8.0)))
            self.ws.set_typing(tracked.row, "customer", True, ttl=typing_for + 5.0)
            self._schedule(at + typing_for, "chat", tracked.row, text)
            return 0
        if action.kind == "chat":
            self.ws.set_typing(tracked.row, "customer", False)
            tracked.answer_pending = False
            if ended:
                return 0
            self._inbound(tracked.row, customer, action.data, at)
            tracked.rounds_left -= 1
            self.stats["chat"] += 1
            return 1
        if action.kind == "still_there":
            if conversation.state is not State.WAITING or conversation.first_response_at is not None:
                return 0
            self._inbound(tracked.row, customer, rng.choice(lang.still_there), at)
            return 1
        if action.kind == "reminder":
            if conversation.is_closed or conversation.first_response_at is not None:
                return 0
            text = rng.choice(lang.reminder).format(order=tracked.spec.order)
        else:  # "mail": an answer to the agent's reply
            text = rng.choice(lang.replies).format(order=tracked.spec.order)
        first_name = customer.name.split(" ")[0]
        self._customer_mail(tracked, f"{lang.greeting}\n\n{text}\n\n{lang.signoff}\n{first_name}", at)
        return 1

    def _customer_mail(
        self, tracked: _Tracked, text: str, at: float, attachments: Sequence[MailAttachment] = ()
    ) -> None:
        """A mail in the conversation's thread, quoting the agent's last reply (or the customer's own mail)."""
        row, customer = tracked.row, tracked.spec.customer
        messages = self.ws.messages(row)
        threaded = [m for m in messages if m.email and m.email.message_id]
        quoted = next((m for m in reversed(messages) if m.direction is Direction.OUTBOUND), None) or next(
            (m for m in reversed(messages) if m.direction is Direction.INBOUND), None
        )
        quote = None
        if quoted is not None:
            author = SUPPORT_NAME if quoted.direction is Direction.OUTBOUND else customer.name
            tz = self.people.country_of(customer).tz
            quote = reply_quote(tracked.lang, author, quoted.created_at, _unquoted(quoted.body), tz)
        base = next((m.email.subject for m in threaded if m.email and m.email.subject), tracked.spec.subject)
        subject = base if base.lower().startswith(("re:", "aw:", "sv:", "r:")) else f"Re: {base}"
        references = tuple(m.email.message_id for m in threaded if m.email)[-10:]
        mail = customer_mail(
            tracked.rng,
            self.people,
            customer,
            subject=subject,
            text=text,
            at=at,
            in_reply_to=references[-1] if references else "",
            references=references,
            quote=quote,
            attachments=tuple(attachments),
        )
        with self.ws.transaction():
            self._store_mail(row, customer, mail, at)
            conversation = self.ws.require(row)
            if conversation.state in (State.PENDING, State.SOLVED):
                # The customer wrote again: the ball is back in the agents' court.
                self.ws.update_conversation(row, state=State.OPEN, closed_at=None)

    # ------------------------------------------------------------------------------------------ surveys

    def _scan_surveys(self, now: float) -> None:
        """Decide, once per request and only once resolved, whether and when the customer answers."""
        for row, requested_at in self.ws.pending_csat_requests():
            if row in self._csat_decided:
                continue
            tracked = self._tracked.get(row)
            if tracked is not None and tracked.scripted:
                self._csat_decided.add(row)  # a script says itself whether its customers answer
                continue
            conversation = self.ws.conversation(row)
            if conversation is None:
                self._csat_decided.add(row)
                continue
            if not conversation.is_closed:
                continue  # reopened since the survey went out: decide when it is resolved again
            self._csat_decided.add(row)
            if conversation.state is State.ABANDONED:
                continue  # a survey follows a resolution, not a hang-up
            rng = random.Random(f"{self.seed}:csat:{row}")
            if rng.random() >= CSAT_RESPONSE_RATE:
                continue
            sent = max(requested_at, conversation.closed_at or requested_at)
            self._schedule(sent + min(3600.0, rng.lognormvariate(5.0, 0.8)), "csat", row, rng)

    def _answer_survey(self, row: int, at: float, rng: random.Random) -> int:
        conversation = self.ws.conversation(row)
        pending = self.ws.db.execute(
            "SELECT 1 FROM csat_requests WHERE conversation_id = ?", (row,)
        ).fetchone()
        if conversation is None or pending is None:
            return 0
        if not conversation.is_closed:
            self._csat_decided.discard(row)  # reopened: it will be decided again once resolved
            return 0
        answered = conversation.answered_at or conversation.first_response_at
        closed = conversation.closed_at or at
        score = csat_score(
            rng,
            channel=conversation.channel,
            priority=conversation.priority,
            waited=(answered or closed) - conversation.created_at,
            handled=closed - (answered or conversation.created_at),
            sla=self.sla,
        )
        lang = self.people.languages.get(conversation.language) or self.people.languages["en"]
        self.ws.record_csat(
            CsatRecord(
                conversation_id=qualify(row),
                channel=conversation.channel,
                score=score,
                comment=csat_comment(rng, lang, score),
                at=at,
                agent_id=conversation.assignee,
                customer_id=conversation.customer_id,
            )
        )
        self.stats["csat"] += 1
        return 1

    # ------------------------------------------------------------------------------------------ scenario

    def _play(self, now: float) -> int:
        assert self.player is not None
        done = 0
        for event in self.player.due(now):
            at = self.start + event.at
            if isinstance(event, ContactEvent):
                self.refs[event.ref] = self._open(self._scripted_spec(event), at, scripted=True)
            elif isinstance(event, CsatEvent):
                self.player.deferred.append(event)
                continue
            else:
                row = self.refs[event.ref]
                if isinstance(event, MessageEvent):
                    self._scripted_message(row, event, at)
                elif isinstance(event, TypingEvent):
                    self.ws.set_typing(row, "customer", event.typing)
                elif isinstance(event, AbandonEvent):
                    self._customer_leaves(row, at)
            done += 1
        for event in list(self.player.deferred):
            row = self.refs[event.ref]
            conversation = self.ws.conversation(row)
            if conversation is None or not conversation.is_closed:
                continue  # a survey is answered after the resolution, never before
            self.player.deferred.remove(event)
            if conversation.state is State.ABANDONED:
                self.stats["csat_dropped"] += 1  # nobody resolved anything: there is no survey to answer
                continue
            self.ws.record_csat(
                CsatRecord(
                    conversation_id=qualify(row),
                    channel=conversation.channel,
                    score=event.score,
                    comment=event.comment,
                    at=max(self.start + event.at, conversation.closed_at or 0.0),
                    agent_id=conversation.assignee,
                    customer_id=conversation.customer_id,
                )
            )
            self.stats["csat"] += 1
            done += 1
        return done

    def _scripted_spec(self, event: ContactEvent) -> ContactSpec:
        seed = int.from_bytes(
            hashlib.sha256(f"{self.seed}:scenario:{event.ref}".encode()).digest()[:8], "big"
        )
        rng = random.Random(seed)
        customer = event.customer
        order = order_number(rng, customer.country)
        lang = self.people.language_of(customer)
        attachments = tuple(
            _renamed(make_attachment(rng, request.kind, lang, customer, order), request.filename)
            for request in event.attachments
        )
        return ContactSpec(
            channel=event.channel,
            customer=customer,
            topic="",
            subject=event.subject,
            text=event.body,
            order=order,
            queue=event.queue,
            priority=event.priority,
            tags=event.tags,
            seed=seed,
            patience=event.patience,
            callback_delay=event.callback_at - event.at if event.callback_at is not None else None,
            attachments=attachments,
        )

    def _scripted_message(self, row: int, event: MessageEvent, at: float) -> None:
        tracked = self._tracked[row]
        if tracked.spec.channel is Channel.CHAT:
            self.ws.set_typing(row, "customer", False)
            conversation = self.ws.require(row)
            if conversation.is_closed or conversation.state is State.WRAP_UP:
                self.stats["skipped"] += 1  # the chat was ended: the customer's message has nowhere to go
                return
            self._inbound(row, tracked.spec.customer, event.body, at)
            return
        attachments = tuple(
            _renamed(
                make_attachment(tracked.rng, r.kind, tracked.lang, tracked.spec.customer, tracked.spec.order),
                r.filename,
            )
            for r in event.attachments
        )
        self._customer_mail(tracked, event.body, at, attachments)

    # ------------------------------------------------------------------------------------------ backfill

    def backfill(self, count: int, *, hours: float = 8.0, now: float | None = None, batch: int = 2000) -> int:
        """Write `count` contacts spread over the past `hours`, as a day's history would look: most closed
        (answered, wrapped up, some surveyed), some abandoned, a realistic share still open. Batched inserts,
        one transaction per batch, so consoles on the same file are held up only briefly."""
        now = self.clock() if now is None else now
        rng = random.Random(f"{self.seed}:backfill")
        times = sorted(now - rng.random() * hours * 3600.0 for _ in range(count))
        self._ensure_team()
        team = _TeamPicker(rng)
        christmas = self.profile == "christmas"
        for first in range(0, count, batch):
            chunk = times[first : first + batch]
            specs = [self.factory.next(random.Random(rng.getrandbits(64))) for _ in chunk]
            with self.ws.transaction():
                history = _History(
                    self, self._max_id("conversations"), self._max_id("messages"), now, christmas
                )
                for at, spec in zip(chunk, specs, strict=True):
                    history.add(spec, at, team.pick(spec.customer.language))
                history.write(self.ws)
        self._message_mark = self._max_id("messages")  # backfilled replies are history, not news
        self.stats["backfill"] += count
        return count

    def _ensure_team(self) -> None:
        with self.ws.transaction():
            for agent_id, name, languages in SIM_TEAM:
                agent = Agent(
                    id=agent_id,
                    name=name,
                    skills=Skills({c: 2 for c in Channel}, languages, Seniority.CONFIRMED),
                )
                self.ws.db.execute(
                    "INSERT OR IGNORE INTO agents (id, name, skills, capacity, presence, presence_since, last_seen) "
                    "VALUES (?, ?, ?, ?, 'offline', ?, ?)",
                    (
                        agent.id,
                        agent.name,
                        skills_to_json(agent.skills),
                        capacity_to_json(agent.capacity),
                        0.0,
                        0.0,
                    ),
                )


class _TeamPicker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.by_language: dict[str, list[str]] = {}
        for agent_id, _name, languages in SIM_TEAM:
            for language in languages:
                self.by_language.setdefault(language, []).append(agent_id)

    def pick(self, language: str) -> str:
        return self.rng.choice(self.by_language.get(language) or self.by_language["en"])


_CONVERSATION_INSERT = (
    "INSERT INTO conversations (id, channel, state, subject, customer_id, customer_name, language, queue, "
    "priority, tags, assignee, created_at, updated_at, first_response_at, last_customer_at, answered_at, "
    "closed_at, sla_due_at, callback_number, callback_at, patience_until, unread, wrap_up_since) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_MESSAGE_INSERT = (
    "INSERT INTO messages (id, conversation_id, direction, author, body, created_at, attachments, email, raw) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class _History:
    """Rows for one batch of backfilled contacts, with ids assigned up front (the batch holds the lock)."""

    def __init__(
        self, sim: Simulator, conversation_base: int, message_base: int, now: float, christmas: bool
    ):
        self.sim = sim
        self.now = now
        self.slow = 2.0 if christmas else 1.0
        self.next_conversation = conversation_base
        self.next_message = message_base
        self.customers: dict[str, tuple[Any, ...]] = {}
        self.conversations: list[tuple[Any, ...]] = []
        self.messages: list[tuple[Any, ...]] = []
        self.wrapups: list[tuple[Any, ...]] = []
        self.csat: list[tuple[Any, ...]] = []
        self.csat_requests: list[tuple[Any, ...]] = []

    def write(self, ws: Workspace) -> None:
        db = ws.db
        db.executemany(
            "INSERT INTO customers (id, name, language, email, phone, social_handle, country) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            self.customers.values(),
        )
        db.executemany(_CONVERSATION_INSERT, self.conversations)
        db.executemany(_MESSAGE_INSERT, self.messages)
        db.executemany(
            "INSERT INTO wrapups (conversation_id, agent_id, disposition, note, at, handle_seconds) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            self.wrapups,
        )
        db.executemany(
            "INSERT INTO csat (conversation_id, channel, score, comment, at, agent_id, customer_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            self.csat,
        )
        db.executemany(
            "INSERT OR IGNORE INTO csat_requests (conversation_id, requested_at) VALUES (?, ?)",
            self.csat_requests,
        )

    # One contact -----------------------------------------------------------------------------------------

    def add(self, spec: ContactSpec, at: float, agent: str) -> None:
        self.next_conversation += 1
        row = self.next_conversation
        customer = spec.customer
        self.customers.setdefault(
            customer.id,
            (
                customer.id,
                customer.name,
                customer.language,
                customer.email,
                customer.phone,
                customer.social_handle,
                customer.country,
            ),
        )
        rng = random.Random(spec.seed)
        fields: dict[str, Any] = {
            "state": None,
            "assignee": None,
            "first": None,
            "answered": None,
            "closed": None,
            "unread": 0,
            "wrap_up_since": None,
            "patience_until": None,
            "callback_at": None,
            "last_customer": at,
            "updated": at,
        }
        if spec.channel in (Channel.PHONE, Channel.CHAT):
            self._live(row, spec, at, agent, rng, fields)
        elif spec.channel is Channel.CALLBACK:
            self._callback(row, spec, at, agent, rng, fields)
        else:
            self._mail(row, spec, at, agent, rng, fields)
        sla_from = max(at, fields["callback_at"] or at)
        self.conversations.append(
            (row, spec.channel.value, fields["state"].value, spec.subject, customer.id, customer.name,
             customer.language, spec.queue, int(spec.priority), ",".join(sorted(set(spec.tags))),
             fields["assignee"], at, fields["updated"], fields["first"], fields["last_customer"],
             fields["answered"], fields["closed"], self.sim.sla.due_at(spec.channel, sla_from, spec.priority),
             customer.phone if spec.channel is Channel.CALLBACK else "", fields["callback_at"],
             fields["patience_until"], fields["unread"], fields["wrap_up_since"])
        )  # fmt: skip
        if fields["closed"] is not None and fields["state"] is not State.ABANDONED:
            self._wrapup_and_survey(row, spec, at, agent, rng, fields)

    def _message(
        self,
        row: int,
        direction: Direction,
        body: str,
        at: float,
        author: str,
        *,
        email: EmailHeaders | None = None,
        mail: BuiltMail | None = None,
    ) -> int:
        self.next_message += 1
        message_row = self.next_message
        attachments = attachments_json(mail.attachments(message_row)) if mail else "[]"
        headers = mail.headers if mail else email
        self.messages.append(
            (message_row, row, direction.value, author, body, at, attachments,
             headers_json(headers) if headers else None, mail.raw if mail else None)
        )  # fmt: skip
        return message_row

    def _live(
        self, row: int, spec: ContactSpec, at: float, agent: str, rng: random.Random, f: dict[str, Any]
    ) -> None:
        chat = spec.channel is Channel.CHAT
        lang = self.sim.people.language_of(spec.customer)
        patience = spec.patience or 120.0
        wait = rng.expovariate(1.0 / (HISTORY_WAIT[spec.channel] * self.slow))
        if chat:
            self._message(row, Direction.INBOUND, spec.text, at, spec.customer.name)
            f["unread"] = 1
        else:
            self._message(
                row,
                Direction.SYSTEM,
                f"incoming call from {spec.customer.phone}, queue {spec.queue}",
                at,
                "system",
            )
        if at + min(wait, patience) > self.now:  # still ringing / waiting right now
            f["state"] = State.WAITING if chat else State.RINGING
            f["patience_until"] = at + patience
            return
        if wait > patience:
            gave_up = at + patience
            what = "customer left the chat" if chat else "caller hung up"
            self._message(
                row,
                Direction.SYSTEM,
                f"{what} after {format_duration(patience)} without an answer",
                gave_up,
                "system",
            )
            f.update(state=State.ABANDONED, closed=gave_up, updated=gave_up, patience_until=gave_up)
            return
        answered = at + wait
        handle = rng.lognormvariate(5.4 if not chat else 5.9, 0.5)  # a call ~4 min, a chat ~6 min
        end, wrap = answered + handle, rng.uniform(15.0, 90.0)
        f.update(assignee=agent, answered=answered, first=answered, updated=answered, unread=0)
        if chat:
            order = spec.order
            lines = (
                (Direction.OUTBOUND, rng.choice(lang.agent).format(order=order), answered, agent),
                (
                    Direction.INBOUND,
                    rng.choice(lang.followups).format(order=order),
                    answered + handle * 0.3,
                    spec.customer.name,
                ),
                (Direction.OUTBOUND, lang.agent[-1].format(order=order), answered + handle * 0.7, agent),
                (Direction.INBOUND, rng.choice(lang.bye), answered + handle * 0.9, spec.customer.name),
            )
            for direction, body, when, author in lines:
                if when > self.now:
                    break
                self._message(row, direction, body, when, author)
                f["updated"] = when
                if direction is Direction.INBOUND:
                    f["last_customer"] = when
                f["unread"] = f["unread"] + 1 if direction is Direction.INBOUND else 0
        else:
            self._message(row, Direction.SYSTEM, "call answered", answered, agent)
        if end > self.now:
            f["state"] = State.ACTIVE if chat else State.CONNECTED
            return
        self._message(row, Direction.SYSTEM, "chat ended" if chat else "call ended", end, agent)
        f.update(wrap_up_since=end, updated=end, unread=0)
        if end + wrap > self.now:
            f["state"] = State.WRAP_UP
            return
        f.update(state=State.ENDED, closed=end + wrap, updated=end + wrap, wrap_up_since=None)

    def _callback(
        self, row: int, spec: ContactSpec, at: float, agent: str, rng: random.Random, f: dict[str, Any]
    ) -> None:
        wished = at + (spec.callback_delay or 0.0)
        f["callback_at"] = wished
        self._message(row, Direction.SYSTEM, f"callback requested to {spec.customer.phone}", at, "system")
        called = wished + rng.uniform(60.0, 900.0) * self.slow
        if called > self.now or rng.random() < 0.08:  # not yet, or still to be retried
            f["state"] = State.SCHEDULED if spec.callback_delay else State.REQUESTED
            return
        end = called + rng.lognormvariate(5.3, 0.5)
        if end > self.now:
            f.update(state=State.DIALLING, assignee=agent, answered=called, first=called, updated=called)
            return
        self._message(row, Direction.SYSTEM, f"called back {spec.customer.phone}: answered", called, agent)
        f.update(state=State.DONE, assignee=agent, answered=called, first=called, closed=end, updated=end)

    def _mail(
        self, row: int, spec: ContactSpec, at: float, agent: str, rng: random.Random, f: dict[str, Any]
    ) -> None:
        people, customer = self.sim.people, spec.customer
        lang = people.language_of(customer)
        tz = people.country_of(customer).tz
        first_mail = customer_mail(
            rng, people, customer, subject=spec.subject, text=spec.text, at=at, attachments=spec.attachments
        )
        self._message(row, Direction.INBOUND, first_mail.body, at, customer.name, mail=first_mail)
        thread = [first_mail.headers.message_id]
        f["unread"] = 1
        median = 3600.0 if spec.channel is Channel.SOCIAL else 3 * 3600.0
        reply_at = at + rng.lognormvariate(math.log(median * self.slow), 0.8)
        first_name = customer.name.split(" ")[0]
        if reply_at - at > 6 * 3600.0 and rng.random() < 0.3 and at + (reply_at - at) * 0.6 <= self.now:
            when = at + (reply_at - at) * 0.6
            text = f"{lang.greeting}\n\n{rng.choice(lang.reminder)}\n\n{lang.signoff}\n{first_name}"
            quote = reply_quote(lang, customer.name, at, spec.text, tz)
            reminder = customer_mail(rng, people, customer, subject=f"Re: {spec.subject}", text=text, at=when,
                                     in_reply_to=thread[-1], references=tuple(thread), quote=quote)  # fmt: skip
            self._message(row, Direction.INBOUND, reminder.body, when, customer.name, mail=reminder)
            thread.append(reminder.headers.message_id)
            f.update(unread=2, last_customer=when, updated=when)
        if reply_at > self.now:
            if rng.random() < 0.3:
                f.update(state=State.OPEN, assignee=agent)
            else:
                f["state"] = State.NEW
            return
        answer = rng.choice(lang.agent[:1]).format(order=spec.order)
        self._agent_mail(row, spec, agent, answer, reply_at, thread)
        f.update(first=reply_at, updated=reply_at, unread=0, assignee=agent, state=State.PENDING)
        outcome = rng.random()
        if outcome < 0.55:
            solved = reply_at + rng.uniform(10.0, 600.0)
            if solved <= self.now:  # else it is still pending right now
                f.update(state=State.SOLVED, closed=solved, updated=solved)
            return
        if outcome < 0.8:  # the customer answers, quoting the reply: a thread of four
            back = reply_at + rng.lognormvariate(math.log(7200.0), 0.7)
            if back > self.now:
                return
            text = f"{lang.greeting}\n\n{rng.choice(lang.replies).format(order=spec.order)}\n\n{lang.signoff}\n{first_name}"
            quote = reply_quote(lang, SUPPORT_NAME, reply_at, answer, tz)
            mail = customer_mail(rng, people, customer, subject=f"Re: {spec.subject}", text=text, at=back,
                                 in_reply_to=thread[-1], references=tuple(thread), quote=quote)  # fmt: skip
            self._message(row, Direction.INBOUND, mail.body, back, customer.name, mail=mail)
            thread.append(mail.headers.message_id)
            f.update(state=State.OPEN, unread=1, last_customer=back, updated=back)
            final_at = back + rng.lognormvariate(math.log(5400.0), 0.6)
            if final_at > self.now:
                return
            self._agent_mail(row, spec, agent, lang.agent[-1].format(order=spec.order), final_at, thread)
            f.update(state=State.SOLVED, closed=final_at, updated=final_at, unread=0)

    def _agent_mail(
        self, row: int, spec: ContactSpec, agent: str, body: str, at: float, thread: list[str]
    ) -> None:
        message_id = f"<local-{row}-{at:.6f}@standardiste.local>"
        headers = EmailHeaders(
            message_id=message_id,
            in_reply_to=thread[-1],
            references=tuple(thread),
            from_addr=SUPPORT_ADDRESS,
            to=(spec.customer.email,),
            subject=f"Re: {spec.subject}",
        )
        self._message(row, Direction.OUTBOUND, body, at, agent, email=headers)
        thread.append(message_id)

    def _wrapup_and_survey(
        self, row: int, spec: ContactSpec, at: float, agent: str, rng: random.Random, f: dict[str, Any]
    ) -> None:
        closed, answered = f["closed"], f["answered"] or f["first"]
        if spec.channel not in EMAIL_LIKE:  # calls, chats and callbacks are wrapped up with a disposition
            disposition = "escalated" if rng.random() < 0.05 else DISPOSITIONS.get(spec.topic, "resolved")
            self.wrapups.append((row, agent, disposition, "", closed, closed - (answered or at)))
        if closed >= self.now - FRESH_SURVEY_SECONDS:
            self.csat_requests.append((row, closed))  # still fresh: the running simulator may answer it
            return
        if rng.random() >= CSAT_RESPONSE_RATE:
            return
        answered_at = closed + min(3600.0, rng.lognormvariate(5.0, 0.8))
        if answered_at > self.now:
            self.csat_requests.append((row, closed))
            return
        score = csat_score(
            rng,
            channel=spec.channel,
            priority=spec.priority,
            waited=(answered or closed) - at,
            handled=closed - (answered or at),
            sla=self.sim.sla,
        )
        lang = self.sim.people.language_of(spec.customer)
        self.csat.append(
            (
                row,
                spec.channel.value,
                score,
                csat_comment(rng, lang, score),
                answered_at,
                agent,
                spec.customer.id,
            )
        )


# ---------------------------------------------------------------------------------------------- helpers


def attachments_json(attachments: Sequence[Attachment]) -> str:
    return json.dumps(
        [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size, "ref": a.ref}
            for a in attachments
        ]
    )


def headers_json(email: EmailHeaders) -> str:
    return json.dumps(
        {
            "message_id": email.message_id,
            "in_reply_to": email.in_reply_to,
            "references": list(email.references),
            "from_addr": email.from_addr,
            "to": list(email.to),
            "cc": list(email.cc),
            "bcc": list(email.bcc),
            "subject": email.subject,
        }
    )


def _unquoted(body: str) -> str:
    """The new text of a message, without what it quoted (a quote of a quote stays out of replies)."""
    lines = body.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(">"):
            # Drop the "On ... wrote:" line above the quote as well.
            cut = index - 1 if index > 0 and lines[index - 1].strip() else index
            return "\n".join(lines[:cut]).rstrip()
    return body.rstrip()


def _renamed(attachment: MailAttachment, filename: str) -> MailAttachment:
    return replace(attachment, filename=filename) if filename else attachment


def _scenario_end(scenario: Scenario) -> float:
    """Seconds after the start when nothing scripted can still happen by itself (a patience running out)."""
    end = scenario.duration
    for contact in scenario.contacts:
        if contact.patience:
            end = max(end, contact.at + contact.patience)
    return end


def run_simulator(
    db: Path,
    *,
    rate: float,
    profile: str,
    seed: int | None,
    backfill: int,
    scenario: Path | None,
    duration: float | None = None,
    stop: threading.Event | None = None,
) -> None:
    """`standardiste simulate`: blocks until `stop` is set, `duration` has passed, the scenario is over, or
    Ctrl-C. Raises `ScenarioError` (every bad line listed) before writing anything if the scenario is bad."""
    script = load_scenario(scenario) if scenario else None
    stop = stop or threading.Event()
    with Simulator(db, rate=rate, profile=profile, seed=seed, scenario=script) as sim:
        if script is not None:
            what = (
                f"replaying {scenario} ({len(script.events)} events over {format_duration(script.duration)})"
            )
        else:
            what = f"{sim.rate:.1f} contacts/min, {profile} profile"
        print(f"simulating into {db}: {what}, seed {sim.seed} (Ctrl-C stops)", flush=True)
        if backfill:
            started = time.perf_counter()
            sim.backfill(backfill)
            print(f"backfilled {backfill} contacts in {time.perf_counter() - started:.1f} s", flush=True)
        reporter = threading.Thread(target=_report, args=(sim, stop), daemon=True)
        reporter.start()
        try:
            sim.run(stop, duration=duration)
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            reporter.join(timeout=2.0)
            print(f"stopped: {_summary(sim.stats)}", flush=True)


def _report(sim: Simulator, stop: threading.Event) -> None:
    """A line a minute, so that whoever runs `simulate` in a terminal sees it is alive."""
    last: Counter[str] = Counter()
    while not stop.wait(60.0):
        now = Counter(sim.stats)
        print(f"{time.strftime('%H:%M:%S')} last minute: {_summary(now - last)}", flush=True)
        last = now


def _summary(stats: Counter[str]) -> str:
    contacts = {k.partition(".")[2]: v for k, v in stats.items() if k.startswith("contact.")}
    total = sum(contacts.values())
    parts = ", ".join(f"{v} {k}" for k, v in sorted(contacts.items(), key=lambda kv: -kv[1]))
    return (
        f"{total} contacts ({parts or 'none'}), {stats['chat']} chat answers, {stats['mail']} mails, "
        f"{stats['abandoned']} abandoned, {stats['csat']} survey answers"
    )


__all__ = [
    "CHANNEL_SHARES",
    "CSAT_RESPONSE_RATE",
    "PROFILES",
    "SIM_TEAM",
    "Simulator",
    "csat_score",
    "run_simulator",
]
