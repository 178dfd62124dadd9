"""The contract kit: the checks every adapter passes against its real system, shipped with the package.

In the manner of fsspec's abstract tests and SQLAlchemy's dialect suite, an adapter's test module subclasses
`BackendContract` (a class named `Test...`, so that pytest collects it) and provides:

- a `backend` fixture: a connected backend on a fresh system, closed after the test;
- a `traffic` fixture: a `Traffic`, which makes customer traffic on that system the way the outside world
  does (a new conversation on a channel, a customer writing again), from another connection or process;
- `drop(backend)`: an async context manager during which the backend's link to its system is broken (a
  server stopped, a file failing); traffic made inside it must still arrive once the link is back;
- `reopen(backend)`: a new, unconnected instance on the same system and the same local state, as a console
  restarted on the same machine builds.

The kit needs pytest and pytest-asyncio (asyncio_mode = "auto"), the test extra; this module imports
neither, and nothing in the console imports this module. It drives the backend as the hub does
(`console/core/hub.py`), and checks what `backends/base.py` promises:

- every kind in `capabilities.commands` is carried out for a suitable conversation, never `Unsupported`;
  every other kind raises `Unsupported`;
- each change a command makes is confirmed by events within `confirm_within` seconds, and the events leave
  the console with the state a new snapshot shows;
- a repeated `key` is applied once, also by a restarted console;
- errors are typed: an unknown conversation is `NotFound` (`Invalid` for an id of the wrong shape), never a
  bare exception;
- ids are qualified with the backend's name and round-trip through `split_id`;
- after a dropped link, traffic made meanwhile arrives once, through events or the new snapshot.

A check that cannot hold for an adapter for a real reason is declared, with the reason, in the subclass's
`refused` (kinds that raise `Conflict`/`Invalid` on the kit's plain conversation) or `unconfirmed` (kinds
whose effect no event shows). Nothing is skipped silently: a declaration without a reason is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..console.core.model import Channel, Conversation, Presence, Priority, Skills, State, state_allowed
from .base import (
    Accept,
    AgentUpdated,
    Assign,
    Backend,
    BackendError,
    BackendStatus,
    CallbackOutcome,
    Claim,
    Command,
    CommandKind,
    CommandResult,
    Conflict,
    ConversationUpserted,
    CsatRecorded,
    EndChat,
    Event,
    HangUp,
    Hold,
    Invalid,
    LinkState,
    Merge,
    MessageAdded,
    Mute,
    Note,
    NotFound,
    PlaceCallback,
    RecordCsat,
    Release,
    Reply,
    RequestCsat,
    Resume,
    ScheduleCallback,
    SendDtmf,
    SetPresence,
    SetPriority,
    SetSkills,
    SetStatus,
    SnapshotLoaded,
    Snooze,
    Tags,
    Transfer,
    Typing,
    TypingChanged,
    Unsupported,
    Viewing,
    WrappedUp,
    WrapUp,
    qualify,
    split_id,
)


class Traffic(Protocol):
    """Customer traffic on the adapter's system, made as the outside world makes it."""

    # The channels it can open conversations on: those the backend serves, or the ones the test can drive.
    channels: Sequence[Channel]

    async def new_conversation(self, channel: Channel, token: str, *, customer: str = "ann") -> None:
        """A customer opens a conversation whose subject holds `token` and whose first message's body does.
        The same `customer` name is the same customer (for merges)."""
        ...

    async def customer_writes(self, conversation: Conversation, token: str) -> None:
        """The customer of `conversation` writes again; the message's body holds `token`."""
        ...


# Kinds that act on the agent, not on a conversation.
AGENT_KINDS = frozenset({CommandKind.PRESENCE, CommandKind.SET_SKILLS})
# Kinds whose success changes nothing the console shows: the survey's answer comes later, as CsatRecorded;
# tones reach the customer's line and change no state of the call (nor its transcript: a PIN is among them).
NO_VISIBLE_CHANGE = frozenset({CommandKind.REQUEST_CSAT, CommandKind.SEND_DTMF})


