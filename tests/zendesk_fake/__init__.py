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
- ticketing/ticket-management/satisfaction_ratings/: List Satisfaction Ratings (the legacy CSAT, admins
  only; `score` offered, unoffered, received, good, bad, each also `_with_comment` / `_without_comment`;
  `start_time`, `end_time` in Unix seconds; cursor pagination; `assignee_id`, `group_id`, `requester_id`,
  `ticket_id`, `score`, `comment`, `reason`...).
- Errors (introduction/requests/ and the pages above): `{"error": "RecordInvalid", "description": "Record
  validation errors", "details": {field: [{"description": ...}]}}` for 422, `{"error": "RecordNotFound",
  "description": "Not found"}` for 404, `{"error": "Couldn't authenticate you"}` for 401.

The package holds one module an area of the API: reference.py (the reference's values and error bodies),
account.py (the account's data and the query checks every endpoint makes), world.py (what the tests make:
users, tickets, comments, and their JSON), server.py (HTTP, rate limits, authentication), then users.py,
views.py, search.py, tickets.py, incremental.py, talk.py and satisfaction.py (the endpoints of each page). `FakeZendesk` below
composes them and routes each documented endpoint to its handler.

Customers act through `new_ticket` and `customer_writes`; agents elsewhere through `colleague_updates`.
`set_down` stops the server and starts it again on the same port; `fail` makes chosen requests answer an
error (a 429 with Retry-After, a 503...).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from helpdesk_fake import Fault

from .incremental import Incremental
from .reference import STATUS_ORDER, Refused, Seen, Window, iso
from .satisfaction import Satisfaction
from .search import Search
from .server import Server
from .talk import Talk
from .tickets import Tickets
from .users import Users
from .views import Views


@dataclass
class FakeZendesk(Server, Users, Views, Search, Tickets, Incremental, Talk, Satisfaction):
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
    satisfaction_ratings: list[dict[str, Any]] = field(default_factory=list)
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
            ("GET", r"/api/v2/satisfaction_ratings(?:\.json)?", self._satisfaction_ratings),
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


__all__ = ["FakeZendesk", "Seen", "iso"]
