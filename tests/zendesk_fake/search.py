"""Search: ticketing/ticket-management/search/ (List Search Results, Export Search Results) and the query
syntax the adapter sends."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlencode

from .reference import STATUS_ORDER, Refused, parse_time
from .world import World


class Search(World):
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


__all__ = ["Search"]
