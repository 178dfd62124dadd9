"""Zendesk's Support and Talk APIs (`/api/v2`, basic auth `{email}/token:{api_token}`), one method per call.

Every call goes through the shared `HttpClient` (backends/http): timeouts, retries that obey 429/503
`Retry-After` (and `ratelimit-reset`), typed errors free of the token. Lists are read with cursor pagination
(`page[size]`, then `links.next` while `meta.has_more`). Methods return Zendesk's JSON as it comes;
mapping.py reads it.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

from ..base import Conflict, Invalid
from ..http import HttpClient, cursor_pages

# Show Many Users takes up to 100 ids (Users, "Show Many Users").
SHOW_MANY = 100


def basic_auth(email: str, token: Callable[[], str]) -> Callable[[], dict[str, str]]:
    """API token authentication: `{email}/token:{api_token}` in a Basic header (Security and authentication)."""

    def header() -> dict[str, str]:
        pair = f"{email}/token:{token()}".encode()
        return {"authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    return header


class ZendeskApi:
    def __init__(self, http: HttpClient, page_size: int = 100) -> None:
        self.http = http
        self.page_size = page_size

    def _pages(self, path: str, items: str, **params: Any) -> AsyncIterator[Sequence[Any]]:
        return cursor_pages(self.http, path, items=items, params={"page[size]": self.page_size, **params})

    async def _all(self, path: str, items: str, **params: Any) -> list[dict[str, Any]]:
        return [item async for page in self._pages(path, items, **params) for item in page]

    # ---------------------------------------------------------------------------------- users and groups

    async def me(self) -> dict[str, Any]:
        return dict((await self.http.get("/api/v2/users/me.json"))["user"])

    async def agents(self) -> list[dict[str, Any]]:
        return await self._all("/api/v2/users.json", "users", **{"role[]": ["agent", "admin"]})

    async def user(self, user_id: int) -> dict[str, Any]:
        return dict((await self.http.get(f"/api/v2/users/{user_id}.json"))["user"])

    async def users(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        wanted = sorted(set(ids))
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), SHOW_MANY):
            chunk = ",".join(str(i) for i in wanted[start : start + SHOW_MANY])
            body = await self.http.get("/api/v2/users/show_many.json", ids=chunk)
            found.extend(body.get("users") or ())
        return found

    async def groups(self) -> list[dict[str, Any]]:
        return await self._all("/api/v2/groups.json", "groups")

    # ---------------------------------------------------------------------------------- tickets

    async def active_views(self) -> list[dict[str, Any]]:
        return await self._all("/api/v2/views/active.json", "views")

    def view_pages(self, view_id: int) -> AsyncIterator[Sequence[dict[str, Any]]]:
        """A view's tickets, the latest updated first (so that a poll can stop at what it has seen)."""
        return self._pages(
            f"/api/v2/views/{view_id}/tickets.json", "tickets", sort_by="updated", sort_order="desc"
        )

    def search_pages(self, query: str) -> AsyncIterator[Sequence[dict[str, Any]]]:
        """Export Search Results: every ticket matching `query`, cursor-paginated, without the 1,000-result
        limit of the plain search. The type goes in `filter[type]`: a `type:` in the query is an error there."""
        query = " ".join(part for part in query.split() if not part.lower().startswith("type:"))
        return self._pages("/api/v2/search/export.json", "results", query=query, **{"filter[type]": "ticket"})

    async def search(self, query: str, page: int = 1, per_page: int = 100) -> dict[str, Any]:
        """List Search Results (ranked, offset-paginated: 1,000 results at most)."""
        return dict(await self.http.get("/api/v2/search.json", query=query, page=page, per_page=per_page))

    async def ticket(self, ticket_id: int) -> dict[str, Any]:
        return dict((await self.http.get(f"/api/v2/tickets/{ticket_id}.json"))["ticket"])

    async def requested(self, user_id: int) -> list[dict[str, Any]]:
        return await self._all(f"/api/v2/users/{user_id}/tickets/requested.json", "tickets")

    async def comments(self, ticket_id: int) -> list[dict[str, Any]]:
        return await self._all(f"/api/v2/tickets/{ticket_id}/comments.json", "comments")

    async def update(
        self, ticket_id: int, ticket: dict[str, Any], *, stamp: str | None = None
    ) -> dict[str, Any]:
        """Update Ticket. With `stamp` (the `updated_at` the change was decided on) it is a safe update:
        Zendesk answers 409 if the ticket changed since, which is raised as `Conflict`."""
        body = dict(ticket)
        if stamp:
            body |= {"safe_update": True, "updated_stamp": stamp}
        try:
            return dict(await self.http.put(f"/api/v2/tickets/{ticket_id}.json", {"ticket": body}))
        except Conflict as error:
            if " answered 422" in str(error):  # RecordInvalid: a refused value, not a collision
                raise Invalid(str(error)) from None
            raise Conflict(
                f"{self.http.service}: ticket {ticket_id} was changed by someone else since it was loaded; "
                f"look at it again and redo the change ({error})"
            ) from None

    async def upload(self, filename: str, data: bytes, content_type: str, token: str | None = None) -> str:
        """Upload Files: one file per request, the later ones joined to the first's token (valid 60 minutes)."""
        params = {"filename": filename, **({"token": token} if token else {})}
        body = await self.http.json(
            "POST",
            "/api/v2/uploads.json",
            params=params,
            content=data,
            headers={"content-type": content_type or "application/octet-stream"},
        )
        return str(body["upload"]["token"])

    async def incremental(
        self, *, start_time: int | None = None, cursor: str | None = None
    ) -> dict[str, Any]:
        """Incremental Ticket Export, Cursor Based: `start_time` the first time, then the `after_cursor`."""
        params: dict[str, Any] = {"cursor": cursor} if cursor else {"start_time": int(start_time or 0)}
        return dict(await self.http.get("/api/v2/incremental/tickets/cursor.json", **params))

    def satisfaction_pages(self, start_time: int, end_time: int) -> AsyncIterator[Sequence[dict[str, Any]]]:
        """List Satisfaction Ratings (ticketing/ticket-management/satisfaction_ratings/, admins only): the
        ratings received (good or bad, `score=received`) from `start_time` to `end_time` (Unix seconds),
        cursor pages."""
        return self._pages(
            "/api/v2/satisfaction_ratings.json",
            "satisfaction_ratings",
            score="received",
            start_time=start_time,
            end_time=end_time,
        )

    # ---------------------------------------------------------------------------------- Talk

    async def availability(self, agent_id: int) -> dict[str, Any]:
        body = await self.http.get(f"/api/v2/channels/voice/availabilities/{agent_id}.json")
        return dict(body.get("availability") or {})

    async def set_availability(self, agent_id: int, agent_state: str) -> dict[str, Any]:
        body = await self.http.put(
            f"/api/v2/channels/voice/availabilities/{agent_id}.json",
            {"availability": {"agent_state": agent_state}},
        )
        return dict((body or {}).get("availability") or {})

    async def agents_activity(self) -> list[dict[str, Any]]:
        body = await self.http.get("/api/v2/channels/voice/stats/agents_activity.json")
        return list(body.get("agents_activity") or ())

    async def current_queue_activity(self) -> dict[str, Any]:
        body = await self.http.get("/api/v2/channels/voice/stats/current_queue_activity.json")
        return dict(body.get("current_queue_activity") or {})


__all__ = ["SHOW_MANY", "ZendeskApi", "basic_auth"]
