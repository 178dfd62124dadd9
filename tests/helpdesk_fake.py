"""What the fake help desks of the tests (chatwoot_fake.py, zendesk_fake/) share: one HTTP server on
127.0.0.1 in this process, its life cycle (started on a free port, stopped with every connection cut, down
and up again on the same port) and the faults a test plants (`fail`: chosen requests answer an error)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    """`times` requests of `method` on a path `path` matches answer `status` with these headers and body."""

    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    times: int

    def takes(self, method: str, path: str) -> bool:
        """Whether this request is one the fault answers (counted once it does)."""
        if self.times and self.method == method and self.path.search(path):
            self.times -= 1
            return True
        return False


@dataclass(frozen=True)
class Request:
    """The head of one HTTP request: its bytes as received, the method, the target and the headers (names
    in lower case)."""

    head: bytes
    method: str
    target: str
    headers: dict[str, str]


async def read_head(reader: asyncio.StreamReader) -> Request | None:
    """The next request's head, None once the client is gone."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if ":" in line)
    }
    return Request(head, method, target, headers)


class FakeServer:
    """The server part of a fake: the fake gives `_serve` (one connection) and its dataclass fields."""

    host: str
    port: int
    faults: list[Fault]
    _server: asyncio.Server | None
    _writers: set[asyncio.StreamWriter]

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: Request,
    ) -> bool:
        """Answer one request whose head was read (its body is the fake's to read); False ends the
        connection (a websocket session that ran on it)."""
        raise NotImplementedError

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: requests answered one after the other until the client closes it."""
        self._writers.add(writer)
        try:
            while True:
                request = await read_head(reader)
                if request is None or not await self._exchange(reader, writer, request):
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._started()

    def _started(self) -> None:
        """What the fake does once it listens (its port known)."""

    def _cut(self) -> None:
        """What the fake holds besides HTTP connections (websockets), let go when it stops."""

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        self._cut()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)

    async def set_down(self, down: bool) -> None:
        """Down: the port refuses connections and every open one is cut. Up: listening on the same port."""
        if down:
            await self.stop()
        elif self._server is None:
            await self.start()

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        self.faults.append(Fault(method.upper(), re.compile(path), status, headers or {}, body, times))

    def fault_for(self, method: str, path: str) -> Fault | None:
        """The planted fault this request meets, if any."""
        return next((fault for fault in self.faults if fault.takes(method, path)), None)


async def answer(
    writer: asyncio.StreamWriter,
    status: int,
    body: Any,
    extra: dict[str, str],
    *,
    kind: str = "application/json; charset=utf-8",
) -> None:
    """One HTTP/1.1 answer: JSON (`body` None for an empty one), or bytes as they are with their `kind`."""
    payload = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    head = [
        f"HTTP/1.1 {status} {'OK' if status < 400 else 'Error'}",
        f"Content-Length: {len(payload)}",
        f"Content-Type: {kind}",
        *(f"{k}: {v}" for k, v in extra.items()),
    ]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
    await writer.drain()


__all__ = ["FakeServer", "Fault", "Request", "answer", "read_head"]
