"""`Account`: the fake account's data, as every area of the fake reads it, and the checks every endpoint
makes of its query (the documented parameters, integers, cursor pagination: introduction/pagination/)."""

from __future__ import annotations

import base64
import itertools
import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from helpdesk_fake import Fault

from .reference import Refused, Seen, Window


class Account:
    """The fields of `FakeZendesk` (its dataclass) and what `__post_init__` makes, for its parts."""

    host: str
    port: int
    export_delay: float
    export_limit: int
    export_window: float
    account_limit: int
    search_export_limit: int
    users: dict[int, dict[str, Any]]
    groups: dict[int, dict[str, Any]]
    tickets: dict[int, dict[str, Any]]
    comments: dict[int, list[dict[str, Any]]]
    availability: dict[int, dict[str, Any]]
    queue_activity: dict[str, Any]
    talk: bool
    seen: list[Seen]
    faults: list[Fault]
    violations: list[str]
    files: dict[str, tuple[str, str, bytes]]
    satisfaction_ratings: list[dict[str, Any]]
    record: bool
    cache_searches: bool
    me: int
    colleague: int
    admin: int
    token: str
    tokens: dict[str, str]
    views: dict[int, dict[str, Any]]
    _ticket_ids: itertools.count[int]
    _comment_ids: itertools.count[int]
    _user_ids: itertools.count[int]
    _audit_ids: itertools.count[int]
    _searches: dict[tuple[str, int], list[dict[str, Any]]]
    _changes: list[tuple[float, int]]
    _uploads: dict[str, list[dict[str, Any]]]
    _customers: dict[str, int]
    _account: Window
    _export: Window
    _search_window: Window

    if TYPE_CHECKING:

        @property
        def base_url(self) -> str: ...

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


__all__ = ["Account"]
