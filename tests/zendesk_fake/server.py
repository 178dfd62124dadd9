"""`Server`: the fake's HTTP side: every request checked (rate limits: introduction/rate-limits/; API token
authentication: Security and authentication), then routed to its endpoint by `_route` (the package's
`FakeZendesk`), a refused one answered 400 and kept in `violations`."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from helpdesk_fake import FakeServer, Request, answer

from .reference import NO_AUTH, NOT_FOUND, Refused, Seen
from .world import World


class Server(FakeServer, World):
    def _started(self) -> None:
        for group in self.groups.values():
            group["url"] = f"{self.base_url}/api/v2/groups/{group['id']}.json"

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: Request) -> bool:
        body = await reader.readexactly(int(request.headers.get("content-length") or 0))
        status, reply, extra = self._handle(request.method, request.target, request.headers, body)
        if isinstance(reply, bytes):
            kind = extra.pop("content-type", "application/octet-stream")
        else:
            kind = "application/json; charset=utf-8"
        await answer(writer, status, reply, extra, kind=kind)
        return True

    if TYPE_CHECKING:  # FakeZendesk's: each documented endpoint to its area's handler

        def _route(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any, user: int, now: float) -> tuple[int, Any, dict[str, str]]: ...

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
        fault = self.fault_for(method, path)
        if fault is not None:
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


__all__ = ["Server"]
