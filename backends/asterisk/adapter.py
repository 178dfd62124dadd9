"""`AsteriskBackend`: the phone queue on a real Asterisk, over ARI (REST + the events websocket).

A customer's call enters the Stasis application with a queue argument and rings in the console; the queue
(order, waiting time) is the console's. Accepting rings the agent's phone endpoint and bridges it with the
caller when it answers. Hold, mute, transfer and hang-up are ARI calls on those channels; notes, wrap-ups and
callback requests are kept in a local SQLite file (local_state.py), since Asterisk keeps none. How each action
maps onto ARI: docs/asterisk.md.

Events: a reader task puts each checked ARI event (wire.py) in a queue; one processor task applies them in
order and puts the console's events in the queue `events()` reads. Commands put theirs there too. When the
websocket goes away `events()` raises and the hub reconnects; the first snapshot after a connect rebuilds
the calls from `GET /channels` and `/bridges` by their channel ids (calls.py), so nothing is lost or doubled.

The adapter is put together from one piece per responsibility, each a class the next one builds on:
state.py (the book of calls and the helpers that change it), events.py (what ARI's events do to calls, and
the legs and bridges made for them), commands.py (the contract's commands), restarts.py (the rebuild after a
connect); this module keeps the life cycle (connect, snapshot, events, close) and the reading.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ...console.core.model import Channel, Conversation, Customer, Message
from ..base import (
    Backend,
    BackendContext,
    BackendError,
    Capabilities,
    Event,
    Snapshot,
    Unavailable,
)
from ..local.database import as_target, has_password, is_postgres, shown
from ..setting import Setting
from ..settings import secret_name
from .ari import Ari, stop_task
from .calls import Call
from .commands import SUPPORTED, CallCommands
from .local_state import KEEP_CLOSED_SECONDS, LocalState
from .restarts import Restarts
from .settings import SETTINGS, AsteriskSettings, parse_settings
from .team import TeamQueue

__all__ = ["SUPPORTED", "AsteriskBackend"]

log = logging.getLogger(__name__)


class AsteriskBackend(CallCommands, Restarts, Backend):
    capabilities = Capabilities(channels=frozenset({Channel.PHONE, Channel.CALLBACK}), commands=SUPPORTED)
    settings = SETTINGS

    def __init__(
        self,
        name: str,
        settings: AsteriskSettings,
        *,
        agent_id: str,
        data_dir: Path,
        secret: Callable[[], str],
        team_password: Callable[[], str | None] | None = None,
    ) -> None:
        self.name = name
        self.config = settings
        self.agent_id = agent_id
        self.data_dir = Path(data_dir)
        self._secret = secret
        self._ari: Ari | None = None
        self._state: LocalState | None = None
        self._calls: dict[str, Call] = {}  # by native id
        self._by_channel: dict[str, str] = {}  # a customer channel id -> native id
        self._customers: dict[str, Customer] = {}
        self._version = 0
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._out: asyncio.Queue[list[Event] | BaseException | None] = asyncio.Queue()
        self._processor: asyncio.Task[None] | None = None
        self._rebuilt = False
        self.team = (
            TeamQueue(settings.team, self.workspace_id, password=team_password) if settings.team else None
        )
        self._queue_ari = None
        self._team_init()

    @classmethod
    def secrets_for(cls, table: Mapping[str, Any]) -> list[Setting]:
        """ARI's password; and the team's PostgreSQL password when `team` is a database whose DSN has none."""
        team = table.get("team")
        needs_team = isinstance(team, str) and is_postgres(team.strip()) and not has_password(team.strip())
        return [s for s in cls.settings if s.secret and (s.name != "team_password" or needs_team)]

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: BackendContext) -> AsteriskBackend:
        parsed = parse_settings(name, settings)
        team_key = secret_name(name, SETTINGS, "team_password")

        def team_password() -> str | None:
            if not is_postgres(parsed.team) or has_password(parsed.team):
                return None
            try:
                return context.secret(team_key)
            except (
                Exception
            ):  # nothing stored, or no keyring: PGPASSWORD, PGPASSFILE or ~/.pgpass may have it
                return None

        return cls(
            name,
            parsed,
            agent_id=context.agent_id,
            data_dir=context.data_dir,
            # Asked for at connect: a missing password is an AuthError the console shows, not a crash.
            secret=lambda: context.secret(secret_name(name, SETTINGS, "password")),
            team_password=team_password,
        )

    @property
    def workspace_id(self) -> str:
        return f"asterisk:{self.config.url}#{self.config.app}"

    # ------------------------------------------------------------------------------------------ life cycle

    async def connect(self) -> None:
        await self.close()
        if self._state is None:
            self._state = LocalState(self.data_dir / f"asterisk-{self.name}.sqlite")
            self._version = self._state.last_version()
            self._load_stored()
        if self.team is not None:
            try:
                await self.team.open()
            except Exception as error:  # the team's database: a file, or a PostgreSQL server away
                raise Unavailable(
                    f"cannot open the team's queue {shown(as_target(self.team.target))}: {error}"
                ) from None
        self._inbox, self._out = asyncio.Queue(), asyncio.Queue()
        ari = Ari(self.config.url, self.config.user, self._secret(), self.leg_app, self.config.timeout)
        try:
            await ari.request("GET", "/asterisk/info", what="the login check")
            inbox = self._inbox
            # The websocket first: what happens while the snapshot is read arrives after it, not lost.
            await ari.open_events(inbox.put_nowait, inbox.put_nowait)
        except BaseException:
            await ari.close()
            raise
        self._ari = ari
        self._rebuilt = False

    async def close(self) -> None:
        processor, self._processor = self._processor, None
        if processor is not None:
            await stop_task(processor)
        await self._stop_team()
        ari, self._ari = self._ari, None
        if ari is not None:
            await ari.close()
        self._out.put_nowait(None)  # an events() still reading ends

    async def snapshot(self) -> Snapshot:
        later: list[Event] = []
        if not self._rebuilt:
            later = await self._rebuild()
            if self.team is not None:
                self._mirror(await self._team_rows_at_start())  # the team's calls, in this snapshot
            self._rebuilt = True
            self._processor = asyncio.create_task(self._process(), name=f"asterisk-{self.name}")
            self._start_team()
        if later:
            self._out.put_nowait(later)
        assert self._state is not None
        return Snapshot(
            conversations=[c.conversation for c in self._calls.values()],
            customers=list(self._customers.values()),
            me=self.agent_id,
            wrapups=self._state.wrapups(time.time() - KEEP_CLOSED_SECONDS),
        )

    async def events(self) -> AsyncIterator[Sequence[Event]]:
        out = self._out
        while True:
            item = await out.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            if item:
                yield item

    async def _process(self) -> None:
        """Apply the ARI events in order; the console's events go to `events()`."""
        while True:
            message = await self._inbox.get()
            if isinstance(message, BaseException):
                self._out.put_nowait(message)
                return
            try:
                produced = await self._on_event(message)
            except BackendError as error:  # an ARI call made for the event failed: the call is left as is
                log.warning("%s: handling %s failed: %s", self.name, message.get("type"), error)
                produced = []
            except Exception:  # a bug must not stop every later event: logged, and the next one is read
                log.exception("%s: handling %s failed", self.name, message.get("type"))
                produced = []
            if produced:
                self._out.put_nowait(produced)

    # ------------------------------------------------------------------------------------------ reading

    async def history(self, conversation_id: str) -> list[Message]:
        call = self._call(conversation_id)
        assert self._state is not None
        return self._state.messages(call.conversation.id)

    async def customer(self, customer_id: str) -> Customer | None:
        return self._customers.get(customer_id)

    async def customer_history(self, customer_id: str) -> list[Conversation]:
        found = [c.conversation for c in self._calls.values() if c.conversation.customer_id == customer_id]
        return sorted(found, key=lambda c: c.created_at, reverse=True)
