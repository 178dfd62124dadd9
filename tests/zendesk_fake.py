"""A fake Zendesk (Support and Talk) on 127.0.0.1 for the adapter's tests, written from Zendesk's published API
reference. Each handler names the documented page it follows; the shapes of requests and answers, the
pagination, the rate-limit headers and the error bodies are those pages'.

It validates every request: the method and path must be an endpoint of the reference, the query may hold
only that endpoint's parameters (required ones present, values of the documented kinds), a body must be
JSON of the documented shape, and the credentials must be an API token in `{email}/token:{api_token}` basic
auth (Security and authentication, https://developer.zendesk.com/api-reference/introduction/security-and-auth/).
A request outside the reference is answered 400 (or 404 for an unknown endpoint) and kept in `violations`,
which every fixture asserts empty: a wrong request fails the test.

Pages followed (https://developer.zendesk.com/api-reference/ ...):
- introduction/pagination/: cursor pagination, `page[size]` (100 at most), `page[after]`; answers carry
  `meta.has_more`, `meta.after_cursor`, `meta.before_cursor`, `links.next`, `links.prev`.
- introduction/rate-limits/ and documentation/api-basics/best-practices/best-practices-for-avoiding-rate-limiting:
  `x-rate-limit`, `x-rate-limit-remaining`, `ratelimit-limit`, `ratelimit-remaining`, `ratelimit-reset` on
  every answer; 429 with `Retry-After` (seconds) past the limit.
- ticketing/ticket-management/incremental_exports/ (and documentation/ticketing/managing-tickets/
  using-the-incremental-export-api): Incremental Ticket Export, Cursor Based: `start_time` then `cursor`;
  `after_cursor`, `after_url`, `before_cursor`, `before_url`, `end_of_stream`; up to 1000 tickets a page;
  10 requests a minute; changes of the last minute excluded (support.zendesk.com "Announcing a new limit
  for the Incremental Export API", 2024).
- ticketing/tickets/tickets/: Show Ticket, Update Ticket (`{"ticket": {...}}`, `comment` with `body`,
  `public`, `uploads`; `additional_tags`, `remove_tags`; `safe_update` + `updated_stamp`, 409 when the
  ticket changed since: "Protecting against ticket update collisions"; the reference gives the status, the
  wording of the 409's body here is the fake's, in the `{"error", "description"}` shape of the others); the
  answer carries `ticket` and `audit` (ticketing/tickets/ticket_audits/: `events` of type `Comment`...).
- ticketing/tickets/ticket_comments/: List Comments (cursor), comment JSON (`id`, `type`, `author_id`,
  `body`, `html_body`, `plain_body`, `public`, `attachments`, `audit_id`, `via`, `created_at`).
- ticketing/tickets/ticket-attachments/: Upload Files (`POST /api/v2/uploads?filename=`, raw body with its
  Content-Type, optional `token` to add a file to an upload), 201 `{"upload": {"token", "attachments"...}}`.
- ticketing/business-rules/views/: List Active Views, List Tickets From a View (`sort_by` a column of the
  View columns table, `sort_order` asc/desc).
- ticketing/ticket-management/search/: List Search Results (`query`, `page`, `per_page` 100 at most, 1,000
  results at most: 422 past it; `results`, `count`, `next_page`, `previous_page`, `facets`) and Export
  Search Results (`query`, `filter[type]` required, cursor pagination).
- ticketing/users/users/: Show Self, List Users (`role[]`), Show User, Show Many Users (`ids`, 100 at most);
  ticketing/tickets/tickets/#list-tickets for `/users/{id}/tickets/requested`; ticketing/groups/groups/.
- voice/talk-api/availabilities/: Show and Update Availability (`agent_state` online, offline, away,
  transfers_only; `call_status`; `via`).
- voice/talk-api/stats/: Show Current Queue Activity (`agents_online`, `average_wait_time`,
  `callbacks_waiting`, `calls_waiting`, `embeddable_callbacks_waiting`, `longest_wait_time`...), List
  Agents Activity (`agents_activity`, `agent_id`, `agent_state`...).
- Errors (introduction/requests/ and the pages above): `{"error": "RecordInvalid", "description": "Record
  validation errors", "details": {field: [{"description": ...}]}}` for 422, `{"error": "RecordNotFound",
  "description": "Not found"}` for 404, `{"error": "Couldn't authenticate you"}` for 401.

Customers act through `new_ticket` and `customer_writes`; agents elsewhere through `colleague_updates`.
`set_down` stops the server and starts it again on the same port; `fail` makes chosen requests answer an
error (a 429 with Retry-After, a 503...).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

VIA = {"email": "email", "form": "web", "chat": "chat", "social": "facebook", "phone": "voice"}
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
STATUS_ORDER = {s: n for n, s in enumerate(STATUSES)}
PRIORITIES = ("urgent", "high", "normal", "low")
AGENT_STATES = ("online", "offline", "away", "transfers_only")
# View columns (ticketing/business-rules/views/, "View columns"): what sort_by may name.
VIEW_COLUMNS = (
    "assignee",
    "created",
    "group",
    "nice_id",
    "priority",
    "requester",
    "status",
    "type",
    "updated",
    "updated_assignee",
    "updated_requester",
    "updated_by_type",
    "organization",
    "due_date",
    "brand",
)
NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}
NO_AUTH = {"error": "Couldn't authenticate you"}
CONFLICT = {
    "error": "UpdateConflict",
    "description": "Safe Update prevented the update due to outdated ticket data. Please fetch the latest "
    "ticket data and try again.",
}


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> float | None:
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class Refused(Exception):
    """A request the reference does not allow: answered 400 and recorded as a violation."""


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    times: int


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    at: float
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Window:
    """A fixed one-minute (or `seconds`) window of requests, as Zendesk counts them."""

    limit: int
    seconds: float = 60.0
    started: float = 0.0
    used: int = 0

    def take(self, now: float) -> float | None:
        """None when the request is allowed, else the seconds until the window resets."""
        if now - self.started >= self.seconds:
            self.started, self.used = now, 0
        if self.used >= self.limit:
            return max(1.0, math.ceil(self.started + self.seconds - now))
        self.used += 1
        return None

    def reset_in(self, now: float) -> int:
        return max(0, math.ceil(self.started + self.seconds - now))


@dataclass
class FakeZendesk:
    host: str = "127.0.0.1"
    port: int = 0
    export_delay: float = 60.0  # the incremental export leaves out the last minute
    export_limit: int = 10  # incremental export requests per window (10 a minute)
    export_window: float = 60.0
    account_limit: int = 700  # requests a minute (ratelimit-limit)
    search_export_limit: int = 100  # Export Search Results: 100 requests a minute per account
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    groups: dict[int, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    availability: dict[int, dict[str, Any]] = field(default_factory=dict)
    queue_activity: dict[str, Any] = field(default_factory=dict)
    talk: bool = True
    seen: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    record: bool = True
    # The bench's fake: searches answered from the first page's result (its tickets do not change).
    cache_searches: bool = False

    def __post_init__(self) -> None:
        self._ticket_ids = itertools.count(1)
        self._comment_ids = itertools.count(1001)
        self._user_ids = itertools.count(100)
        self._audit_ids = itertools.count(5001)
        self._server: asyncio.Server | None = None
        self._searches: dict[tuple[str, int], list[dict[str, Any]]] = {}
        self._writers: set[asyncio.StreamWriter] = set()
        self._changes: list[tuple[float, int]] = []  # (when, ticket id): the incremental export's log
        self._uploads: dict[str, list[dict[str, Any]]] = {}
        self._customers: dict[str, int] = {}
        self._account = Window(self.account_limit)
        self._export = Window(self.export_limit, self.export_window)
        self._search_window = Window(self.search_export_limit)
        self.tokens: dict[
            str, str
        ] = {}  # API token -> its account's... (any agent may use it with their email)
        self.token = f"zd-{secrets.token_hex(16)}"
        self.tokens[self.token] = "active"
        self.me = self.add_user("Ann Agent", "ann@example.test", role="agent")
        self.colleague = self.add_user("contract-colleague", "colleague@example.test", role="agent")
        self.admin = self.add_user("Sam Supervisor", "sam@example.test", role="admin")
        for number, name in ((1, "Support"), (2, "Billing"), (3, "contract")):
            self.groups[number] = {
                "id": number,
                "name": name,
                "description": "",
                "default": number == 1,
                "deleted": False,
                "created_at": iso(0),
                "updated_at": iso(0),
                "url": f"{self.base_url}/api/v2/groups/{number}.json",
            }
        self.views: dict[int, dict[str, Any]] = {
            360001: {
                "title": "Your unsolved tickets",
                "test": lambda t, me: (
                    t["assignee_id"] == me and STATUS_ORDER[t["status"]] < STATUS_ORDER["solved"]
                ),
            },
            360002: {
                "title": "All unsolved tickets",
                "test": lambda t, me: STATUS_ORDER[t["status"]] < STATUS_ORDER["solved"],
            },
        }
        for user_id in (self.me, self.colleague, self.admin):
            self.availability[user_id] = {"agent_state": "online", "call_status": None, "via": "client"}
        self.queue_activity = {
            "agents_online": 3,
            "ai_agent_calls": 0,
            "average_wait_time": 45,
            "callbacks_waiting": 2,
            "calls_waiting": 5,
            "embeddable_callbacks_waiting": 1,
            "longest_wait_time": 120,
        }

    # ---------------------------------------------------------------------------------- life cycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        for group in self.groups.values():
            group["url"] = f"{self.base_url}/api/v2/groups/{group['id']}.json"

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)

    async def set_down(self, down: bool) -> None:
        if down:
            await self.stop()
        elif self._server is None:
            await self.start()

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        self.faults.append(Fault(method.upper(), re.compile(path), status, headers or {}, body, times))

    # ---------------------------------------------------------------------------------- the world

    def add_user(self, name: str, email: str, *, role: str = "end-user", locale: str = "en-US") -> int:
        user_id = next(self._user_ids)
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "email": email,
            "role": role,
            "locale": locale,
            "phone": None,
            "active": True,
            "verified": True,
            "time_zone": "UTC",
            "created_at": iso(0),
            "updated_at": iso(0),
            "user_fields": {},
        }
        return user_id

    def customer(self, key: str) -> int:
        if key not in self._customers:
            self._customers[key] = self.add_user(key.title(), f"{key}@customer.test", locale="fr-FR")
        return self._customers[key]

    def _now(self, ticket: dict[str, Any] | None = None) -> float:
        now = time.time()
        if ticket is not None:
            now = max(now, ticket["updated"] + 0.001)
        return now

    def _touch(self, ticket: dict[str, Any], at: float | None = None) -> None:
        ticket["updated"] = self._now(ticket) if at is None else at
        self._changes.append((ticket["updated"], ticket["id"]))

    def add_ticket(
        self,
        channel: str,
        subject: str,
        body: str,
        customer: str = "ann",
        *,
        status: str = "new",
        at: float | None = None,
        group: int = 1,
    ) -> int:
        requester = self.customer(customer)
        ticket_id = next(self._ticket_ids)
        now = time.time() if at is None else at
        self.tickets[ticket_id] = {
            "id": ticket_id,
            "subject": subject,
            "description": body,
            "status": status,
            "priority": None,
            "requester_id": requester,
            "submitter_id": requester,
            "assignee_id": None,
            "group_id": group,
            "tags": [],
            "via": VIA[channel],
            "created": now,
            "updated": now,
        }
        self._changes.append((now, ticket_id))
        self.comments[ticket_id] = []
        self._comment(self.tickets[ticket_id], requester, body, public=True, at=now)
        return ticket_id

    async def new_ticket(self, channel: str, subject: str, body: str, customer: str = "ann") -> int:
        return self.add_ticket(channel, subject, body, customer)

    async def customer_writes(self, ticket_id: int, body: str) -> None:
        ticket = self.tickets[ticket_id]
        self._comment(ticket, ticket["requester_id"], body, public=True)
        if ticket["status"] in ("pending", "solved", "hold"):
            ticket["status"] = "open"  # a requester's reply reopens the ticket
        self._touch(ticket)

    def colleague_updates(self, ticket_id: int, *, at: float | None = None, **change: Any) -> None:
        """An agent elsewhere changes the ticket (`at`: when, e.g. a later second than the last change)."""
        ticket = self.tickets[ticket_id]
        ticket.update(change)
        self._touch(ticket, at)

    def _comment(
        self,
        ticket: dict[str, Any],
        author: int,
        body: str,
        *,
        public: bool,
        at: float | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        comment = {
            "id": next(self._comment_ids),
            "type": "Comment",
            "author_id": author,
            "body": body,
            "html_body": f'<div class="zd-comment"><p>{body}</p></div>',
            "plain_body": body,
            "public": public,
            "attachments": list(attachments or []),
            "audit_id": next(self._audit_ids),
            "via": {
                "channel": "api" if self.users[author]["role"] != "end-user" else ticket["via"],
                "source": {"from": {}, "to": {}, "rel": None},
            },
            "created_at": iso(self._now() if at is None else at),
            "metadata": {"system": {}},
        }
        self.comments[ticket["id"]].append(comment)
        return comment

    # ---------------------------------------------------------------------------------- JSON

    def user_json(self, user_id: int) -> dict[str, Any]:
        return {**self.users[user_id], "url": f"{self.base_url}/api/v2/users/{user_id}.json"}

    def ticket_json(self, ticket: dict[str, Any]) -> dict[str, Any]:
        via = ticket["via"]
        source: dict[str, Any] = {"from": {}, "to": {}, "rel": None}
        if via == "email":
            source = {
                "from": {"address": self.users[ticket["requester_id"]]["email"]},
                "to": {"address": "support@example.zendesk.test"},
                "rel": None,
            }
        return {
            "id": ticket["id"],
            "url": f"{self.base_url}/api/v2/tickets/{ticket['id']}.json",
            "external_id": None,
            "via": {"channel": via, "source": source},
            "created_at": iso(ticket["created"]),
            "updated_at": iso(ticket["updated"]),
            "generated_timestamp": int(ticket["updated"]),
            "type": None,
            "subject": ticket["subject"],
            "raw_subject": ticket["subject"],
            "description": ticket["description"],
            "priority": ticket["priority"],
            "status": ticket["status"],
            "recipient": None,
            "requester_id": ticket["requester_id"],
            "submitter_id": ticket["submitter_id"],
            "assignee_id": ticket["assignee_id"],
            "organization_id": None,
            "group_id": ticket["group_id"],
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": None,
            "problem_id": None,
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": list(ticket["tags"]),
            "custom_fields": [],
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "fields": [],
            "followup_ids": [],
            "ticket_form_id": None,
            "brand_id": 1,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
        }

    # ---------------------------------------------------------------------------------- HTTP

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if ":" in line)
                }
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                status, answer, extra = self._handle(method, target, headers, body)
                if isinstance(answer, bytes):
                    payload, kind = answer, extra.pop("content-type", "application/octet-stream")
                else:
                    payload = b"" if answer is None else json.dumps(answer).encode()
                    kind = "application/json; charset=utf-8"
                out = [
                    f"HTTP/1.1 {status} {'OK' if status < 400 else 'Error'}",
                    f"Content-Length: {len(payload)}",
                    f"Content-Type: {kind}",
                    *(f"{k}: {v}" for k, v in extra.items()),
                ]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + payload)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    def _rate_headers(self, now: float) -> dict[str, str]:
        remaining = str(max(0, self._account.limit - self._account.used))
        reset = str(self._account.reset_in(now))
        return {
            "x-rate-limit": str(self._account.limit),
            "x-rate-limit-remaining": remaining,
            "ratelimit-limit": str(self._account.limit),
            "ratelimit-remaining": remaining,
            "ratelimit-reset": reset,
        }

    def _handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        url = urlsplit(target)
        path = url.path
        query: dict[str, list[str]] = {}
        for key, value in parse_qsl(url.query, keep_blank_values=True):
            query.setdefault(key, []).append(value)
        parsed: Any = body
        if headers.get("content-type", "").startswith("application/json"):
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
        if self.record:
            self.seen.append(Seen(method, path, query, parsed, time.monotonic(), headers))
        now = time.monotonic()
        if path.startswith("/attachments/"):  # a file's content_url: not the API, no auth
            stored = self.files.get(path)
            if stored is None:
                return 404, NOT_FOUND, {}
            return 200, stored[2], {"content-type": stored[1]}
        for fault in self.faults:
            if fault.times and fault.method == method and fault.path.search(path):
                fault.times -= 1
                return fault.status, fault.body, {**self._rate_headers(now), **fault.headers}
        wait = self._account.take(now)
        rate = self._rate_headers(now)
        if wait is not None:
            return (
                429,
                {"error": "APIRateLimitExceeded", "description": "Rate limit exceeded"},
                {**rate, "Retry-After": str(int(wait))},
            )
        user = self._authenticate(headers)
        if user is None:
            return 401, NO_AUTH, rate
        try:
            status, answer, extra = self._route(method, path, query, headers, parsed, user, now)
        except Refused as why:
            self.violations.append(f"{method} {target}: {why}")
            return 400, {"error": "InvalidRequest", "description": str(why)}, rate
        return status, answer, {**rate, **extra}

    def _authenticate(self, headers: dict[str, str]) -> int | None:
        """API token authentication (Security and authentication): Basic base64("{email}/token:{api_token}")."""
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            pair = base64.b64decode(value, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        login, _, token = pair.partition(":")
        email, sep, kind = login.rpartition("/")
        if not sep or kind != "token" or self.tokens.get(token) != "active":
            return None
        return next(
            (uid for uid, u in self.users.items() if u["email"] == email and u["role"] != "end-user"), None
        )

    # ---------------------------------------------------------------------------------- validation helpers

    @staticmethod
    def _params(
        query: dict[str, list[str]], allowed: set[str], required: set[str] = frozenset()
    ) -> dict[str, str]:  # type: ignore[assignment]
        for key, values in query.items():
            if key not in allowed:
                raise Refused(
                    f"parameter {key!r} is not one of this endpoint's ({', '.join(sorted(allowed)) or 'none'})"
                )
            if len(values) > 1 and not key.endswith("[]"):
                raise Refused(f"parameter {key!r} given {len(values)} times")
        missing = required - query.keys()
        if missing:
            raise Refused(f"required parameter(s) missing: {', '.join(sorted(missing))}")
        return {k: v[0] for k, v in query.items()}

    @staticmethod
    def _integer(value: str, name: str, low: int = 1, high: int | None = None) -> int:
        if not re.fullmatch(r"\d+", value or ""):
            raise Refused(f"{name} must be an integer, got {value!r}")
        number = int(value)
        if number < low or (high is not None and number > high):
            raise Refused(f"{name} must be between {low} and {high}, got {number}")
        return number

    def _cursor_page(
        self, path: str, raw: dict[str, list[str]], items: list[Any], key: str, max_size: int = 100
    ) -> dict[str, Any]:
        """Cursor pagination (introduction/pagination/): `page[size]`, `page[after]`; `meta` and `links`."""
        query = {k: v[0] for k, v in raw.items()}
        if "page" in query or "per_page" in query:
            raise Refused("offset pagination (page, per_page) mixed with cursor pagination")
        size = self._integer(query.get("page[size]", "100"), "page[size]", 1, max_size)
        start = 0
        if "page[after]" in query:
            try:
                start = int(json.loads(base64.urlsafe_b64decode(query["page[after]"]).decode())["o"])
            except (ValueError, KeyError, TypeError):
                raise Refused(
                    f"page[after] is not a cursor this server gave: {query['page[after]']!r}"
                ) from None
        chunk = items[start : start + size]
        has_more = start + size < len(items)
        after = base64.urlsafe_b64encode(json.dumps({"o": start + size}).encode()).decode()
        before = base64.urlsafe_b64encode(json.dumps({"o": max(0, start - size)}).encode()).decode()
        rest = {k: v for k, v in raw.items() if k not in ("page[after]", "page[before]")}
        link = urlencode({**rest, "page[after]": [after]}, doseq=True, quote_via=quote)
        following = f"{self.base_url}{path}?{link}" if has_more else None
        return {
            key: chunk,
            "meta": {
                "has_more": has_more,
                "after_cursor": after if has_more else None,
                "before_cursor": before if start else None,
            },
            "links": {"next": following, "prev": None},
        }

    # ---------------------------------------------------------------------------------- routes

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
        user: int,
        now: float,
    ) -> tuple[int, Any, dict[str, str]]:
        routes: list[tuple[str, str, Callable[..., tuple[int, Any, dict[str, str]]]]] = [
            ("GET", r"/api/v2/users/me(?:\.json)?", self._me),
            ("GET", r"/api/v2/users(?:\.json)?", self._list_users),
            ("GET", r"/api/v2/users/show_many(?:\.json)?", self._show_many),
            ("GET", r"/api/v2/users/(\d+)(?:\.json)?", self._show_user),
            ("GET", r"/api/v2/users/(\d+)/tickets/requested(?:\.json)?", self._requested),
            ("GET", r"/api/v2/groups(?:\.json)?", self._groups),
            ("GET", r"/api/v2/views/active(?:\.json)?", self._active_views),
            ("GET", r"/api/v2/views/(\d+)/tickets(?:\.json)?", self._view_tickets),
            ("GET", r"/api/v2/search/export(?:\.json)?", self._search_export),
            ("GET", r"/api/v2/search(?:\.json)?", self._search),
            ("GET", r"/api/v2/tickets/(\d+)(?:\.json)?", self._show_ticket),
            ("PUT", r"/api/v2/tickets/(\d+)(?:\.json)?", self._update_ticket),
            ("GET", r"/api/v2/tickets/(\d+)/comments(?:\.json)?", self._list_comments),
            ("POST", r"/api/v2/uploads(?:\.json)?", self._upload),
            ("GET", r"/api/v2/incremental/tickets/cursor(?:\.json)?", self._incremental),
            ("GET", r"/api/v2/channels/voice/availabilities/(\d+)(?:\.json)?", self._show_availability),
            ("PUT", r"/api/v2/channels/voice/availabilities/(\d+)(?:\.json)?", self._update_availability),
            ("GET", r"/api/v2/channels/voice/stats/current_queue_activity(?:\.json)?", self._queue_activity),
            ("GET", r"/api/v2/channels/voice/stats/agents_activity(?:\.json)?", self._agents_activity),
        ]
        methods = []
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match:
                methods.append(verb)
                if verb == method:
                    if method in ("PUT", "POST") and handler != self._upload:
                        kind = headers.get("content-type", "")
                        if not kind.startswith("application/json"):
                            raise Refused(f"a {method} body must be application/json, got {kind!r}")
                        if not isinstance(body, dict):
                            raise Refused("the body is not a JSON object")
                    return handler(
                        *match.groups(), query=query, body=body, user=user, now=now, headers=headers
                    )
        if methods:
            raise Refused(f"{method} is not allowed on {path} (allowed: {', '.join(methods)})")
        self.violations.append(f"{method} {path}: no such endpoint")
        return 404, {"error": "InvalidEndpoint", "description": "Not found"}, {}

    # Users: ticketing/users/users/

    def _me(self, *, query: Any, user: int, **_: Any) -> tuple[int, Any, dict[str, str]]:
        self._params(query, set())
        return 200, {"user": self.user_json(user)}, {}

    def _list_users(self, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        roles = query.get("role[]", [])
        if any(r not in ("end-user", "agent", "admin") for r in roles):
            raise Refused(f"role[] must be end-user, agent or admin, got {roles}")
        self._params(query, {"role[]", "role", "permission_set", "external_id", "page[size]", "page[after]"})
        chosen = [
            self.user_json(uid) for uid, u in sorted(self.users.items()) if not roles or u["role"] in roles
        ]
        return 200, self._cursor_page("/api/v2/users.json", query, chosen, "users"), {}

    def _show_many(self, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        params = self._params(query, {"ids", "external_ids"}, {"ids"})
        ids = [self._integer(part, "ids") for part in params["ids"].split(",")]
        if len(ids) > 100:
            raise Refused(f"Show Many Users takes 100 ids at most, got {len(ids)}")
        return (
            200,
            {
                "users": [self.user_json(i) for i in ids if i in self.users],
                "next_page": None,
                "previous_page": None,
                "count": len(ids),
            },
            {},
        )

    def _show_user(self, user_id: str, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        self._params(query, set())
        if int(user_id) not in self.users:
            return 404, NOT_FOUND, {}
        return 200, {"user": self.user_json(int(user_id))}, {}

    def _requested(self, user_id: str, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        """List Tickets (ticketing/tickets/tickets/#list-tickets): /users/{user_id}/tickets/requested."""
        self._params(query, {"page[size]", "page[after]", "sort_by", "sort_order"})
        if int(user_id) not in self.users:
            return 404, NOT_FOUND, {}
        chosen = [self.ticket_json(t) for t in self.tickets.values() if t["requester_id"] == int(user_id)]
        return (
            200,
            self._cursor_page(f"/api/v2/users/{user_id}/tickets/requested.json", query, chosen, "tickets"),
            {},
        )

    def _groups(self, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        self._params(query, {"page[size]", "page[after]", "exclude_deleted"})
        return 200, self._cursor_page("/api/v2/groups.json", query, list(self.groups.values()), "groups"), {}

    # Views: ticketing/business-rules/views/

    def _active_views(self, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        self._params(query, {"page[size]", "page[after]", "access", "group_id", "sort_by", "sort_order"})
        views = [
            {
                "id": vid,
                "title": v["title"],
                "active": True,
                "default": True,
                "position": n,
                "restriction": None,
                "created_at": iso(0),
                "updated_at": iso(0),
                "url": f"{self.base_url}/api/v2/views/{vid}.json",
            }
            for n, (vid, v) in enumerate(sorted(self.views.items()))
        ]
        return 200, self._cursor_page("/api/v2/views/active.json", query, views, "views"), {}

    def _view_tickets(
        self, view_id: str, *, query: Any, user: int, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        params = self._params(query, {"page[size]", "page[after]", "sort_by", "sort_order"})
        view = self.views.get(int(view_id))
        if view is None:
            return 404, NOT_FOUND, {}
        sort_by, order = params.get("sort_by", "nice_id"), params.get("sort_order", "desc")
        if sort_by not in VIEW_COLUMNS:
            raise Refused(f"sort_by must be a column of the View columns table, got {sort_by!r}")
        if order not in ("asc", "desc"):
            raise Refused(f"sort_order must be asc or desc, got {order!r}")
        chosen = [t for t in self.tickets.values() if t["status"] != "deleted" and view["test"](t, user)]
        keys = {
            "updated": lambda t: t["updated"],
            "created": lambda t: t["created"],
            "nice_id": lambda t: t["id"],
        }
        chosen.sort(key=keys.get(sort_by, lambda t: t["id"]), reverse=order == "desc")
        return (
            200,
            self._cursor_page(
                f"/api/v2/views/{view_id}/tickets.json",
                query,
                [self.ticket_json(t) for t in chosen],
                "tickets",
            ),
            {},
        )

    # Search: ticketing/ticket-management/search/

    def _matches(self, ticket: dict[str, Any], text: str, user: int) -> bool:
        """The query syntax the adapter sends: type:, status<, status:, updated>, created>=/<, tags:,
        priority:, assignee:me, words, "phrases" and word* (words in subject, description and comments)."""
        if ticket["status"] == "deleted":  # deleted tickets are not searchable
            return False
        words = " ".join(
            [
                ticket["subject"],
                ticket["description"],
                *(c["body"] for c in self.comments.get(ticket["id"], [])),
            ]
        ).lower()
        for part in re.findall(r'"[^"]*"|\S+', text):
            if part.startswith('"'):
                if part.strip('"').lower() not in words:
                    return False
                continue
            condition = re.fullmatch(r"([a-z_]+)(:|<=|>=|<|>)(.+)", part)
            if condition is None:
                stem = part.lower().rstrip("*")
                found = re.search(rf"\b{re.escape(stem)}" + (r"" if part.endswith("*") else r"\b"), words)
                if not found:
                    return False
                continue
            name, op, value = condition.groups()
            if name == "type":
                if value != "ticket":
                    return False
            elif name == "status":
                if value not in STATUS_ORDER:
                    raise Refused(f"status {value!r} is not a ticket status")
                here, there = STATUS_ORDER[ticket["status"]], STATUS_ORDER[value]
                if not {
                    ":": here == there,
                    "<": here < there,
                    ">": here > there,
                    "<=": here <= there,
                    ">=": here >= there,
                }[op]:
                    return False
            elif name in ("updated", "created"):
                when = parse_time(value)
                if when is None:
                    raise Refused(f"{name}{op}{value}: not a date or an ISO 8601 time")
                at = int(ticket["updated" if name == "updated" else "created"])
                if not {">": at > when, ">=": at >= when, "<": at < when, "<=": at <= when, ":": at == when}[
                    op
                ]:
                    return False
            elif name == "tags":
                if value not in ticket["tags"]:
                    return False
            elif name == "priority":
                if ticket["priority"] != value:
                    return False
            elif name == "assignee":
                if value == "me" and ticket["assignee_id"] != user:
                    return False
            else:
                raise Refused(f"the fake does not know the search keyword {name!r}")
        return True

    def _search_export(self, *, query: Any, user: int, **_: Any) -> tuple[int, Any, dict[str, str]]:
        """Export Search Results: `query` and `filter[type]` required, cursor pagination (1000 a page at most)."""
        params = self._params(
            query, {"query", "filter[type]", "page[size]", "page[after]"}, {"query", "filter[type]"}
        )
        if re.search(r"(?<!\S)type:", params["query"]):
            raise Refused(
                "Export Search Results takes the type in filter[type]: type: in the query is an error"
            )
        wait = self._search_window.take(time.monotonic())
        if wait is not None:  # "rate-limited to 100 requests per minute per account"
            return (
                429,
                {"error": "APIRateLimitExceeded", "description": "Rate limit exceeded"},
                {"Retry-After": str(int(wait))},
            )
        if params["filter[type]"] not in ("ticket", "user", "organization", "group"):
            raise Refused(
                f"filter[type] must be ticket, user, organization or group, got {params['filter[type]']!r}"
            )
        key = (params["query"], user)
        found = self._searches.get(key) if self.cache_searches else None
        if found is None:
            found = [
                t
                for t in sorted(self.tickets.values(), key=lambda t: (t["created"], t["id"]))
                if self._matches(t, params["query"], user)
            ]
            if self.cache_searches:
                self._searches[key] = found
        page = self._cursor_page("/api/v2/search/export.json", query, found, "results", max_size=1000)
        page["results"] = [{**self.ticket_json(t), "result_type": "ticket"} for t in page["results"]]
        return 200, {**page, "facets": None}, {}

    def _search(self, *, query: Any, user: int, **_: Any) -> tuple[int, Any, dict[str, str]]:
        """List Search Results: offset pages, 100 a page at most, 1,000 results at most (422 past it)."""
        params = self._params(
            query, {"query", "page", "per_page", "sort_by", "sort_order", "include"}, {"query"}
        )
        page = self._integer(params.get("page", "1"), "page")
        per_page = self._integer(params.get("per_page", "100"), "per_page", 1, 100)
        if (page - 1) * per_page >= 1000:
            return (
                422,
                {
                    "error": "InvalidSearch",
                    "description": "Requested response size was greater than Search Response Limits",
                },
                {},
            )
        found = [
            {**self.ticket_json(t), "result_type": "ticket"}
            for t in sorted(self.tickets.values(), key=lambda t: -t["updated"])
            if self._matches(t, params["query"], user)
        ]
        chunk = found[(page - 1) * per_page : page * per_page]
        more = page * per_page < min(len(found), 1000)
        following = (
            f"{self.base_url}/api/v2/search.json?{urlencode({**params, 'page': page + 1})}" if more else None
        )
        return (
            200,
            {
                "results": chunk,
                "facets": None,
                "next_page": following,
                "previous_page": None if page == 1 else "...",
                "count": len(found),
            },
            {},
        )

    # Tickets: ticketing/tickets/tickets/

    def _ticket(self, ticket_id: str) -> dict[str, Any] | None:
        return self.tickets.get(int(ticket_id))

    def _show_ticket(self, ticket_id: str, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        self._params(query, {"include"})
        ticket = self._ticket(ticket_id)
        if ticket is None:
            return 404, NOT_FOUND, {}
        return 200, {"ticket": self.ticket_json(ticket)}, {}

    TICKET_FIELDS = frozenset(
        {
            "comment",
            "status",
            "priority",
            "assignee_id",
            "group_id",
            "tags",
            "additional_tags",
            "remove_tags",
            "safe_update",
            "updated_stamp",
            "subject",
            "type",
        }
    )

    def _update_ticket(
        self, ticket_id: str, *, query: Any, body: Any, user: int, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """Update Ticket, with Protecting against ticket update collisions (safe_update) and tags by name."""
        self._params(query, {"async"})
        change = body.get("ticket")
        if set(body) != {"ticket"} or not isinstance(change, dict) or not change:
            raise Refused('the body must be {"ticket": {...}} with at least one property')
        unknown = set(change) - self.TICKET_FIELDS
        if unknown:
            raise Refused(f"unknown ticket properties: {', '.join(sorted(unknown))}")
        if "safe_update" in change and (
            change["safe_update"] is not True or not isinstance(change.get("updated_stamp"), str)
        ):
            raise Refused("safe_update must be true and come with updated_stamp (the ticket's updated_at)")
        comment = change.get("comment")
        if comment is not None:
            if not isinstance(comment, dict) or not isinstance(
                comment.get("body", comment.get("html_body")), str
            ):
                raise Refused("comment must be an object with a body")
            if set(comment) - {"body", "html_body", "public", "uploads", "author_id"}:
                raise Refused(
                    f"unknown comment properties: {sorted(set(comment) - {'body', 'html_body', 'public', 'uploads', 'author_id'})}"
                )
            if "public" in comment and not isinstance(comment["public"], bool):
                raise Refused("comment.public must be a boolean")
            uploads = comment.get("uploads", [])
            if not isinstance(uploads, list) or not all(isinstance(u, str) for u in uploads):
                raise Refused("comment.uploads must be a list of upload tokens")
        for key in ("additional_tags", "remove_tags", "tags"):
            if key in change and (
                not isinstance(change[key], list) or not all(isinstance(t, str) for t in change[key])
            ):
                raise Refused(f"{key} must be a list of strings")
        ticket = self._ticket(ticket_id)
        if ticket is None:
            return 404, NOT_FOUND, {}
        if change.get("safe_update") and change["updated_stamp"] != iso(ticket["updated"]):
            return 409, CONFLICT, {}
        details: dict[str, list[dict[str, str]]] = {}
        status = change.get("status")
        if status is not None and status not in STATUSES:
            details["status"] = [{"description": f"Status: {status} is not a valid status"}]
        elif status == "new" and ticket["status"] != "new":
            details["status"] = [{"description": "Status: new is not valid for a ticket that is not new"}]
        if "priority" in change and change["priority"] not in (*PRIORITIES, None):
            details["priority"] = [{"description": f"Priority: {change['priority']} is not valid"}]
        if change.get("assignee_id") is not None and (
            not isinstance(change["assignee_id"], int)
            or self.users.get(change["assignee_id"], {}).get("role") not in ("agent", "admin")
        ):
            details["assignee"] = [{"description": "Assignee: is not an agent"}]
        if "group_id" in change and change["group_id"] not in self.groups:
            details["group"] = [{"description": "Group: is invalid"}]
        uploads: list[dict[str, Any]] = []
        for token in (comment or {}).get("uploads", []):
            if token not in self._uploads:
                details["uploads"] = [{"description": f"Upload token {token} is invalid or expired"}]
            else:
                uploads.extend(self._uploads[token])
        if details:
            return (
                422,
                {"error": "RecordInvalid", "description": "Record validation errors", "details": details},
                {},
            )
        events: list[dict[str, Any]] = []
        for key in ("status", "priority", "assignee_id", "group_id", "subject"):
            if key in change and change[key] != ticket[key]:
                events.append(
                    {
                        "id": next(self._audit_ids),
                        "type": "Change",
                        "field_name": key.removesuffix("_id"),
                        "value": change[key],
                        "previous_value": ticket[key],
                    }
                )
                ticket[key] = change[key]
        if "tags" in change:
            ticket["tags"] = list(dict.fromkeys(change["tags"]))
        ticket["tags"] = [t for t in ticket["tags"] if t not in change.get("remove_tags", [])]
        ticket["tags"] += [t for t in change.get("additional_tags", []) if t not in ticket["tags"]]
        if comment is not None:
            public = comment.get("public", True)
            made = self._comment(
                ticket,
                user,
                comment.get("body") or comment.get("html_body", ""),
                public=public,
                attachments=uploads,
            )
            events.insert(
                0,
                {
                    k: made[k]
                    for k in (
                        "id",
                        "type",
                        "author_id",
                        "body",
                        "html_body",
                        "plain_body",
                        "public",
                        "attachments",
                        "audit_id",
                    )
                },
            )
            if ticket["status"] == "new":
                ticket["status"] = "open"
        self._touch(ticket)
        audit = {
            "id": next(self._audit_ids),
            "ticket_id": ticket["id"],
            "created_at": iso(ticket["updated"]),
            "author_id": user,
            "metadata": {"system": {}},
            "via": {"channel": "api"},
            "events": events,
        }
        return 200, {"ticket": self.ticket_json(ticket), "audit": audit}, {}

    def _list_comments(self, ticket_id: str, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        """List Comments (ticketing/tickets/ticket_comments/), oldest first by default, cursor pages."""
        self._params(query, {"page[size]", "page[after]", "sort_order", "include", "include_inline_images"})
        ticket = self._ticket(ticket_id)
        if ticket is None:
            return 404, NOT_FOUND, {}
        return (
            200,
            self._cursor_page(
                f"/api/v2/tickets/{ticket_id}/comments.json",
                query,
                list(self.comments[ticket["id"]]),
                "comments",
            ),
            {},
        )

    def _upload(
        self, *, query: Any, body: Any, headers: dict[str, str], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """Upload Files (ticketing/tickets/ticket-attachments/): `filename` required, the file as the raw body
        with a recognised Content-Type; `token` adds it to an earlier upload."""
        params = self._params(query, {"filename", "token"}, {"filename"})
        kind = headers.get("content-type", "")
        if not kind or kind.startswith(
            ("application/json", "multipart/form-data", "application/x-www-form-urlencoded")
        ):
            raise Refused(f"an upload is the file itself with its own Content-Type, got {kind!r}")
        token = params.get("token") or secrets.token_hex(12)
        if "token" in params and token not in self._uploads:
            return (
                422,
                {
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": {"token": [{"description": "is invalid"}]},
                },
                {},
            )
        number = next(self._audit_ids)
        location = f"/attachments/token/{secrets.token_hex(6)}/?name={quote(params['filename'])}"
        self.files[location.split("?")[0]] = (params["filename"], kind, bytes(body))
        attachment = {
            "id": number,
            "file_name": params["filename"],
            "content_url": f"{self.base_url}{location}",
            "content_type": kind,
            "size": len(body),
            "inline": False,
            "deleted": False,
            "mapped_content_url": f"{self.base_url}{location}",
            "url": f"{self.base_url}/api/v2/attachments/{number}.json",
            "thumbnails": [],
        }
        self._uploads.setdefault(token, []).append(attachment)
        return (
            201,
            {
                "upload": {
                    "token": token,
                    "expires_at": iso(time.time() + 3600),
                    "attachment": attachment,
                    "attachments": list(self._uploads[token]),
                }
            },
            {},
        )

    # Incremental Exports: ticketing/ticket-management/incremental_exports/

    def _incremental(self, *, query: Any, now: float, user: int, **_: Any) -> tuple[int, Any, dict[str, str]]:
        """Allowed for admins only ("Allowed For: Admins"); agents are answered 403 as Zendesk answers them."""
        params = self._params(query, {"start_time", "cursor", "per_page", "include", "exclude_deleted"})
        if ("start_time" in params) == ("cursor" in params):
            raise Refused("give start_time (the first time) or cursor (afterwards), one of the two")
        if self.users[user]["role"] != "admin":
            return (
                403,
                {
                    "error": {
                        "title": "Forbidden",
                        "message": "You do not have access to this page. Please "
                        "contact the account owner of this help desk for further help.",
                    }
                },
                {},
            )
        wait = self._export.take(now)
        if wait is not None:
            return (
                429,
                {
                    "error": "APIRateLimitExceeded",
                    "description": "Number of allowed incremental export API requests per minute exceeded",
                },
                {"Retry-After": str(int(wait))},
            )
        cutoff = time.time() - self.export_delay
        if "start_time" in params:
            start = self._integer(params["start_time"], "start_time", 0)
            if start > cutoff:
                return (
                    400,
                    {
                        "error": "InvalidValue",
                        "description": "start_time must be more than one minute in the past",
                    },
                    {},
                )
            position = next((n for n, (at, _) in enumerate(self._changes) if at >= start), len(self._changes))
        else:
            try:
                position = int(base64.urlsafe_b64decode(params["cursor"]).decode())
            except ValueError:
                raise Refused(f"cursor is not one this server gave: {params['cursor']!r}") from None
        end = position
        while end < len(self._changes) and self._changes[end][0] <= cutoff and end - position < 1000:
            end += 1
        ids = list(dict.fromkeys(ticket_id for _, ticket_id in self._changes[position:end]))
        tickets = [self.ticket_json(self.tickets[i]) for i in ids if i in self.tickets]
        cursor = base64.urlsafe_b64encode(str(end).encode()).decode()
        before = base64.urlsafe_b64encode(str(position).encode()).decode()
        done = end >= len(self._changes) or self._changes[end][0] > cutoff
        return (
            200,
            {
                "tickets": tickets,
                "after_cursor": cursor,
                "after_url": f"{self.base_url}/api/v2/incremental/tickets/cursor.json?cursor={cursor}",
                "before_cursor": before,
                "before_url": f"{self.base_url}/api/v2/incremental/tickets/cursor.json?cursor={before}",
                "end_of_stream": done,
            },
            {},
        )

    # Talk: voice/talk-api/availabilities/ and voice/talk-api/stats/

    def _show_availability(self, agent_id: str, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        self._params(query, set())
        if not self.talk:
            return 403, {"error": "Forbidden", "description": "You do not have access to this page"}, {}
        if int(agent_id) not in self.availability:
            return 404, NOT_FOUND, {}
        return 200, {"availability": dict(self.availability[int(agent_id)])}, {}

    def _update_availability(
        self, agent_id: str, *, query: Any, body: Any, user: int, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self._params(query, set())
        change = body.get("availability")
        if set(body) != {"availability"} or not isinstance(change, dict) or not change:
            raise Refused('the body must be {"availability": {...}}')
        if set(change) - {"agent_state", "via"}:
            raise Refused(f"only agent_state and via may be updated, got {sorted(change)}")
        if "agent_state" in change and change["agent_state"] not in AGENT_STATES:
            raise Refused(
                f"agent_state must be one of {', '.join(AGENT_STATES)}, got {change['agent_state']!r}"
            )
        if not self.talk:
            return 403, {"error": "Forbidden", "description": "You do not have access to this page"}, {}
        if int(agent_id) not in self.availability:
            return 404, NOT_FOUND, {}
        if int(agent_id) != user and self.users[user]["role"] != "admin":
            return 403, {"error": "Forbidden", "description": "You do not have access to this page"}, {}
        self.availability[int(agent_id)].update(change)
        return 200, {"availability": dict(self.availability[int(agent_id)])}, {}

    def _queue_activity(self, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        params = self._params(query, {"phone_number_ids"})
        if "phone_number_ids" in params and not re.fullmatch(r"\d+(,\d+){0,99}", params["phone_number_ids"]):
            raise Refused("phone_number_ids must be a comma-separated list of up to 100 ids")
        if not self.talk:
            return 403, {"error": "Forbidden", "description": "You do not have access to this page"}, {}
        return 200, {"current_queue_activity": dict(self.queue_activity)}, {}

    def _agents_activity(self, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        self._params(query, {"group_ids", "page", "per_page"})
        if not self.talk:
            return 403, {"error": "Forbidden", "description": "You do not have access to this page"}, {}
        rows = [
            {
                "agent_id": uid,
                "name": self.users[uid]["name"],
                "agent_state": a["agent_state"],
                "call_status": a["call_status"],
                "via": a["via"],
                "available_time": 0,
                "away_time": 0,
                "calls_accepted": 0,
                "calls_denied": 0,
                "calls_missed": 0,
                "online_time": 0,
                "total_call_duration": 0,
                "total_talk_time": 0,
                "total_wrap_up_time": 0,
                "transfers_only_time": 0,
                "forwarding_number": None,
                "avatar_url": None,
            }
            for uid, a in sorted(self.availability.items())
        ]
        return (
            200,
            {"agents_activity": rows, "count": len(rows), "next_page": None, "previous_page": None},
            {},
        )


__all__ = ["FakeZendesk", "Seen", "iso"]
