"""Views: ticketing/business-rules/views/ (List Active Views, List Tickets From a View)."""

from __future__ import annotations

from typing import Any

from .reference import NOT_FOUND, VIEW_COLUMNS, Refused, iso
from .world import World


class Views(World):
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


__all__ = ["Views"]
