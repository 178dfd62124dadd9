"""An agent's SIP phone for the tests: a small UDP user agent on 127.0.0.1 that answers Asterisk's INVITEs.

`answer=True` (the default): 180 Ringing then 200 OK with an SDP offer of PCMU (no audio is sent; Asterisk
does not need any), and 200 OK to BYE, CANCEL and OPTIONS. `answer=False`: it only rings. Every request is
kept (`requests`), so a test can read what the phone was shown (the caller id in From). sipp is packaged in
no Debian suite this machine reaches; this is the part of a phone the tests need.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import cast


@dataclass
class SipRequest:
    method: str
    headers: dict[str, list[str]]
    body: str

    def header(self, name: str) -> str:
        return (self.headers.get(name.lower()) or [""])[0]


def parse(data: bytes) -> SipRequest | None:
    text = data.decode("utf-8", "replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    first = lines[0].split(" ")
    if len(first) < 3 or first[0].startswith("SIP/"):
        return None  # a response: the phone sends no request that needs one
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return SipRequest(first[0], headers, body)


@dataclass
class SipPhone(asyncio.DatagramProtocol):
    port: int
    answer: bool = True
    requests: list[SipRequest] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None
    _tag: str = "phone-7f3a"

    async def start(self) -> SipPhone:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=("127.0.0.1", self.port))
        return self

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # the selector's: not a subclass of it

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def of(self, method: str) -> list[SipRequest]:
        return [r for r in self.requests if r.method == method]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = parse(data)
        if request is None:
            return
        self.requests.append(request)
        if request.method == "ACK":
            return
        if request.method == "INVITE":
            self._reply(request, addr, "180 Ringing")
            if self.answer:
                self._reply(request, addr, "200 OK", sdp=True)
            return
        self._reply(request, addr, "200 OK")

    def _reply(self, request: SipRequest, addr: tuple[str, int], status: str, *, sdp: bool = False) -> None:
        assert self.transport is not None
        to = request.header("to")
        if ";tag=" not in to:
            to = f"{to};tag={self._tag}"
        lines = [f"SIP/2.0 {status}"]
        lines += [f"Via: {via}" for via in request.headers.get("via", [])]
        lines += [
            f"From: {request.header('from')}",
            f"To: {to}",
            f"Call-ID: {request.header('call-id')}",
            f"CSeq: {request.header('cseq')}",
            f"Contact: <sip:sipagent@127.0.0.1:{self.port}>",
            "User-Agent: standardiste-test-phone",
        ]
        body = ""
        if sdp:
            body = (
                "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=call\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                f"m=audio {self.port + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
            )
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.transport.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), addr)


def display_name(header: str) -> str:
    """`"Sara Sip" <sip:+33...@127.0.0.1>;tag=x` -> `Sara Sip`."""
    found = re.match(r'\s*"([^"]*)"', header)
    return found.group(1) if found else ""
