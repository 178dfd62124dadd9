"""Satisfaction ratings: ticketing/ticket-management/satisfaction_ratings/ (List Satisfaction Ratings, the
legacy CSAT: "Allowed For: Admins"; cursor pagination; the filters `score`, `start_time` and `end_time`)."""

from __future__ import annotations

import time
from typing import Any

from .reference import Refused, iso
from .world import World

# The page's Filters table: what `score` may be.
SCORES = (
    "offered",
    "unoffered",
    "received",
    "received_with_comment",
    "received_without_comment",
    "good",
    "good_with_comment",
    "good_without_comment",
    "bad",
    "bad_with_comment",
    "bad_without_comment",
)


def _matches(rating: dict[str, Any], score: str) -> bool:
    """The page's rule: an unqualified score (good) takes the ratings with and without a comment."""
    given, commented = rating["score"], bool(rating["comment"])
    base, _, qualifier = score.partition("_with")
    wanted = {"received": given in ("good", "bad")}.get(base, given == base)
    if qualifier == "_comment":
        return wanted and commented
    if qualifier == "out_comment":
        return wanted and not commented
    return wanted


class Satisfaction(World):
    def customer_rates(
        self, ticket_id: int, score: str, comment: str = "", *, at: float | None = None
    ) -> int:
        """The requester answers the survey of a ticket (`score` good or bad; offered: asked, not answered):
        the rating keeps the agent and group then assigned."""
        ticket = self.tickets[ticket_id]
        number = 7001 + len(self.satisfaction_ratings)
        when = time.time() if at is None else at
        self.satisfaction_ratings.append(
            {
                "id": number,
                "url": f"{self.base_url}/api/v2/satisfaction_ratings/{number}.json",
                "assignee_id": ticket["assignee_id"],
                "group_id": ticket["group_id"],
                "requester_id": ticket["requester_id"],
                "ticket_id": ticket_id,
                "score": score,
                "comment": comment,
                "reason": None,
                "reason_code": 0,
                "reason_id": None,
                "created_at": iso(when),
                "updated_at": iso(when),
                "at": when,
            }
        )
        return number

    def _satisfaction_ratings(self, *, query: Any, user: int, **_: Any) -> tuple[int, Any, dict[str, str]]:
        params = self._params(query, {"score", "start_time", "end_time", "page[size]", "page[after]"})
        if self.users[user]["role"] != "admin":
            return 403, {"error": "Forbidden", "description": "You do not have access to this page"}, {}
        score = params.get("score", "received")
        if score not in SCORES:
            raise Refused(f"score must be one of {', '.join(SCORES)}, got {score!r}")
        start = self._integer(params.get("start_time", "0"), "start_time", 0)
        end = self._integer(params["end_time"], "end_time", 0) if "end_time" in params else None
        chosen = [
            {k: v for k, v in r.items() if k != "at"}
            for r in sorted(self.satisfaction_ratings, key=lambda r: (r["at"], r["id"]))
            if _matches(r, score) and start <= r["at"] and (end is None or r["at"] <= end)
        ]
        return (
            200,
            self._cursor_page("/api/v2/satisfaction_ratings.json", query, chosen, "satisfaction_ratings"),
            {},
        )


__all__ = ["SCORES", "Satisfaction"]
