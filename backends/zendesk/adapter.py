"""`ZendeskBackend`: a Zendesk Support account's tickets (email, web form, chat, social, voice) and the agent's
Talk availability, as one workspace.

Zendesk pushes nothing to a client like this one, so changes are read, in `events()`, by two means:

- **the agent's views** (or, without views, the queue's search with `updated>`), polled every `poll`
  seconds, latest updated first, stopping at the first page where nothing changed: what the agents work
  on shows within seconds;
- **the incremental export** (cursor based, `/api/v2/incremental/tickets/cursor.json`), read at most every
  `export_interval` seconds (10 a minute is its documented limit) on a client of its own that never sleeps
  through a 429: the net that catches what left the views (solved by a colleague, deleted). Zendesk leaves
  the last minute out of it, so it is a minute behind by design.

What this console changes is confirmed at once from the answer of the update (the ticket and its audit).
A failing poll is ridden out inside `events()` (`BackendStatus` down, waiting as long as the server asked,
then up): polls compare states, so the next one brings what happened meanwhile, once.
How each console action maps to the API: docs/zendesk.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any

from ...console.core.model import Channel, Conversation, Customer, Message
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
    Invalid,
    LinkState,
    MessageAdded,
    NotFound,
    RateLimited,
    Snapshot,
    Unavailable,
)
from ..http import HttpClient
from ..http.helpdesk import HelpdeskBackend
from ..optional import QueueActivity
from ..retry import Backoff
from .api import ZendeskApi, basic_auth
from .commands import Commands
from .csat import Csat
from .mapping import (
    CLOSED,
    agent_of,
    comment_of,
    customer_of,
    iso,
    login_of,
    ticket_of,
    timestamp,
)
from .search import Searching
from .settings import SETTINGS, ZendeskSettings, parse_settings

log = logging.getLogger(__name__)

SUPPORTED = frozenset(
    {
        CommandKind.REPLY,
        CommandKind.NOTE,
        CommandKind.CLAIM,
        CommandKind.ASSIGN,
        CommandKind.RELEASE,
        CommandKind.TRANSFER,
        CommandKind.SET_STATUS,
        CommandKind.SET_PRIORITY,
        CommandKind.TAGS,
        CommandKind.PRESENCE,
    }
)
DEFAULT_QUERY = "type:ticket status<solved"
# The search index lags "up to a few minutes" (Search API): a poll by search looks this far back.
SEARCH_LAG = 180.0


# What mapping.ticket_of reads of a ticket: a snapshot keeps only these until the requesters are known (a
# ticket's JSON has some 40 properties; 10,000 of them whole took three times the memory).
_TICKET_KEYS = (
    "id",
    "subject",
    "raw_subject",
    "status",
    "priority",
    "requester_id",
    "assignee_id",
    "group_id",
    "tags",
    "created_at",
    "updated_at",
)


def _slim(raw: Mapping[str, Any]) -> dict[str, Any]:
    slim = {key: raw.get(key) for key in _TICKET_KEYS}
    slim["via"] = {"channel": (raw.get("via") or {}).get("channel")}
    if not slim["subject"] and not slim["raw_subject"]:
        slim["description"] = str(raw.get("description") or "")[:200]
    return slim


class ZendeskBackend(Commands, Searching, Csat, HelpdeskBackend[ZendeskApi, ZendeskSettings]):
    capabilities = Capabilities(
        channels=frozenset({Channel.EMAIL, Channel.FORM, Channel.CHAT, Channel.SOCIAL, Channel.PHONE}),
        commands=SUPPORTED,
    )
    settings = SETTINGS
    parse_settings = staticmethod(parse_settings)
    kind = "zendesk"
    noun = "ticket"
    customer_prefix = "user-"

    def __init__(
        self, name: str, settings: ZendeskSettings, *, clock: Callable[[], float] = time.time, **common: Any
    ) -> None:
        """`common`: HelpdeskBackend's (agent_id, data_dir, secret, transport, retry_base, retry_cap)."""
        super().__init__(name, settings, **common)
        self._clock = clock
        self._export_http: HttpClient | None = None
        self._export_api: ZendeskApi | None = None
        self._mine: asyncio.Queue[list[Event]] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._me: dict[str, Any] = {}
        self._agents: dict[int, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._groups: dict[int, dict[str, Any]] = {}
        self._views: dict[int, str] = {}
        self._talk = False
        self._agent_state: str | None = None
        # What the console was told, by ticket id: the conversation and Zendesk's updated_at (the stamp).
        self._known: dict[int, Conversation] = {}
        self._stamps: dict[int, str] = {}
        # Comments announced: the highest id per ticket; for a ticket only seen in a snapshot, the time up
        # to which its comments are in the state the snapshot gave. Kept across snapshots.
        self._high: dict[int, int] = {}
        self._seen_at: dict[int, float] = {}
        self._customers: set[str] = set()
        self._cursor: str | None = None
        self._export_forbidden = False
        self._net_mark = self._export_mark = 0.0
        self._export_start: int | None = None
        self._poll_mark = 0.0

    @property
    def workspace_id(self) -> str:
        return f"zendesk:{self.config.host.lower()}"

    @property
    def me(self) -> str:
        return login_of(self._me) or self.agent_id

    @property
    def my_user_id(self) -> int:
        return int(self._me.get("id") or 0)

    # ------------------------------------------------------------------------------------------ lifecycle

    def _zendesk_client(self, *, retries: int) -> HttpClient:
        return self._client(
            basic_auth(self.config.email, self._secret),
            retries=retries,
            # Short: a poll that cannot get through is reported down by events() and ridden out there.
            backoff_base=self._retry[0],
            backoff_cap=self._retry[1],
        )

    async def _connect(self) -> None:
        self._mine = asyncio.Queue()
        http, export = self._zendesk_client(retries=3), self._zendesk_client(retries=0)
        self._http, self._export_http = http, export
        await http.open()
        await export.open()
        self._api = ZendeskApi(http, self.config.page_size)
        self._export_api = ZendeskApi(export, self.config.page_size)
        me = await self.api.me()
        self._check_me(me)
        self._me = me
        self._agents = {int(a["id"]): a for a in await self.api.agents()}
        self._agents.setdefault(self.my_user_id, me)
        self._users.update(self._agents)
        self._groups = {int(g["id"]): g for g in await self.api.groups()}
        await self._resolve_views()
        await self._read_availability()

    def _check_me(self, me: Mapping[str, Any]) -> None:
        email = str(me.get("email") or "").lower()
        if not me.get("id") or email != self.config.email:
            # Zendesk answers an anonymous user (id null) to a request whose credentials it did not take.
            who = email or "an anonymous user"
            raise AuthError(
                f"{self.service}: the stored token signs in as {who}, not {self.config.email}; "
                f"run `standardiste login {self.name}` with an API token and check the email"
            )
        if me.get("role") not in ("agent", "admin"):
            raise AuthError(f"{self.service}: {email} is not an agent of this account")

    async def _resolve_views(self) -> None:
        self._views = {}
        if not self.config.views:
            return
        active = await self.api.active_views()
        for wanted in self.config.views:
            found = next(
                (
                    v
                    for v in active
                    if wanted == str(v.get("id"))
                    or wanted.lower() == str(v.get("title") or "").strip().lower()
                ),
                None,
            )
            if found is None:
                titles = ", ".join(repr(str(v.get("title"))) for v in active[:10]) or "none"
                raise Invalid(f"{self.service}: no active view {wanted!r} for {self.me} (views: {titles})")
            self._views[int(found["id"])] = str(found.get("title") or found["id"])

    async def _read_availability(self) -> None:
        """The agent's Talk availability, if the account has Talk (a 403/404 means it has not)."""
        try:
            availability = await self.api.availability(self.my_user_id)
        except (NotFound, AuthError):
            self._talk, self._agent_state = False, None
            return
        self._talk = True
        self._agent_state = str(availability.get("agent_state") or "offline")

    async def _release(self) -> None:
        self._wake.set()
        export, self._export_http, self._export_api = self._export_http, None, None
        if export is not None:
            await export.close()

    # ------------------------------------------------------------------------------------------ reading

    async def _learn_users(self, tickets: Iterable[Mapping[str, Any]]) -> None:
        wanted = {int(t[k]) for t in tickets for k in ("requester_id", "assignee_id") if t.get(k)}
        missing = wanted - self._users.keys()
        if missing:
            for user in await self.api.users(missing):
                self._users[int(user["id"])] = user

    def _conversation(self, raw: Mapping[str, Any]) -> Conversation:
        return ticket_of(self.name, raw, users=self._users, groups=self._groups)

    def _message(self, ticket_id: int, raw: Mapping[str, Any]) -> Message:
        return comment_of(self.name, ticket_id, raw, users=self._users, agents=self._agents)

    async def snapshot(self) -> Snapshot:
        started = self._clock()
        found: dict[int, dict[str, Any]] = {}
        async for page in self.api.search_pages(self.config.query):
            for raw in page:
                found[int(raw["id"])] = _slim(raw)
        for view_id in self._views:
            async for page in self.api.view_pages(view_id):
                for raw in page:
                    found[int(raw["id"])] = _slim(raw)
        await self._learn_users(found.values())
        conversations: dict[int, Conversation] = {}
        customers: dict[str, Customer] = {}
        for ticket_id, raw in found.items():
            conversations[ticket_id] = self._conversation(raw)
            self._stamps[ticket_id] = str(raw.get("updated_at") or "")
            if ticket_id not in self._high:
                self._seen_at[ticket_id] = timestamp(raw.get("updated_at")) or 0.0
            requester = self._users.get(int(raw.get("requester_id") or 0))
            if requester:
                customer = customer_of(self.name, requester)
                customers.setdefault(customer.id, customer)
        self._known = conversations
        self._customers = set(customers)
        self._poll_mark = self._net_mark = self._export_mark = started
        if self._cursor is None:
            # The export starts a little before the snapshot: what it repeats is dropped (same stamps).
            self._export_start = int(started) - 120
        agents = await self._agent_list()
        return Snapshot(
            conversations=list(conversations.values()),
            agents=agents,
            customers=list(customers.values()),
            me=self.me,
        )

    async def _agent_list(self) -> list[Any]:
        states: dict[int, str] = {}
        if self._talk:
            with contextlib.suppress(NotFound, AuthError):
                states = {
                    int(a["agent_id"]): str(a.get("agent_state") or "offline")
                    for a in await self.api.agents_activity()
                    if a.get("agent_id")
                }
            if self._agent_state is not None:
                states[self.my_user_id] = self._agent_state
        return [agent_of(raw, agent_state=states.get(user_id)) for user_id, raw in self._agents.items()]

    async def events(self) -> AsyncIterator[Sequence[Event]]:
        backoff = Backoff(base=self._retry[0], cap=self._retry[1])
        next_poll = self._clock() + self.config.poll
        next_export = self._clock() + self.config.export_interval
        down = False
        while not self._closed.is_set():
            while not self._mine.empty():
                yield self._mine.get_nowait()
            now = self._clock()
            wait = max(0.0, min(next_poll, next_export) - now)
            if wait:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                continue
            try:
                if now >= next_poll:
                    batch = await self._poll()
                    next_poll = self._clock() + self.config.poll
                else:
                    batch = await self._export()
                    next_export = self._clock() + self.config.export_interval
            except AuthError:
                raise
            except RateLimited as error:
                # The export's own budget: wait as asked, without calling the account down.
                if now < next_poll:
                    next_export = self._clock() + max(error.retry_after, self.config.export_interval)
                    continue
                down, next_poll = True, self._clock() + max(backoff.next(), error.retry_after)
                yield [
                    BackendStatus(self.name, LinkState.DOWN, str(error), retry_in=next_poll - self._clock())
                ]
                continue
            except (BackendError, OSError) as error:
                delay = backoff.next()
                down = True
                next_poll = max(next_poll, self._clock() + delay)
                next_export = max(next_export, self._clock() + delay)
                detail = str(error) or f"{self.service}: {type(error).__name__}"
                yield [BackendStatus(self.name, LinkState.DOWN, detail, retry_in=delay)]
                continue
            if down:
                down = False
                backoff.reset()
                batch.append(BackendStatus(self.name, LinkState.CONNECTED, f"{self.service}: caught up"))
            if batch:
                yield batch

    def announce(self, events: list[Event]) -> None:
        """Events of this console's own change, for `events()` (the confirmation of a command)."""
        if events:
            self._mine.put_nowait(events)
            self._wake.set()

    async def _poll(self) -> list[Event]:
        started = self._clock()
        changed: dict[int, dict[str, Any]] = {}
        if self._views:
            for view_id in self._views:
                async for page in self.api.view_pages(view_id):
                    fresh = [t for t in page if self._maybe_changed(t)]
                    for raw in fresh:
                        changed[int(raw["id"])] = raw
                    if not fresh:
                        break  # latest updated first: nothing further down changed either
        else:
            since = iso(self._poll_mark - SEARCH_LAG)
            async for page in self.api.search_pages(f"{self.config.query} updated>{since}"):
                for raw in page:
                    if self._maybe_changed(raw):
                        changed[int(raw["id"])] = raw
        events = await self._apply(changed.values())
        self._poll_mark = started
        if self._talk:
            events.extend(await self._availability_changed())
        return events

    def _maybe_changed(self, raw: Mapping[str, Any], mark: float | None = None) -> bool:
        """Its stamp moved, or it is of the second the last look (`mark`, the last poll's by default) was in:
        Zendesk's times are whole seconds, so a change later in that second keeps the stamp seen then."""
        if self._stamps.get(int(raw["id"])) != str(raw.get("updated_at") or ""):
            return True
        mark = self._poll_mark if mark is None else mark
        return (timestamp(raw.get("updated_at")) or 0.0) >= int(mark) - 1

    async def _availability_changed(self) -> list[Event]:
        try:
            state = str((await self.api.availability(self.my_user_id)).get("agent_state") or "offline")
        except (NotFound, AuthError):
            # Talk turned off, or this agent's access to it removed: not a failed login of the workspace.
            self._talk = False
            return []
        if state == self._agent_state:
            return []
        self._agent_state = state
        return [AgentUpdated(agent_of(self._me, agent_state=state))]

    async def _export(self) -> list[Event]:
        """The net for what left the views: the incremental export, or for an agent who is not an admin
        (Zendesk allows the export to admins only) the search of every ticket updated lately."""
        export = self._export_api
        if export is None:
            raise Unavailable(f"{self.service} is not connected")
        if self._cursor is None and self._export_start is None:
            return []
        if self._export_forbidden:
            return await self._search_net()
        mark, self._export_mark = self._export_mark, self._clock()
        try:
            body = await export.incremental(start_time=self._export_start, cursor=self._cursor)
        except AuthError as error:
            if "403" not in str(error):
                raise
            log.warning(
                "%s: the incremental export is for admins (%s): searching for changes instead",
                self.service,
                error,
            )
            self._export_forbidden = True
            return await self._search_net()
        if body.get("after_cursor"):
            self._cursor = str(body["after_cursor"])
        tickets = [t for t in body.get("tickets") or () if isinstance(t, dict) and t.get("id") is not None]
        events: list[Event] = []
        for raw in tickets:
            if raw.get("status") == "deleted":
                ticket_id = int(raw["id"])
                if self._known.pop(ticket_id, None) is not None:
                    events.append(ConversationRemoved(f"{self.name}:{ticket_id}"))
        keep = [
            t
            for t in tickets
            if t.get("status") != "deleted" and self._wanted(t) and self._maybe_changed(t, mark)
        ]
        events.extend(await self._apply(keep))
        return events

    def _wanted(self, raw: Mapping[str, Any]) -> bool:
        """A ticket the console holds, or one the default queue (every unsolved ticket) would."""
        return int(raw["id"]) in self._known or (
            self.config.query == DEFAULT_QUERY and raw.get("status") not in CLOSED
        )

    async def _search_net(self) -> list[Event]:
        started = self._clock()
        since = iso(self._net_mark - SEARCH_LAG)
        changed: dict[int, dict[str, Any]] = {}
        async for page in self.api.search_pages(f"updated>{since}"):
            for raw in page:
                if self._wanted(raw) and self._maybe_changed(raw, self._net_mark):
                    changed[int(raw["id"])] = raw
        self._net_mark = started
        return await self._apply(changed.values())

    async def _apply(self, tickets: Iterable[dict[str, Any]]) -> list[Event]:
        """Events for tickets whose stamp moved: their requester if new, their new comments, their state."""
        tickets = list(tickets)
        if not tickets:
            return []
        await self._learn_users(tickets)
        events: list[Event] = []
        for raw in tickets:
            ticket_id = int(raw["id"])
            older = self._stamps.get(ticket_id)
            if older and (timestamp(older) or 0) > (timestamp(raw.get("updated_at")) or 0):
                continue  # an older state than the one known (the export lags the views)
            requester = self._users.get(int(raw.get("requester_id") or 0))
            if requester:
                customer = customer_of(self.name, requester)
                if customer.id not in self._customers:
                    self._customers.add(customer.id)
                    events.append(CustomerUpdated(customer))
            try:
                comments = await self.api.comments(ticket_id)
            except NotFound:
                continue  # deleted meanwhile: the export will say so
            await self._learn_users({"requester_id": c.get("author_id")} for c in comments)
            events.extend(self._new_comments(ticket_id, comments))
            events.extend(self.track(raw))
        return events

    def _new_comments(self, ticket_id: int, comments: Iterable[Mapping[str, Any]]) -> list[Event]:
        events: list[Event] = []
        high, seen_at = self._high.get(ticket_id), self._seen_at.get(ticket_id)
        for raw in sorted(comments, key=lambda c: int(c["id"])):
            comment_id = int(raw["id"])
            if high is not None and comment_id <= high:
                continue
            if high is None and seen_at is not None and (timestamp(raw.get("created_at")) or 0) <= seen_at:
                self._high[ticket_id] = max(self._high.get(ticket_id, 0), comment_id)
                continue
            self._high[ticket_id] = max(self._high.get(ticket_id, 0), comment_id)
            events.append(MessageAdded(self._message(ticket_id, raw)))
        if ticket_id not in self._high:
            self._high[ticket_id] = 0
        self._seen_at.pop(ticket_id, None)
        return events

    def track(self, raw: Mapping[str, Any]) -> list[Event]:
        """A ticket's new state: remembered (its stamp for the next safe update) and announced if it moved."""
        ticket_id = int(raw["id"])
        self._stamps[ticket_id] = str(raw.get("updated_at") or "")
        conversation = self._conversation(raw)
        if self._known.get(ticket_id) == conversation:
            return []
        self._known[ticket_id] = conversation
        return [ConversationUpserted(conversation)]

    def comment_events(self, ticket_id: int, comments: Iterable[Mapping[str, Any]]) -> list[Event]:
        return self._new_comments(ticket_id, comments)

    # ------------------------------------------------------------------------------------------ history

    async def history(self, conversation_id: str) -> list[Message]:
        ticket_id = self._native(conversation_id)
        comments = await self.api.comments(ticket_id)
        await self._learn_users({"requester_id": c.get("author_id")} for c in comments)
        return [self._message(ticket_id, raw) for raw in sorted(comments, key=lambda c: int(c["id"]))]

    async def customer(self, customer_id: str) -> Customer | None:
        number = self._customer_number(customer_id)
        if number is None:
            return None
        user = self._users.get(number) or await self.api.user(number)
        self._users[number] = user
        return customer_of(self.name, user)

    async def customer_history(self, customer_id: str) -> list[Conversation]:
        """Every ticket this user requested, newest first (the customer card's history)."""
        number = self._customer_number(customer_id)
        if number is None:
            return []
        tickets = await self.api.requested(number)
        await self._learn_users(tickets)
        return sorted((self._conversation(t) for t in tickets), key=lambda c: c.created_at, reverse=True)

    # ------------------------------------------------------------------------------------------ Talk

    async def queue_activity(self) -> QueueActivity:
        """Talk's current queue activity (the optional `QueueFigures` capability)."""
        figures = await self.api.current_queue_activity()

        def number(key: str) -> float | None:
            value = figures.get(key)
            return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

        return QueueActivity(
            backend=self.name,
            calls_waiting=int(number("calls_waiting") or 0),
            callbacks_waiting=int(
                (number("callbacks_waiting") or 0) + (number("embeddable_callbacks_waiting") or 0)
            ),
            longest_wait_seconds=number("longest_wait_time"),
            average_wait_seconds=number("average_wait_time"),
            agents_online=int(number("agents_online")) if number("agents_online") is not None else None,
            at=self._clock(),
        )


__all__ = ["SUPPORTED", "ZendeskBackend"]
