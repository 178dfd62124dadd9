"""Users and groups: ticketing/users/users/ (Show Self, List Users, Show User, Show Many Users),
ticketing/tickets/tickets/#list-tickets (a user's requested tickets) and ticketing/groups/groups/."""

from __future__ import annotations

from typing import Any

from .reference import NOT_FOUND, Refused
from .world import World


class Users(World):
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


__all__ = ["Users"]