@dataclass(frozen=True, slots=True)
class _Recipe:
    """How the kit sets up a conversation for one kind: which channel, which commands first."""

    channels: tuple[Channel, ...] = ()
    before: tuple[CommandKind, ...] = ()


_PHONE = (Channel.PHONE,)
_RECIPES: dict[CommandKind, _Recipe] = {
    CommandKind.RELEASE: _Recipe(before=(CommandKind.CLAIM,)),
    CommandKind.ACCEPT: _Recipe(channels=(Channel.PHONE, Channel.CHAT)),
    CommandKind.HOLD: _Recipe(_PHONE, (CommandKind.ACCEPT,)),
    CommandKind.RESUME: _Recipe(_PHONE, (CommandKind.ACCEPT, CommandKind.HOLD)),
    CommandKind.MUTE: _Recipe(_PHONE, (CommandKind.ACCEPT,)),
    CommandKind.SEND_DTMF: _Recipe(_PHONE, (CommandKind.ACCEPT,)),
    CommandKind.HANG_UP: _Recipe(_PHONE, (CommandKind.ACCEPT,)),
    CommandKind.END_CHAT: _Recipe((Channel.CHAT,), (CommandKind.ACCEPT,)),
    CommandKind.WRAP_UP: _Recipe(_PHONE, (CommandKind.ACCEPT, CommandKind.HANG_UP)),
    CommandKind.SCHEDULE_CALLBACK: _Recipe((Channel.CALLBACK,)),
    CommandKind.PLACE_CALLBACK: _Recipe((Channel.CALLBACK,)),
    CommandKind.CALLBACK_OUTCOME: _Recipe((Channel.CALLBACK,), (CommandKind.PLACE_CALLBACK,)),
}


def _target_state(conversation: Conversation) -> State:
    for state in (State.PENDING, State.SOLVED, State.OPEN):
        if state is not conversation.state and state_allowed(conversation.channel, state):
            return state
    return conversation.state


def build_command(
    kind: CommandKind, conversation: Conversation, *, key: str = "", other: Conversation | None = None
) -> Command:
    """A plain, sensible command of `kind` on `conversation`, as an agent would send it."""
    cid = conversation.id
    common: dict[str, Any] = {"conversation_id": cid, "key": key}
    factories: dict[CommandKind, Callable[[], Command]] = {
        CommandKind.REPLY: lambda: Reply(**common, body=f"Contract kit reply {key or uuid.uuid4().hex[:8]}"),
        CommandKind.NOTE: lambda: Note(**common, body=f"Contract kit note {key or uuid.uuid4().hex[:8]}"),
        CommandKind.CLAIM: lambda: Claim(**common),
        CommandKind.ASSIGN: lambda: Assign(**common, assignee="contract-colleague"),
        CommandKind.RELEASE: lambda: Release(**common),
        CommandKind.TRANSFER: lambda: Transfer(**common, to_queue="contract"),
        CommandKind.ACCEPT: lambda: Accept(**common),
        CommandKind.HOLD: lambda: Hold(**common),
        CommandKind.RESUME: lambda: Resume(**common),
        CommandKind.MUTE: lambda: Mute(**common, muted=True),
        CommandKind.HANG_UP: lambda: HangUp(**common),
        CommandKind.END_CHAT: lambda: EndChat(**common),
        CommandKind.WRAP_UP: lambda: WrapUp(**common, disposition="resolved"),
        CommandKind.SET_STATUS: lambda: SetStatus(**common, state=_target_state(conversation)),
        CommandKind.SET_PRIORITY: lambda: SetPriority(**common, priority=Priority.URGENT),
        CommandKind.TAGS: lambda: Tags(**common, add=("contract-kit",)),
        CommandKind.SNOOZE: lambda: Snooze(**common, until=time.time() + 3600),
        CommandKind.PRESENCE: lambda: SetPresence(key=key, presence=Presence.AWAY, reason="contract kit"),
        CommandKind.SET_SKILLS: lambda: SetSkills(
            key=key, skills=Skills(channels={conversation.channel: 1}, languages=("en", "fr"))
        ),
        CommandKind.SCHEDULE_CALLBACK: lambda: ScheduleCallback(**common, at=time.time() + 3600),
        CommandKind.PLACE_CALLBACK: lambda: PlaceCallback(**common),
        CommandKind.CALLBACK_OUTCOME: lambda: CallbackOutcome(**common, reached=True),
        CommandKind.CSAT: lambda: RecordCsat(**common, score=5, comment="contract kit"),
        CommandKind.REQUEST_CSAT: lambda: RequestCsat(**common),
        CommandKind.TYPING: lambda: Typing(**common, typing=True),
        CommandKind.VIEWING: lambda: Viewing(**common),
        CommandKind.MERGE: lambda: Merge(**common, other_id=(other or conversation).id),
        CommandKind.SEND_DTMF: lambda: SendDtmf(**common, digits="1234#"),
    }
    return factories[kind]()


