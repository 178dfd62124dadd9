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

The customers' reactions (chat answers, abandonment, mail replies, surveys) are in simulated_reactions.py,
the backfilled history in simulated_backfill.py; both are mixed into `Simulator`.
"""

from __future__ import annotations

import heapq
import math
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ....console.core.model import Channel, CsatRecord, Customer, Direction, State
from ....console.core.sla import SlaPolicy, format_duration
from ..database import Target
from ..rows import attachments_to_json as attachments_json
from ..rows import qualify
from ..workspace import Workspace
from .backfill import SIM_TEAM, HistoryBackfill
from .mime_factory import BuiltMail
from .people import (
    CHANNEL_SHARES,
    EMAIL_LIKE,
    ContactFactory,
    ContactSpec,
    People,
    customer_mail,
    load_people,
    make_attachment,
)
from .reactions import (
    CHAT_ROUNDS,
    CSAT_RESPONSE_RATE,
    CSAT_SCAN_SECONDS,
    EMAIL_REMINDER_SHARE,
    STILL_THERE_SHARE,
    CustomerReactions,
    _Action,
    _Tracked,
    csat_score,
)
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
from .scenario_build import rehearse, renamed, scripted_spec

Clock = Callable[[], float]

# Contacts per order: about one in twelve on an ordinary day, one in five at Christmas (the seeds).
PROFILES: dict[str, float] = {"normal": 1.0, "christmas": 2.5}
# Conversations closed this long ago are forgotten (their customers do nothing more): memory stays flat in
# a day-long demo.
FORGET_CLOSED_SECONDS = 600.0


class Simulator(CustomerReactions, HistoryBackfill):
    """Feeds a workspace file. Call `step()` every half second or so from one thread, or `run(stop)`.

    The instance owns its `Workspace` connection: use it from one thread at a time (it may be created in one
    thread and stepped in another). With a scenario, every contact and mail is built first (`rehearse`):
    one that cannot be raises `ScenarioError` before the workspace file is even opened.
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
        self.start = clock() if start is None else start
        self.profile = profile
        self.rate = rate * PROFILES[profile]  # contacts per minute
        self.sla = sla or SlaPolicy()
        self.people = people or load_people()
        # All or nothing: a scenario is built once in full before anything is written.
        self._specs = rehearse(scenario, self.seed, self.people, self.start) if scenario is not None else {}
        self.ws = Workspace(path, clock=clock)
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
        spec = self._specs.pop(event.ref, None)  # the rehearsal's, the same by construction
        return spec if spec is not None else scripted_spec(event, self.seed, self.people)

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
            renamed(
                make_attachment(tracked.rng, r.kind, tracked.lang, tracked.spec.customer, tracked.spec.order),
                r.filename,
            )
            for r in event.attachments
        )
        self._customer_mail(tracked, event.body, at, attachments)


# ---------------------------------------------------------------------------------------------- helpers


def _scenario_end(scenario: Scenario) -> float:
    """Seconds after the start when nothing scripted can still happen by itself (a patience running out)."""
    end = scenario.duration
    for contact in scenario.contacts:
        if contact.patience:
            end = max(end, contact.at + contact.patience)
    return end


def run_simulator(
    db: Target,
    *,
    rate: float,
    profile: str,
    seed: int | None,
    backfill: int,
    scenario: Path | None,
    duration: float | None = None,
    stop: threading.Event | None = None,
    backfill_hours: float = 8.0,
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
            sim.backfill(backfill, hours=backfill_hours)
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
