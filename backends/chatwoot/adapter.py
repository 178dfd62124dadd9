"""`ChatwootBackend`: a Chatwoot account's conversations (chat, email, social inboxes) as one workspace.

REST (api.py) for the snapshot, history and commands; ActionCable (cable.py) for what changes. The cable is
subscribed in `connect`, before the snapshot is read, so nothing falls between the two: events queued meanwhile
are applied after it, and what the snapshot already holds is not announced again (message ids, versions).
A dropped cable is ridden out inside `events()`: `BackendStatus` down, reconnect with backoff, then a catch-up
by REST (every conversation of the queue's statuses, and the messages after the last one seen of each that
moved), so that what happened meanwhile arrives once. How each console action maps to the API: docs/chatwoot.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ...console.core.model import Channel, Conversation, Customer, Direction, Message
from ..base import (
    AgentUpdated,
    AuthError,
    BackendError,
    BackendStatus,
    Capabilities,
    CommandKind,
    ConversationRemoved,
    ConversationUpserted,
    CustomerUpdated,
    Event,
    LinkState,
    MessageAdded,
    NotFound,
    RateLimited,
    Snapshot,
    TypingChanged,
    Unavailable,
)
from ..http.helpdesk import HelpdeskBackend
from ..retry import Backoff
from .api import ChatwootApi, token_header
from .cable import Cable
from .commands import Commands
from .csat import Csat
from .mapping import (
    agent_id_of,
    agent_of,
    conversation_of,
    customer_of,
    message_of,
)
from .search import Searching
from .settings import SETTINGS, ChatwootSettings, parse_settings

log = logging.getLogger(__name__)

SUPPORTED = frozenset(
    {
        CommandKind.REPLY,
        CommandKind.NOTE,
        CommandKind.CLAIM,
        CommandKind.ACCEPT,
        CommandKind.ASSIGN,
        CommandKind.RELEASE,
        CommandKind.SET_STATUS,
        CommandKind.SET_PRIORITY,
        CommandKind.TAGS,
        CommandKind.SNOOZE,
        CommandKind.END_CHAT,
        CommandKind.PRESENCE,
        CommandKind.TYPING,
        CommandKind.TRANSFER,
    }
)
CONVERSATION_EVENTS = frozenset(
    {
        "conversation.created",
        "conversation.updated",
        "conversation.status_changed",
        "conversation.contact_changed",
        "assignee.changed",
        "team.changed",
    }
)
# Message ids remembered as announced (beyond the per-conversation high-water marks), for de-duplication.
_ANNOUNCED_CAP = 100_000
# Frames turned into one batch at most: the hub applies batches, not one event at a time.
_BATCH = 500


class ChatwootBackend(Commands, Searching, Csat, HelpdeskBackend[ChatwootApi, ChatwootSettings]):
    capabilities = Capabilities(
        channels=frozenset({Channel.CHAT, Channel.EMAIL, Channel.SOCIAL}), commands=SUPPORTED
    )
    settings = SETTINGS
    parse_settings = staticmethod(parse_settings)
    kind = "chatwoot"
    customer_prefix = "contact-"

    def __init__(
        self, name: str, settings: ChatwootSettings, *, silence: float = 10.0, **common: Any
    ) -> None:
        """`common`: HelpdeskBackend's (agent_id, data_dir, secret, transport, retry_base, retry_cap)."""
        super().__init__(name, settings, **common)
        self._silence = silence
        self._cable: Cable | None = None
        self._reader: asyncio.Task[None] | None = None
        self._frames: asyncio.Queue[dict[str, Any] | BaseException | None] = asyncio.Queue()
        self._profile: dict[str, Any] = {}
        self._inboxes: dict[int, dict[str, Any]] = {}
        self._agents: dict[int, dict[str, Any]] = {}  # by Chatwoot user id
        self._presence: dict[int, str] = {}
        self._conversations: dict[int, Conversation] = {}  # by display id, what the console was told
        self._high: dict[int, int] = {}  # by display id: the highest message id known
        self._announced: OrderedDict[int, None] = OrderedDict()
        self._customers: set[str] = set()

    @property
    def workspace_id(self) -> str:
        return f"chatwoot:{self.config.host.lower()}/{self.config.account}"

    @property
    def me(self) -> str:
        return agent_id_of(self._profile) or self.agent_id

    @property
    def my_user_id(self) -> int:
        return int(self._profile.get("id") or 0)

    # ------------------------------------------------------------------------------------------ lifecycle

    async def _connect(self) -> None:
        self._frames = asyncio.Queue()
        http = self._client(token_header(self._secret))
        await http.open()
        self._http, self._api = http, ChatwootApi(http, self.config.account)
        profile = await self.api.profile()
        self._check_profile(profile)
        # The profile carries the user's own access token: it is not kept where a repr could show it.
        self._profile = {k: v for k, v in profile.items() if k != "access_token"}
        self._inboxes = {int(i["id"]): i for i in await self.api.inboxes()}
        await self._load_agents()
        await self._open_cable()

    def _check_profile(self, profile: Mapping[str, Any]) -> None:
        wanted = self.config.agent
        email = str(profile.get("email") or "").lower()
        if wanted and email != wanted:
            raise AuthError(
                f"{self.service}: the stored token is {email or 'another user'}'s, not {wanted}'s; "
                f"run `standardiste login {self.name}` with {wanted}'s access token"
            )
        accounts = profile.get("accounts")
        if isinstance(accounts, list) and accounts and all(int(a.get("id", -1)) != self.config.account for a in accounts):
            raise AuthError(f"{self.service}: {email or 'this user'} is not a member of account {self.config.account}")
        if not profile.get("pubsub_token"):
            raise Unavailable(f"{self.service}: the profile has no pubsub_token: the realtime feed cannot be joined")

    async def _load_agents(self) -> None:
        self._agents = {int(a["id"]): a for a in await self.api.agents()}
        for user_id, raw in self._agents.items():
            self._presence[user_id] = str(raw.get("availability_status") or "offline")
        mine = next((a for a in self._profile.get("accounts") or () if int(a.get("id", -1)) == self.config.account), None)
        if mine and self.my_user_id:
            self._presence[self.my_user_id] = str(mine.get("availability_status") or mine.get("availability") or "offline")

    async def _open_cable(self) -> None:
        cable = Cable(
            self.config.cable_url,
            pubsub_token=str(self._profile["pubsub_token"]),
            account_id=self.config.account,
            user_id=self.my_user_id,
            origin=self.config.url,
            service=self.service,
            silence=self._silence,
            ssl_context=self._ssl(),
        )
        await cable.open()
        self._cable = cable
        self._reader = asyncio.create_task(self._read(cable), name=f"chatwoot-cable-{self.name}")

    async def _read(self, cable: Cable) -> None:
        """Frames into the queue; the loss of the feed too (events() reconnects)."""
        try:
            async for message in cable.messages():
                self._frames.put_nowait(message)
        except asyncio.CancelledError:
            raise
        except BaseException as error:
            if self._cable is cable:  # a feed dropped on purpose (_drop_cable) is not a loss to recover from
                self._frames.put_nowait(error)

    async def _drop_cable(self) -> None:
        # The socket first: the reader's recv then ends by itself; cancelling is only the second resort.
        cable, self._cable = self._cable, None
        if cable is not None:
            await cable.close()
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait({reader}, timeout=2.0)

    async def _release(self) -> None:
        self._frames.put_nowait(None)
        await self._drop_cable()

    # ------------------------------------------------------------------------------------------ reading

    def _wanted(self, conversation: Conversation, status: str) -> bool:
        """Whether the queue, as configured (statuses, assignee), holds this conversation."""
        if status not in self.config.statuses:
            return False
        match self.config.assignee:
            case "me":
                return conversation.assignee == self.me
            case "unassigned":
                return conversation.assignee is None
            case "assigned":
                return conversation.assignee is not None
        return True

    def _conversation(self, raw: Mapping[str, Any]) -> Conversation:
        return conversation_of(
            self.name, raw, inboxes=self._inboxes, subject_attribute=self.config.subject_attribute
        )

    def _customer_events(self, raw: Mapping[str, Any]) -> list[Event]:
        sender = (raw.get("meta") or {}).get("sender")
        if not sender:
            return []
        customer = customer_of(self.name, sender)
        if customer.id in self._customers:
            return []
        self._customers.add(customer.id)
        return [CustomerUpdated(customer)]

    def _last_message_id(self, raw: Mapping[str, Any]) -> int:
        ids = [int(m["id"]) for m in raw.get("messages") or () if isinstance(m, dict) and m.get("id") is not None]
        last = raw.get("last_non_activity_message")
        if isinstance(last, dict) and last.get("id") is not None:
            ids.append(int(last["id"]))
        return max(ids, default=0)

    async def snapshot(self) -> Snapshot:
        conversations: dict[int, Conversation] = {}
        customers: dict[str, Customer] = {}
        high: dict[int, int] = {}
        for status in self.config.statuses:
            async for page in self.api.conversation_pages(
                status, self.config.assignee, concurrency=self.config.page_concurrency
            ):
                for raw in page:
                    display = int(raw["id"])
                    conversations[display] = self._conversation(raw)
                    high[display] = self._last_message_id(raw)
                    sender = (raw.get("meta") or {}).get("sender")
                    if sender:
                        customer = customer_of(self.name, sender)
                        customers.setdefault(customer.id, customer)
        self._conversations, self._high = conversations, high
        self._customers = set(customers)
        agents = [agent_of(raw, presence=self._presence.get(uid)) for uid, raw in self._agents.items()]
        if self.my_user_id and self.my_user_id not in self._agents:
            agents.append(agent_of(self._profile, presence=self._presence.get(self.my_user_id)))
        return Snapshot(
            conversations=list(conversations.values()),
            agents=agents,
            customers=list(customers.values()),
            me=self.me,
        )

    async def events(self) -> AsyncIterator[Sequence[Event]]:
        backoff = Backoff(base=self._retry[0], cap=self._retry[1])
        while not self._closed.is_set():
            item = await self._frames.get()
            if item is None or self._closed.is_set():
                return
            if isinstance(item, BaseException):
                if isinstance(item, AuthError):
                    raise item
                async for batch in self._recover(item, backoff):
                    yield batch
                continue
            frames = [item]
            while len(frames) < _BATCH and not self._frames.empty():
                following = self._frames.get_nowait()
                if following is None or isinstance(following, BaseException):
                    self._frames.put_nowait(following)  # handled on the next turn, after this batch
                    break
                frames.append(following)
            batch: list[Event] = []
            failed: BackendError | None = None
            for frame in frames:
                try:
                    batch.extend(await self._translate(frame))
                except AuthError:
                    raise
                except BackendError as error:
                    # REST failed while the cable lives (a conversation to fetch): taken as a drop, so
                    # the catch-up brings what this frame and the ones after it said.
                    failed = error
                    break
            if batch:
                yield batch
            if failed is not None:
                async for recovered in self._recover(failed, backoff):
                    yield recovered

    async def _recover(self, error: BaseException, backoff: Backoff) -> AsyncIterator[Sequence[Event]]:
        """The feed was lost: report it, reconnect with backoff, then catch up by REST before going on."""
        await self._drop_cable()
        detail = str(error) if isinstance(error, BackendError) else f"{self.service}: realtime feed lost"
        asked = error.retry_after if isinstance(error, RateLimited) else 0.0
        while not self._closed.is_set():
            delay = max(backoff.next(), asked)  # a server that said how long to wait is not asked sooner
            yield [BackendStatus(self.name, LinkState.DOWN, detail, retry_in=delay)]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._closed.wait()
            if self._closed.is_set():
                return
            try:
                await self._open_cable()
                caught_up = await self._catch_up()
            except AuthError:
                raise
            except (BackendError, OSError) as failure:
                await self._drop_cable()
                detail = str(failure)
                asked = failure.retry_after if isinstance(failure, RateLimited) else 0.0
                continue
            backoff.reset()
            yield [*caught_up, BackendStatus(self.name, LinkState.CONNECTED, f"{self.service}: caught up")]
            return

    async def _catch_up(self) -> list[Event]:
        """What changed while the feed was down, from REST, against what the console was told."""
        fresh: dict[int, Mapping[str, Any]] = {}
        for status in self.config.statuses:
            async for page in self.api.conversation_pages(
                status, self.config.assignee, concurrency=self.config.page_concurrency
            ):
                for raw in page:
                    fresh[int(raw["id"])] = raw
        events: list[Event] = []
        for display, raw in fresh.items():
            events.extend(await self._changed(display, raw))
        for display in [d for d in self._conversations if d not in fresh]:
            try:
                raw = await self.api.conversation(display)
            except NotFound:
                self._conversations.pop(display, None)
                events.append(ConversationRemoved(self._qualified(display)))
                continue
            events.extend(await self._changed(display, raw))
            if not self._wanted(self._conversations[display], str(raw.get("status") or "open")):
                # Out of the queue now (resolved meanwhile): the console has its last state, enough.
                self._conversations.pop(display, None)
        return events

    async def _changed(self, display: int, raw: Mapping[str, Any]) -> list[Event]:
        conversation = self._conversation(raw)
        known = self._conversations.get(display)
        events: list[Event] = self._customer_events(raw)
        if known is None or conversation.updated_at > known.updated_at or self._last_message_id(raw) > self._high.get(display, 0):
            for message in await self.api.messages_after(display, self._high.get(display, 0)):
                events.extend(self._message_events(display, message, upsert=False))
        if known is None or conversation != known:
            events.extend(self._upsert(display, conversation, str(raw.get("status") or "open")))
        return events

    def _qualified(self, display: int) -> str:
        return f"{self.name}:{display}"

    def _upsert(self, display: int, conversation: Conversation, status: str) -> list[Event]:
        """A conversation the console holds (or now should) is followed until the next snapshot, also when
        it leaves the queue's statuses (resolved): the console shows its last state, not a stale one."""
        if not self._wanted(conversation, status) and display not in self._conversations:
            return []  # never in this queue, still not: nothing to say
        self._conversations[display] = conversation
        return [ConversationUpserted(conversation)]

    def _message_events(self, display: int, raw: Mapping[str, Any], *, upsert: bool = True) -> list[Event]:
        message_id = int(raw["id"])
        # At or below the high-water mark: in the state the snapshot gave, or announced since.
        if message_id in self._announced or message_id <= self._high.get(display, 0):
            return []
        self._announced[message_id] = None
        while len(self._announced) > _ANNOUNCED_CAP:
            self._announced.popitem(last=False)
        self._high[display] = max(self._high.get(display, 0), message_id)
        message = message_of(self.name, display, raw)
        events: list[Event] = [MessageAdded(message)]
        known = self._conversations.get(display)
        if upsert and known is not None:
            inbound = message.direction is Direction.INBOUND
            changed = replace(
                known,
                updated_at=max(known.updated_at, message.created_at),
                unread=known.unread + 1 if inbound else known.unread,
                last_customer_at=message.created_at if inbound else known.last_customer_at,
            )
            self._conversations[display] = changed
            events.append(ConversationUpserted(changed))
        return events

    async def _translate(self, frame: Mapping[str, Any]) -> list[Event]:
        name, data = frame.get("event"), frame.get("data")
        if not isinstance(data, dict):
            return []
        try:
            if name == "message.created":
                return await self._on_message(data)
            if name in CONVERSATION_EVENTS:
                display = int(data["id"])
                conversation = self._conversation(data)
                return [*self._customer_events(data), *self._upsert(display, conversation, str(data.get("status") or "open"))]
            if name in ("conversation.typing_on", "conversation.typing_off"):
                return self._on_typing(data, name.endswith("_on"))
            if name == "presence.update":
                return self._on_presence(data)
        except (KeyError, TypeError, ValueError) as error:
            log.warning("%s: a %s event of an unexpected shape was ignored (%s)", self.service, name, type(error).__name__)
        except NotFound:
            return []
        return []

    async def _on_message(self, data: Mapping[str, Any]) -> list[Event]:
        display = int(data["conversation_id"])
        events: list[Event] = []
        if display not in self._conversations:
            # A conversation the queue did not hold (new, or another status): its state decides.
            raw = await self.api.conversation(display)
            conversation = self._conversation(raw)
            if not self._wanted(conversation, str(raw.get("status") or "open")):
                return []
            events.extend(self._customer_events(raw))
            events.extend(self._message_events(display, data, upsert=False))
            events.extend(self._upsert(display, conversation, str(raw.get("status") or "open")))
            return events
        return self._message_events(display, data)

    def _on_typing(self, data: Mapping[str, Any], typing: bool) -> list[Event]:
        conversation = data.get("conversation") or {}
        display = int(conversation["id"])
        if display not in self._conversations:
            return []
        user = data.get("user") or {}
        if user.get("type") == "contact":
            who = "customer"
        else:
            known = self._agents.get(int(user.get("id") or 0))
            who = agent_id_of(known or user) or "agent"
        return [TypingChanged(self._qualified(display), who, typing)]

    def _on_presence(self, data: Mapping[str, Any]) -> list[Event]:
        events: list[Event] = []
        for key, status in (data.get("users") or {}).items():
            user_id = int(key)
            if self._presence.get(user_id) == status:
                continue
            self._presence[user_id] = str(status)
            raw = self._agents.get(user_id) or (self._profile if user_id == self.my_user_id else None)
            if raw is not None:
                events.append(AgentUpdated(agent_of(raw, presence=str(status))))
        return events

    # ------------------------------------------------------------------------------------------ history

    async def history(self, conversation_id: str) -> list[Message]:
        display = self._native(conversation_id)
        return [message_of(self.name, display, raw) for raw in await self.api.all_messages(display)]

    async def customer_history(self, customer_id: str) -> list[Conversation]:
        """Every conversation of this contact on the account, newest first (the customer card's history)."""
        number = self._customer_number(customer_id)
        if number is None:
            return []
        found = [self._conversation(raw) for raw in await self.api.contact_conversations(number)]
        return sorted(found, key=lambda c: c.created_at, reverse=True)


__all__ = ["SUPPORTED", "ChatwootBackend"]