def _mentions(event: Event, conversation_id: str, me: str) -> bool:
    """Whether `event` is about that conversation (or about this agent, for the agent's own kinds)."""
    match event:
        case ConversationUpserted(conversation=c):
            return c.id == conversation_id
        case MessageAdded(message=m):
            return m.conversation_id == conversation_id
        case CsatRecorded(record=r) | WrappedUp(record=r):
            return r.conversation_id == conversation_id
        case TypingChanged(conversation_id=cid):
            return cid == conversation_id
        case AgentUpdated(agent=a):
            return a.id == me
    return False


def _shown(conversation: Conversation) -> tuple[Any, ...]:
    """What a queue row and the header show of a conversation (not `version`, which some adapters stamp)."""
    return (
        conversation.state,
        conversation.assignee,
        tuple(conversation.tags),
        conversation.priority,
        conversation.queue,
        conversation.snoozed_until,
        conversation.subject,
        conversation.customer_id,
    )


class Tail:
    """Reads `backend.events()` in the background, as the hub does, keeping everything in order."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.events: list[Event] = []
        self._changed = asyncio.Event()
        self.error: BaseException | None = None
        self._task = asyncio.create_task(self._run(), name=f"contract-tail-{backend.name}")

    async def _run(self) -> None:
        try:
            async for batch in self.backend.events():
                self.events.extend(batch)
                self._changed.set()
        except Exception as error:  # kept, so that a check fails with it instead of a silent stall
            self.error = error
            self._changed.set()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            found = predicate()
            if found:
                return found
            if self.error is not None:
                raise AssertionError(f"events() raised while waiting for {what}: {self.error!r}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {what} within {timeout} s; events: {_brief(self.events)}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))

    def upserts(self, token: str) -> dict[str, Conversation]:
        """The latest state of every conversation whose subject holds `token`, by id."""
        return {
            e.conversation.id: e.conversation
            for e in self.events
            if isinstance(e, ConversationUpserted) and token in e.conversation.subject
        }

    async def arrival(self, token: str, timeout: float) -> Conversation:
        found = await self.wait_for(lambda: self.upserts(token), timeout, f"conversation {token!r}")
        return next(iter(found.values()))

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


@contextlib.asynccontextmanager
async def watching(backend: Backend) -> AsyncIterator[Tail]:
    """Snapshot, then tail the events, as the hub does after connecting."""
    await backend.snapshot()
    tail = Tail(backend)
    try:
        yield tail
    finally:
        await tail.stop()


def _token(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


class BackendContract:
    """Subclass as `class TestMyAdapterContract(BackendContract)` and provide the fixtures named above."""

    # Seconds within which an event confirms a command, and traffic shows up.
    confirm_within: float = 5.0
    # Seconds within which traffic made during a drop shows up once the link is back (reconnect backoff).
    recover_within: float = 20.0
    # Per-adapter declarations, each with its reason (see the module docstring).
    refused: Mapping[CommandKind, str] = {}
    unconfirmed: Mapping[CommandKind, str] = {}

    # ---------------------------------------------------------------------------------- to provide

    def drop(self, backend: Backend) -> AbstractAsyncContextManager[None]:
        raise NotImplementedError(f"{type(self).__name__} must say how the link of its backend breaks")

    async def reopen(self, backend: Backend) -> Backend:
        raise NotImplementedError(
            f"{type(self).__name__} must say how a restarted console builds its backend"
        )

    # ---------------------------------------------------------------------------------- helpers

    def _declarations_have_reasons(self) -> None:
        for name in ("refused", "unconfirmed"):
            for kind, reason in getattr(self, name).items():
                assert str(reason).strip(), f"{name}[{kind}] needs its reason"

    def _channel(self, traffic: Traffic, backend: Backend, wanted: tuple[Channel, ...]) -> Channel:
        served = [c for c in traffic.channels if c in backend.capabilities.channels]
        assert served, f"the traffic makes no conversation on a channel {backend.name} serves"
        return next((c for c in wanted if c in served), served[0])

    async def _conversations(
        self, traffic: Traffic, tail: Tail, wanted: Sequence[tuple[str, Channel, str]]
    ) -> dict[str, Conversation]:
        """Make one conversation per (label, channel, customer) and wait for them all to arrive."""
        tokens = {label: _token(label) for label, _, _ in wanted}
        for label, channel, customer in wanted:
            await traffic.new_conversation(channel, tokens[label], customer=customer)
        found: dict[str, Conversation] = {}
        for label, token in tokens.items():
            found[label] = await tail.arrival(token, self.confirm_within)
        return found

    # ---------------------------------------------------------------------------------- checks

    async def test_declared_commands_are_carried_out_and_confirmed(
        self, backend: Backend, traffic: Traffic
    ) -> None:
        self._declarations_have_reasons()
        declared = sorted(backend.capabilities.commands)
        assert declared, f"{backend.name} declares no command"
        me = (await backend.snapshot()).me or ""
        async with watching(backend) as tail:
            plans: dict[CommandKind, tuple[Channel, tuple[CommandKind, ...]]] = {}
            wanted: list[tuple[str, Channel, str]] = []
            for kind in declared:
                recipe = _RECIPES.get(kind, _Recipe())
                channel = self._channel(traffic, backend, recipe.channels)
                plans[kind] = (channel, tuple(k for k in recipe.before if k in backend.capabilities.commands))
                wanted.append((kind.value, channel, f"customer-{kind.value}"))
            if CommandKind.MERGE in plans:
                wanted.append(("merge-other", plans[CommandKind.MERGE][0], "customer-merge"))
            conversations = await self._conversations(traffic, tail, wanted)

            outcomes: dict[CommandKind, tuple[int, CommandResult | BackendError]] = {}
            for kind in declared:
                channel, before = plans[kind]
                conversation = conversations[kind.value]
                for step in before:
                    try:
                        await backend.perform(build_command(step, conversation))
                    except BackendError as error:
                        raise AssertionError(
                            f"{step.value} (to set up {kind.value} on {channel.value}) failed: {error!r}"
                        ) from error
                start = len(tail.events)
                other = conversations.get("merge-other") if kind is CommandKind.MERGE else None
                command = build_command(kind, conversation, other=other)
                try:
                    outcome: CommandResult | BackendError = await backend.perform(command)
                except (Unsupported, NotFound) as error:
                    raise AssertionError(
                        f"declared {kind.value} raised {error!r} on {conversation.id}"
                    ) from error
                except BackendError as error:
                    outcome = error
                except Exception as error:
                    raise AssertionError(f"{kind.value} raised an untyped {error!r}") from error
                outcomes[kind] = (start, outcome)

            for kind, (_, outcome) in outcomes.items():
                if isinstance(outcome, BackendError):
                    assert isinstance(outcome, Conflict | Invalid), f"{kind.value}: {outcome!r}"
                    assert kind in self.refused, (
                        f"{kind.value} was refused on the kit's {plans[kind][0].value} conversation "
                        f"({outcome!r}); declare it in `refused` with the reason if that is right"
                    )
                else:
                    assert outcome.ok, f"{kind.value} returned not ok: {outcome!r}"

            done = {
                k: start
                for k, (start, outcome) in outcomes.items()
                if isinstance(outcome, CommandResult)
                and k not in self.unconfirmed
                and k not in NO_VISIBLE_CHANGE
            }
            for kind, start in done.items():
                cid = conversations[kind.value].id
                await tail.wait_for(
                    lambda cid=cid, start=start: any(_mentions(e, cid, me) for e in tail.events[start:]),
                    self.confirm_within,
                    f"event confirming {kind.value} on {cid}",
                )
            await self._events_match_a_snapshot(backend, tail, [c.id for c in conversations.values()])

    async def _events_match_a_snapshot(self, backend: Backend, tail: Tail, ids: Sequence[str]) -> None:
        """What the events said last of each conversation is what a snapshot says now (the store changes only
        through events, so the console would show the backend's state)."""
        snapshot = await backend.snapshot()
        now = {c.id: c for c in snapshot.conversations if c.id in ids}
        agents = {a.id: a for a in snapshot.agents}

        def in_step() -> bool:
            last: dict[str, Conversation] = {}
            last_agent: dict[str, Any] = {}
            for event in tail.events:
                if isinstance(event, ConversationUpserted):
                    last[event.conversation.id] = event.conversation
                elif isinstance(event, AgentUpdated):
                    last_agent[event.agent.id] = event.agent
            conversations_ok = all(cid in last and _shown(last[cid]) == _shown(c) for cid, c in now.items())
            agents_ok = all(last_agent[a].presence == agents[a].presence for a in last_agent if a in agents)
            return conversations_ok and agents_ok

        await tail.wait_for(in_step, self.confirm_within, "events in step with a new snapshot")

    async def test_undeclared_commands_are_unsupported(self, backend: Backend, traffic: Traffic) -> None:
        undeclared = [k for k in CommandKind if k not in backend.capabilities.commands]
        async with watching(backend) as tail:
            channel = self._channel(traffic, backend, ())
            conversation = (await self._conversations(traffic, tail, [("undeclared", channel, "ann")]))[
                "undeclared"
            ]
            for kind in undeclared:
                try:
                    await backend.perform(build_command(kind, conversation, other=conversation))
                except Unsupported:
                    continue
                except Exception as error:
                    raise AssertionError(
                        f"undeclared {kind.value} raised {error!r}, not Unsupported"
                    ) from error
                raise AssertionError(f"undeclared {kind.value} was carried out")

    async def test_a_repeated_key_is_applied_once(self, backend: Backend, traffic: Traffic) -> None:
        kinds = [k for k in (CommandKind.NOTE, CommandKind.REPLY) if k in backend.capabilities.commands]
        assert kinds, f"{backend.name} declares neither note nor reply: the kit has no command to repeat"
        async with watching(backend) as tail:
            channel = self._channel(traffic, backend, (Channel.EMAIL,))
            conversation = (await self._conversations(traffic, tail, [("keys", channel, "ann")]))["keys"]
            commands = [
                build_command(k, conversation, key=f"contract-{k.value}-{uuid.uuid4().hex}") for k in kinds
            ]
            for command in commands:
                first = await backend.perform(command)
                again = await backend.perform(command)
                assert again.ok, f"{command.kind.value} again: {again!r}"
                if first.message is not None and again.message is not None:
                    assert again.message.id == first.message.id, f"{command.kind.value} made a second message"
            bodies = [c.body for c in commands]  # type: ignore[attr-defined]
            await tail.wait_for(
                lambda: all(
                    any(isinstance(e, MessageAdded) and e.message.body == b for e in tail.events)
                    for b in bodies
                ),
                self.confirm_within,
                "the messages of the keyed commands",
            )
            await asyncio.sleep(0.5)  # a second copy would be announced by now
            for body in bodies:
                announced = [e for e in tail.events if isinstance(e, MessageAdded) and e.message.body == body]
                assert len(announced) == 1, f"{body!r} announced {len(announced)} times"
            assert _count(await backend.history(conversation.id), bodies) == dict.fromkeys(bodies, 1)

        # A restarted console (the outbox replays what it had not seen confirmed) applies nothing again.
        await backend.close()
        restarted = await self.reopen(backend)
        await restarted.connect()
        try:
            await restarted.snapshot()
            for command in commands:
                assert (await restarted.perform(command)).ok
            counted = _count(await restarted.history(conversation.id), bodies)
            assert counted == dict.fromkeys(bodies, 1), f"after a restart: {counted}"
        finally:
            await restarted.close()

    async def test_errors_are_typed(self, backend: Backend, traffic: Traffic) -> None:
        await backend.snapshot()
        ghost = Conversation(
            id=qualify(backend.name, "999999999"),
            channel=next(iter(sorted(backend.capabilities.channels))),
            state=State.NEW,
            subject="nobody",
            customer_id=qualify(backend.name, "nobody"),
            customer_name="nobody",
            language="en",
            queue="general",
            created_at=0.0,
            updated_at=0.0,
        )
        shapes = {
            ghost.id: (NotFound,),
            qualify(backend.name, "no-such-conversation"): (NotFound, Invalid),
            "unqualified-id": (NotFound, Invalid),
            qualify("elsewhere", "1"): (NotFound, Invalid),
        }
        for kind in sorted(backend.capabilities.commands - AGENT_KINDS):
            for cid, allowed in shapes.items():
                command = build_command(kind, replace(ghost, id=cid), other=ghost)
                try:
                    await backend.perform(command)
                except allowed:
                    continue
                except Exception as error:
                    raise AssertionError(
                        f"{kind.value} on {cid!r} raised {error!r}, not {allowed}"
                    ) from error
                raise AssertionError(f"{kind.value} on {cid!r} was carried out")
        for cid, allowed in shapes.items():
            try:
                await backend.history(cid)
            except allowed:
                continue
            except Exception as error:
                raise AssertionError(f"history of {cid!r} raised {error!r}, not {allowed}") from error
            raise AssertionError(f"history of {cid!r} returned instead of raising {allowed}")

    async def test_ids_are_qualified_with_the_backend_name(self, backend: Backend, traffic: Traffic) -> None:
        async with watching(backend) as tail:
            channel = self._channel(traffic, backend, ())
            made = await self._conversations(traffic, tail, [("ids", channel, "ann")])
            await traffic.customer_writes(made["ids"], "ids-again")
            await tail.wait_for(
                lambda: any(
                    isinstance(e, MessageAdded) and "ids-again" in e.message.body for e in tail.events
                ),
                self.confirm_within,
                "the customer's second message",
            )
            snapshot = await backend.snapshot()
            ids = [c.id for c in snapshot.conversations]
            ids += [e.conversation.id for e in tail.events if isinstance(e, ConversationUpserted)]
            ids += [e.message.conversation_id for e in tail.events if isinstance(e, MessageAdded)]
            ids += [m.conversation_id for m in await backend.history(made["ids"].id)]
            assert ids
            for cid in ids:
                name, native = split_id(cid)
                assert name == backend.name, f"{cid!r} is not qualified with {backend.name!r}"
                assert qualify(name, native) == cid
        for bad in ("no-colon", ":42", f"{backend.name}:"):
            try:
                split_id(bad)
            except Invalid:
                continue
            raise AssertionError(f"split_id({bad!r}) did not refuse it")

    async def test_a_queue_head_is_the_snapshot_s_first_open_rows_in_queue_order(
        self, backend: Backend, traffic: Traffic
    ) -> None:
        """`QueueHead` (optional): what the console draws before the snapshot must be its exact beginning."""
        from ..console.core.views import queue_key
        from .optional import QueueHead

        if not isinstance(backend, QueueHead):
            return  # the console waits for the snapshot: nothing to check
        async with watching(backend) as tail:
            channels = [self._channel(traffic, backend, ()) for _ in range(3)]
            await self._conversations(traffic, tail, [(f"head-{n}", c, "ann") for n, c in enumerate(channels)])
        snapshot = await backend.snapshot()
        opened = sorted((c for c in snapshot.conversations if not c.is_closed), key=queue_key)
        for limit in (1, 2, len(opened) + 1):
            head = (await backend.queue_head(limit)).conversations
            assert len(head) == min(limit, len(opened))
            assert [queue_key(c) for c in head] == [queue_key(c) for c in opened[:limit]]
            assert {c.id for c in head} <= {c.id for c in snapshot.conversations}

    async def test_events_resume_after_a_dropped_link(self, backend: Backend, traffic: Traffic) -> None:
        from ..console.core.hub import Hub
        from ..console.core.store import Store

        # The hub connects by itself: give it the backend as it takes one, not connected.
        await backend.close()
        hub, store = Hub([backend]), Store()
        seen: list[Event] = []
        await hub.start()

        async def take() -> None:
            """What the hub queued, into the store, as the app's drain does (the queue is bounded: the hub
            waits for this before it reads on)."""
            batch = hub.drain()
            seen.extend(batch)
            store.apply(batch)
            if not batch:
                await asyncio.sleep(0.05)

        async def until(predicate: Callable[[], Any], timeout: float, what: str) -> None:
            deadline = time.monotonic() + timeout
            while not predicate():
                assert time.monotonic() < deadline, f"no {what} within {timeout} s; seen: {_brief(seen)}"
                await take()

        def with_token(token: str) -> list[Conversation]:
            return [c for c in store.conversations.values() if token in c.subject]

        def downs() -> list[BackendStatus]:
            return [e for e in seen if isinstance(e, BackendStatus) and e.state is LinkState.DOWN]

        channel = self._channel(traffic, backend, (Channel.EMAIL,))
        before, during, after = _token("before"), _token("during"), _token("after")
        try:
            await until(
                lambda: any(isinstance(e, BackendStatus) and e.state is LinkState.CONNECTED for e in seen),
                self.recover_within,
                "connection",
            )
            await traffic.new_conversation(channel, before)
            await until(lambda: with_token(before), self.confirm_within, f"conversation {before}")
            first = with_token(before)[0]
            async with self.drop(backend):
                await until(downs, self.recover_within, "BackendStatus down: drop() did not break the link")
                await traffic.new_conversation(channel, during)
                await traffic.customer_writes(first, f"{during}-again")
            await until(
                lambda: with_token(during), self.recover_within, f"conversation {during} made while down"
            )
            await traffic.new_conversation(channel, after)
            await until(
                lambda: with_token(after), self.recover_within, f"conversation {after} after the drop"
            )
            settled = time.monotonic() + 0.5  # a duplicate would be announced by now
            while time.monotonic() < settled:
                await take()

            for token in (before, during, after):
                assert len(with_token(token)) == 1, f"{token} is {len(with_token(token))} conversations"
            announced = [e.message.id for e in seen if isinstance(e, MessageAdded)]
            assert len(announced) == len(set(announced)), f"messages announced twice: {announced}"
            again = f"{during}-again"
            history = await backend.history(first.id)
            assert sum(again in m.body for m in history) == 1, f"{again} in {[m.body for m in history]}"
            history = await backend.history(with_token(during)[0].id)
            assert sum(during in m.body for m in history) == 1, f"{during} in {[m.body for m in history]}"
        finally:
            await hub.close()


def _brief(events: Sequence[Event]) -> str:
    """Events for a failure message: a snapshot by its size, not its 100 conversations."""
    shown = [
        f"SnapshotLoaded({len(e.snapshot.conversations)} conversations)"
        if isinstance(e, SnapshotLoaded)
        else repr(e)
        for e in events
    ]
    return "\n".join(shown)[-4000:]


def _count(messages: Sequence[Any], bodies: Sequence[str]) -> dict[str, int]:
    return {body: sum(m.body == body for m in messages) for body in bodies}


__all__ = [
    "AGENT_KINDS",
    "NO_VISIBLE_CHANGE",
    "BackendContract",
    "Tail",
    "Traffic",
    "build_command",
    "watching",
]
