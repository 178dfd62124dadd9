"""Bytes to an `email.message.Message` tree, for any input: bounded nesting, and a last resort that keeps
the headers and the raw body when the standard parser fails anyway.

The standard library parser is lenient (compat32 records defects instead of raising) with two exceptions
that matter here: it recurses once per level of nesting, so a 65 KB mail of 1,000 nested multiparts raises
RecursionError; and it asks a part for its boundary through RFC 2231 decoding, which raises on some charset
names. Here a part more than `MAX_DEPTH` levels deep is not split: it becomes one opaque leaf whose raw text
(its own headers and everything inside it) is kept to be saved as an attachment. Deep real mail is a few
levels and the corpus's deepest is 61; each open level also costs every later line one boundary test, so
the bound keeps a hostile message's parse time linear in its size.
"""

from __future__ import annotations

import re
from email.feedparser import FeedParser
from email.message import Message
from email.policy import Compat32
from typing import Any

from .mime_charset import decode_bytes

MAX_DEPTH = 64
OPAQUE_TYPE = "application/octet-stream"


class Part(Message):
    """A compat32 message whose parameter lookups cannot raise, and which may stand for raw bytes.

    `hidden_headers` is set on a part cut at the depth bound: its own header lines, as sent, for the raw
    copy; `raw_bytes` on the single part of a message the parser could not read at all.
    """

    hidden_headers: list[tuple[str, str]] | None = None
    raw_bytes: bytes | None = None

    def get_payload(self, i: int | None = None, decode: bool = False) -> Any:
        try:
            return super().get_payload(i, decode)
        except Exception:  # compat32 decodes 8-bit text with the part's own charset label: any codec
            raw = self._payload  # type: ignore[attr-defined]
            if i is not None or decode or not isinstance(raw, str):
                return None
            return decode_bytes(raw.encode("ascii", "surrogateescape"), None)

    def get_boundary(self, failobj: Any = None) -> Any:
        try:
            return super().get_boundary(failobj)
        except Exception:
            return failobj

    def get_content_charset(self, failobj: Any = None) -> Any:
        try:
            return super().get_content_charset(failobj)
        except Exception:
            return failobj

    def get_filename(self, failobj: Any = None) -> Any:
        try:
            return super().get_filename(failobj)
        except Exception:
            return failobj

    def get_param(
        self, param: str, failobj: Any = None, header: str = "content-type", unquote: bool = True
    ) -> Any:
        try:
            return super().get_param(param, failobj, header, unquote)
        except Exception:
            return failobj

    def get_content_disposition(self) -> str | None:
        try:
            return super().get_content_disposition()
        except Exception:
            return None


_ESCAPED = re.compile("[\udc80-\udcff]")  # raw 8-bit bytes, as the parser's surrogateescape left them


class _LenientPolicy(Compat32):
    """compat32 (it never raises while parsing) with raw 8-bit header bytes decoded as text.

    compat32 turns such a header into a `Header` whose str() is replacement characters, which would lose a
    raw UTF-8 or Latin-1 file name or display name; here they are read as UTF-8, else Windows-1252.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:  # type: ignore[override]
        if _ESCAPED.search(value):
            return decode_bytes(value.encode("ascii", "surrogateescape"), None)
        return value


POLICY = _LenientPolicy()


class _BoundedParser(FeedParser):
    """The standard feed parser, except that a multipart or message/* part deeper than MAX_DEPTH is read
    as one opaque leaf: its body is not split, so the parser's recursion stops there."""

    def _parse_headers(self, lines: list[str]) -> None:
        super()._parse_headers(lines)  # type: ignore[misc]
        stack: list[Message] = self._msgstack  # type: ignore[attr-defined]
        current = self._cur  # type: ignore[attr-defined]
        if len(stack) <= MAX_DEPTH or not isinstance(current, Part):
            return
        if current.get_content_maintype() not in ("multipart", "message"):
            return
        current.hidden_headers = list(current.raw_items())
        del current["Content-Type"]
        current["Content-Type"] = OPAQUE_TYPE


def _feed(text: str, *, headers_only: bool = False) -> Message:
    parser = _BoundedParser(Part, policy=POLICY)
    if headers_only:
        parser._set_headersonly()  # type: ignore[attr-defined]
    parser.feed(text)
    return parser.close()


def parse_header_block(raw: bytes) -> Message:
    """The top-level headers only (the body is not split into parts): what indexing a message needs."""
    try:
        return _feed(raw.decode("ascii", "surrogateescape"), headers_only=True)
    except Exception:
        return Part(policy=POLICY)


def parse_bytes(raw: bytes) -> tuple[Message, str]:
    """(message, problem): the message tree, and "" or why the whole body had to be kept raw."""
    text = raw.decode("ascii", "surrogateescape")
    try:
        return _feed(text), ""
    except Exception as error:
        reason = type(error).__name__
    try:
        message = _feed(text, headers_only=True)
    except Exception:
        message = Part(policy=POLICY)
    opaque = Part(policy=POLICY)
    for name, value in message.raw_items():
        if name.lower() not in ("content-type", "content-transfer-encoding"):
            opaque[name] = value
    opaque["Content-Type"] = OPAQUE_TYPE
    opaque.raw_bytes = raw
    opaque.set_payload("")
    return opaque, f"the message could not be parsed ({reason}); it is attached whole"


def part_raw_bytes(part: Message) -> bytes | None:
    """The bytes kept for a part the parser did not read (cut at the depth bound, or an unparsable mail)."""
    if not isinstance(part, Part):
        return None
    if part.raw_bytes is not None:
        return part.raw_bytes
    if part.hidden_headers is None:
        return None
    head = "".join(f"{name}: {value}\r\n" for name, value in part.hidden_headers)
    # The payload as parsed (ASCII, with 8-bit bytes as surrogate escapes); get_payload() would decode it.
    body = part._payload  # type: ignore[attr-defined]
    text = head + "\r\n" + (body if isinstance(body, str) else "")
    return text.encode("ascii", "surrogateescape")
