"""What the simulated customers do once their contact is open: callers and chatters who give up, chat
customers answering each agent reply (typing first), mail customers writing again or answering in the thread,
and satisfaction surveys answered after the resolution.

`CustomerReactions` is mixed into `Simulator` (simulator.py): it uses the simulator's workspace connection,
its tracked conversations, its schedule of actions and its statistics.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ....console.core.model import Channel, CsatRecord, Direction, Priority, State
from ....console.core.sla import SlaPolicy, format_duration
from ..rows import qualify
from .mime_factory import MailAttachment
from .people import EMAIL_LIKE, SUPPORT_NAME, ContactSpec, Language, customer_mail, reply_quote

# About a third of customers answer a satisfaction survey.
CSAT_RESPONSE_RATE = 0.35
CSAT_SCAN_SECONDS = 5.0
# A chat customer answers this many agent replies (the last answer is a goodbye).
CHAT_ROUNDS = (2, 4)
STILL_THERE_SHARE = 0.5  # an unanswered chatter asks "anyone there?" before leaving
EMAIL_REPLY_SHARE = 0.45  # a mail customer answers the agent's reply
EMAIL_REMINDER_SHARE = 0.15  # a mail customer with no answer yet writes again


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


class CustomerReactions:
    """Mixed into `Simulator`: abandonment, customers' answers and survey answers."""

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


def _unquoted(body: str) -> str:
    """The new text of a message, without what it quoted (a quote of a quote stays out of replies)."""
    lines = body.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(">"):
            # Drop the "On ... wrote:" line above the quote as well.
            cut = index - 1 if index > 0 and lines[index - 1].strip() else index
            return "\n".join(lines[:cut]).rstrip()
    return body.rstrip()
