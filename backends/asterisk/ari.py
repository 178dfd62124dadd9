"""ARI over HTTP (httpx) and its events websocket (websockets), with failures turned into typed errors.

The password goes in an Authorization header on both, never in a URL: an URL ends up in exception texts
and logs (`api_key=user:pass` would carry it there).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from ..base import AuthError, BackendError, Conflict, Invalid, NotFound, Unavailable
from . import wire

log = logging.getLogger(__name__)


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancel a task of ours and wait for its end, whatever it ends with; a cancellation of the task that
    waits (a hub closing the console meanwhile) is not swallowed with the stopped task's."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise
    except Exception:
        pass


def scrub(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret and len(secret) >= 3 else text


class Ari:
    """One ARI user's REST client and its events websocket for one application."""

    def __init__(self, url: str, user: str, password: str, app: str, timeout: float) -> None:
        self.url, self.user, self.app = url, user, app
        self._password = password
        self._http = httpx.AsyncClient(base_url=url, auth=(user, password), timeout=timeout)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None

    def _error(self, error: BaseException, what: str) -> BackendError:
        where = f"Asterisk's ARI at {self.url}"
        if isinstance(error, httpx.TimeoutException | TimeoutError):
            return Unavailable(f"{where} did not answer {what} in time")
        if isinstance(error, httpx.ConnectError | ConnectionRefusedError):
            return Unavailable(f"cannot reach {where} (is Asterisk running?)")
        reason = scrub(str(error).strip() or type(error).__name__, self._password)
        return Unavailable(f"lost {where} during {what}: {reason}")

    async def request(self, method: str, path: str, *, what: str = "", **params: Any) -> Any:
        """The JSON reply (None for 204), or a typed error: 401 AuthError, 404 NotFound, 409 Conflict and
        412 (a channel in a state that does not allow it) Conflict, 400/422 Invalid, 5xx and network failures
        Unavailable."""
        what = what or f"{method} {path}"
        body = params.pop("json", None)
        try:
            reply = await self._http.request(method, path, params=params or None, json=body)
        except httpx.HTTPError as error:
            raise self._error(error, what) from None
        if reply.status_code < 300:
            return reply.json() if reply.content else None
        try:
            detail = str(reply.json().get("message") or reply.json().get("error") or "")
        except (ValueError, AttributeError):
            detail = reply.text[:200]
        detail = scrub(detail, self._password)
        status = reply.status_code
        text = f"Asterisk refused {what}: {status} {detail}".strip()
        if status == 401:
            raise AuthError(
                f"Asterisk refused the ARI login of {self.user!r}: check ari.conf and the stored password"
            )
        if status == 404:
            raise NotFound(text)
        if status in (409, 412):
            raise Conflict(text)
        if status in (400, 422):
            raise Invalid(text)
        raise Unavailable(text)

    async def open_events(
        self, on_message: Callable[[Any], None], on_lost: Callable[[BaseException], None]
    ) -> None:
        """Connect the events websocket; `on_message` gets each event checked (wire.py), `on_lost` the
        error when the socket goes away."""
        ws_url = self.url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        token = base64.b64encode(f"{self.user}:{self._password}".encode()).decode()
        try:
            self._ws = await websockets.connect(
                f"{ws_url}/events?app={self.app}&subscribeAll=false",
                additional_headers={"Authorization": f"Basic {token}"},
                open_timeout=10,
                max_size=16 * 1024 * 1024,
                ping_interval=5,
                ping_timeout=10,
            )
        except websockets.InvalidStatus as error:
            if error.response.status_code == 401:
                raise AuthError(
                    f"Asterisk refused the ARI login of {self.user!r}: check ari.conf and the stored password"
                ) from None
            raise Unavailable(
                f"Asterisk refused the events websocket: {error.response.status_code}"
            ) from None
        except (OSError, TimeoutError, websockets.WebSocketException) as error:
            raise self._error(error, "the events websocket") from None
        self._reader = asyncio.create_task(self._read(self._ws, on_message, on_lost), name="ari-events")

    async def _read(
        self,
        ws: ClientConnection,
        on_message: Callable[[Any], None],
        on_lost: Callable[[BaseException], None],
    ) -> None:
        try:
            async for raw in ws:
                try:
                    message = json.loads(raw)
                except ValueError:
                    log.warning("ARI sent a message that is not JSON; dropped")
                    continue
                problem = wire.problem(message)
                if problem is not None:
                    log.warning("ARI event dropped: %s", problem)
                    continue
                on_message(message)
            on_lost(Unavailable("Asterisk closed the events websocket"))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a lost link, whatever its kind: the adapter reconnects
            on_lost(self._error(error, "the events websocket"))

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        ws, self._ws = self._ws, None
        if reader is not None:
            reader.cancel()
        if ws is not None:
            with contextlib.suppress(OSError, TimeoutError, websockets.WebSocketException):
                await asyncio.wait_for(ws.close(), 2)
        if reader is not None:
            await stop_task(reader)  # it is being closed
        await self._http.aclose()
