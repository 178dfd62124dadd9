"""The console's book of calls on one Asterisk: the calls by id and by channel, the conversation changes they
make (kept in the local file, versioned), their messages and customers, and the ARI client they talk through.

The pieces above it (events.py: what ARI says happens to calls; commands.py: what the agent asks; restarts.py:
rebuilding after a reconnect; adapter.py: the life cycle) all work on this state, in one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ...console.core.model import Conversation, Customer, Direction, Message, State
from ..base import (
    BackendError,
    ConversationUpserted,
    Event,
    Invalid,
    MessageAdded,
    NotFound,
    Unavailable,
    qualify,
    split_id,
)
from . import wire
from .ari import Ari
from .calls import Call
from .directory import normal
from .local_state import LocalState
from .settings import AsteriskSettings
from .team import TeamQueue

LIVE = frozenset({State.CONNECTED, State.ON_HOLD})
# Ended calls stay in the snapshot this long (today's missed calls, wrap-ups after a restart); their notes
# and records stay in the local file for good.
SHOW_CLOSED_SECONDS = 24 * 3600


def caller_id(conversation: Conversation) -> str:
    """The caller shown on the agent's phone; the name is the caller's own text: no quotes or brackets."""
    name = "".join(ch for ch in conversation.customer_name if ch not in '"<>\\' and ch.isprintable())[:60]
    number = "".join(ch for ch in conversation.customer_id.partition(":tel:")[2] if ch in "+0123456789")
    return f'"{name}" <{number}>'


class CallState:
    """The calls one console follows, and the helpers every part of the adapter changes them with."""

    name: str
    config: AsteriskSettings
    agent_id: str
    data_dir: Path
    _secret: Callable[[], str]
    _ari: Ari | None
    _state: LocalState | None
    _calls: dict[str, Call]  # by native id
    _by_channel: dict[str, str]  # a customer channel id -> native id
    _customers: dict[str, Customer]
    _version: int
    _inbox: asyncio.Queue[Any]
    _out: asyncio.Queue[list[Event] | BaseException | None]
    # In a team (settings `team`): the shared routing point, and the websocket of the customers' application
    # while this console holds it (teamwork.py).
    team: TeamQueue | None
    _queue_ari: Ari | None

    @property
    def leg_app(self) -> str:
        """The application this console's websocket registers, and its legs and taken calls go into: the
        dialplan's alone, or in a team `<app>-<agent>` (the customers' application is shared)."""
        if self.team is None:
            return self.config.app
        return f"{self.config.app}-{re.sub(r'[^A-Za-z0-9_.-]', '_', self.agent_id)}"

    # Teamwork's (teamwork.py), called by the events and commands: without a team they do nothing.
    async def _queue_event(self, message: dict[str, Any]) -> list[Event]:
        return []

    async def _unclaim(self, call: Call, queue: str | None = None) -> None:
        return None

    async def _team_finish(self, call: Call, state: State) -> None:
        return None

    async def _team_done(self, call: Call) -> None:
        return None

    async def _team_answered(self, call: Call) -> bool:
        return True

    async def _team_adopt(self) -> None:
        return None

    @property
    def ari(self) -> Ari:
        if self._ari is None:
            raise Unavailable(f"{self.name} is not connected to Asterisk")
        return self._ari

    def _emit(self, events: list[Event]) -> None:
        if events:
            self._out.put_nowait(events)

    # ------------------------------------------------------------------------------------------ state

    def _id(self, native: str) -> str:
        return qualify(self.name, native)

    def _update(self, call: Call, **changes: Any) -> ConversationUpserted:
        self._version += 1
        call.conversation = call.conversation.evolve(updated_at=time.time(), version=self._version, **changes)
        assert self._state is not None
        self._state.save([call.conversation])
        return ConversationUpserted(call.conversation)

    def _message(
        self,
        call: Call,
        body: str,
        *,
        direction: Direction = Direction.SYSTEM,
        author: str = "",
        message_id: str = "",
    ) -> MessageAdded | None:
        assert self._state is not None
        message = Message(
            message_id or f"{call.conversation.id}:{uuid.uuid4().hex[:12]}",
            call.conversation.id,
            direction,
            author or ("customer" if direction is Direction.INBOUND else self.name),
            body,
            time.time(),
        )
        return MessageAdded(message) if self._state.add_message(message) else None

    def _customer(self, channel: wire.Channel) -> Customer:
        """The caller: a customer of the directory when their number is in it, else as the caller id says."""
        number = normal(channel.caller_number.strip()) if channel.caller_number.strip() else ""
        native = f"tel:{number}" if number.strip("+") else f"anon:{channel.id}"
        known = self.config.directory.get(number) if number else None
        customer = Customer(
            qualify(self.name, native),
            known.name if known else channel.caller_name.strip() or number or "unknown caller",
            language=(known.language if known and known.language else self.config.language),
            email=known.email if known else "",
            phone=number,
        )
        self._customers[customer.id] = customer
        return customer

    def _language(self, customer: Customer, queue: str) -> str:
        known = self.config.directory.get(customer.phone) if customer.phone else None
        if known is not None and known.language:
            return known.language  # what the customer speaks, known, before any guess from the queue
        return self.config.language_of(customer.phone, queue)

    def _call(self, conversation_id: str) -> Call:
        backend, native = split_id(conversation_id)
        call = self._calls.get(native) if backend == self.name else None
        if call is None:
            raise NotFound(f"no call {conversation_id} on {self.name}")
        return call

    async def _quietly(self, request: Awaitable[Any]) -> None:
        with contextlib.suppress(BackendError):
            await request

    def _phone_of(self, agent: str) -> str:
        if agent == self.agent_id:
            return self.config.phone
        phone = self.config.agent_phones.get(agent)
        if phone is None:
            raise Invalid(f"{agent!r} has no phone in agent_phones of [workspaces.{self.name}]")
        return phone
