"""Chatwoot's realtime feed: ActionCable over a websocket at `/cable`, channel `RoomChannel`.

The protocol, as Rails' ActionCable speaks it: the server sends `{"type": "welcome"}`; the client sends
`{"command": "subscribe", "identifier": "<json>"}` with the identifier `{"channel": "RoomChannel",
"pubsub_token": ..., "account_id": ..., "user_id": ...}` (the token is the user's `pubsub_token` from
`/api/v1/profile`); the server answers `confirm_subscription` (or `reject_subscription`), then sends
`{"type": "ping", "message": <epoch>}` every 3 s and `{"identifier": ..., "message": {"event": ...,
"data": ...}}` for each event; `{"type": "disconnect", "reason": ..., "reconnect": bool}` before closing.

A feed that says nothing (not even a ping) for `silence` seconds is taken for dead: a half-open TCP
connection would otherwise look like a quiet afternoon. The pubsub token is a secret: it is in no message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import AsyncIterator
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

from ..base import AuthError, Unavailable
from ..http.errors import scrub

log = logging.getLogger(__name__)


class CableLost(Unavailable):
    """The feed closed or went silent: reconnect, then catch up by REST."""


class Cable:
    def __init__(
        self,
        url: str,
        *,
        pubsub_token: str,
        account_id: int,
        user_id: int,
        origin: str,
        service: str,
        silence: float = 10.0,
        open_timeout: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self.identifier = json.dumps(
            {"channel": "RoomChannel", "pubsub_token": pubsub_token, "account_id": account_id, "user_id": user_id}
        )
        self._secret = pubsub_token
        self.origin = origin
        self.service = service
        self.silence = silence
        self.open_timeout = open_timeout
        self._ssl = ssl_context
        self._ws: ClientConnection | None = None

    def _lost(self, what: str, error: BaseException | None = None) -> CableLost:
        detail = f"{self.service}: realtime feed {what}"
        if error is not None:
            detail += f" ({type(error).__name__}: {error})"
        return CableLost(scrub(detail, (self._secret,)))

    async def open(self) -> None:
        """Connect, wait for the welcome, subscribe and wait for the confirmation."""
        try:
            self._ws = await connect(
                self.url,
                origin=self.origin,  # type: ignore[arg-type]
                open_timeout=self.open_timeout,
                ping_interval=None,  # ActionCable pings by itself, and says so in frames we watch
                max_size=4 * 1024 * 1024,
                ssl=self._ssl if self.url.startswith("wss:") else None,
            )
        except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidURI) as error:
            raise self._lost("cannot connect", error) from None
        try:
            async with asyncio.timeout(self.open_timeout):
                await self._handshake()
        except TimeoutError:
            await self.close()
            raise self._lost("did not confirm the subscription in time") from None
        except BaseException:
            await self.close()
            raise

    async def _handshake(self) -> None:
        welcomed = False
        while True:
            frame = await self._receive()
            kind = frame.get("type")
            if kind == "welcome" and not welcomed:
                welcomed = True
                await self._send({"command": "subscribe", "identifier": self.identifier})
            elif kind == "confirm_subscription":
                return
            elif kind == "reject_subscription":
                raise AuthError(f"{self.service}: the realtime feed refused this user's subscription (token revoked?)")
            elif kind == "disconnect":
                self._refused(frame)

    def _refused(self, frame: dict[str, Any]) -> None:
        reason = str(frame.get("reason") or "")
        if reason in ("unauthorized", "invalid_request") or frame.get("reconnect") is False:
            raise AuthError(f"{self.service}: the realtime feed closed: {reason or 'no reason given'}")
        raise self._lost(f"closed by the server ({reason or 'no reason given'})")

    async def _send(self, frame: dict[str, Any]) -> None:
        if self._ws is None:
            raise self._lost("is not open")
        try:
            await self._ws.send(json.dumps(frame))
        except websockets.ConnectionClosed as error:
            raise self._lost("closed", error) from None

    async def _receive(self) -> dict[str, Any]:
        if self._ws is None:
            raise self._lost("is not open")
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that meets a frame
            # arriving at the same moment, and the reader would then never stop.
            async with asyncio.timeout(self.silence):
                text = await self._ws.recv()
        except TimeoutError:
            raise self._lost(f"silent for {self.silence:.0f} s") from None
        except websockets.ConnectionClosed as error:
            raise self._lost("closed", error) from None
        except OSError as error:
            raise self._lost("failed", error) from None
        try:
            frame = json.loads(text)
        except ValueError:
            log.warning("%s: a cable frame that is not JSON was ignored", self.service)
            return {}
        return frame if isinstance(frame, dict) else {}

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        """Each event (`{"event": ..., "data": ...}`) of this subscription, until the feed is lost."""
        while True:
            frame = await self._receive()
            kind = frame.get("type")
            if kind == "ping" or kind == "welcome" or kind == "confirm_subscription":
                continue
            if kind == "disconnect":
                self._refused(frame)
            message = frame.get("message")
            if frame.get("identifier") == self.identifier and isinstance(message, dict) and "event" in message:
                yield message

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(TimeoutError, OSError, websockets.WebSocketException):
                async with asyncio.timeout(2.0):
                    await ws.close()


__all__ = ["Cable", "CableLost"]
