"""Incremental Exports: ticketing/ticket-management/incremental_exports/ (Incremental Ticket Export,
Cursor Based)."""

from __future__ import annotations

import base64
import time
from typing import Any

from .reference import Refused
from .world import World


class Incremental(World):
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


__all__ = ["Incremental"]
