"""A day's history written at once by `Simulator.backfill`: most contacts closed (answered, wrapped up, some
surveyed), some abandoned, a realistic share still open, handled by simulated colleagues (`SIM_TEAM`).

Rows are built in memory with ids assigned up front (`_History`) and written in batched inserts, one
transaction per batch, so consoles on the same file are held up only briefly.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any, Protocol

from ....console.core.model import Agent, Channel, Direction, EmailHeaders, Seniority, Skills, State
from ....console.core.sla import format_duration
from ..rows import attachments_to_json as attachments_json
from ..rows import capacity_to_json, email_to_json, skills_to_json
from ..workspace import Workspace
from .mime_factory import BuiltMail
from .people import (
    EMAIL_LIKE,
    SUPPORT_ADDRESS,
    SUPPORT_NAME,
    ContactSpec,
    customer_mail,
    reply_quote,
)
from .reactions import CSAT_RESPONSE_RATE, csat_comment, csat_score

if TYPE_CHECKING:
    from collections import Counter
    from collections.abc import Callable

    from ....console.core.sla import SlaPolicy
    from .people import ContactFactory, People

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


class BackfillHost(Protocol):
    """What the backfill takes from the simulator that runs it (engine.py)."""

    ws: Workspace
    seed: int
    profile: str
    clock: Callable[[], float]
    factory: ContactFactory
    people: People
    sla: SlaPolicy
    stats: Counter[str]
    _message_mark: int

    def _max_id(self, table: str) -> int: ...

    def _ensure_team(self) -> None: ...


class HistoryBackfill:
    """Mixed into `Simulator`: `backfill(n)` and the simulated team it needs."""

    def backfill(self: BackfillHost, count: int, *, hours: float = 8.0, now: float | None = None, batch: int = 2000) -> int:
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

    def _ensure_team(self: BackfillHost) -> None:
        with self.ws.transaction():
            for agent_id, name, languages in SIM_TEAM:
                agent = Agent(
                    id=agent_id,
                    name=name,
                    skills=Skills({c: 2 for c in Channel}, languages, Seniority.CONFIRMED),
                )
                self.ws.db.execute(
                    "INSERT INTO agents (id, name, skills, capacity, presence, presence_since, last_seen) "
                    "VALUES (?, ?, ?, ?, 'offline', ?, ?) ON CONFLICT DO NOTHING",
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
        self, sim: BackfillHost, conversation_base: int, message_base: int, now: float, christmas: bool
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
            "INSERT INTO csat_requests (conversation_id, requested_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
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
             email_to_json(headers) if headers else None, mail.raw if mail else None)
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
