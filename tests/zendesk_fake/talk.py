"""Talk: voice/talk-api/availabilities/ (Show and Update Availability) and voice/talk-api/stats/ (Show
Current Queue Activity, List Agents Activity)."""

from __future__ import annotations

import re
from typing import Any

from .reference import AGENT_STATES, NOT_FOUND, Refused
from .world import World


class Talk(World):
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


__all__ = ["Talk"]
