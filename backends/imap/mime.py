"""Incoming MIME to what the console shows: headers, one readable body, attachment metadata.

Mail is written by every client ever made, so nothing here trusts a header to be well formed or a charset
label to be true: each header is decoded on its own and a failure costs that header, not the message;
ISO-8859-1 is read as Windows-1252 (what senders mean by it, as browsers do); unknown or missing charsets fall
back to UTF-8, then Windows-1252. HTML-only mail becomes text with html2text, images become their alt text and
nothing remote is ever fetched. A body longer than `max_chars` is cut with a visible notice, and HTML larger
than a few times that is cut before conversion, so a huge message costs bounded time.

The leaves of a message (parts that are not multipart; an attached message/rfc822 counts as one leaf) are
numbered in order; an attachment's `index` is its leaf number, which is how `part_payload` finds it again
(`WHOLE_MESSAGE` stands for the raw message itself).

No input raises: charsets are read by mime_charset.py, the tree is built by mime_parser.py (bounded nesting,
a raw fallback), and a failure while reading the tree costs the body, not the message. A part that could not
be decoded is named in `ParsedMail.undecodable` (the reader shows the mark) and is also listed as an
attachment, so that its raw bytes can be saved.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

import html2text

from .mime_charset import clean_text, decode_bytes, decode_text
from .mime_parser import MAX_DEPTH, parse_bytes, parse_header_block, part_raw_bytes
from .threads import normalize_id, parse_references

__all__ = ["decode_bytes"]  # re-exported: callers and tests read charsets through this module

TRUNCATED_NOTICE = "\n\n[… message cut here for display: {hidden} more characters are on the server]"
PARTIAL_NOTICE = "\n\n[… this message is larger than what was downloaded; the rest is on the server]"
MAX_ATTACHMENTS = 500
# Header values longer than this are cut before they are parsed; address lists shorter still (a few hundred
# addresses), as the standard address parser takes a second for a few thousand.
MAX_HEADER_CHARS = 64_000
MAX_ADDRESS_CHARS = 16_000
WHOLE_MESSAGE = -1  # the attachment index that stands for the raw message itself
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class ParsedHeaders:
    message_id: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    subject: str = ""
    from_addr: str = ""
    from_name: str = ""
    reply_to: tuple[str, ...] = ()
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    date: float | None = None
    language: str = ""


@dataclass(frozen=True, slots=True)
class PartInfo:
    filename: str
    content_type: str
    size: int
    index: int


@dataclass(frozen=True, slots=True)
class ParsedMail:
    headers: ParsedHeaders
    body: str
    attachments: tuple[PartInfo, ...] = ()
    truncated: bool = False
    # One line per part that could not be decoded as sent (what was wrong, where its raw copy is).
    undecodable: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------- headers


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)")


def _parse(raw: bytes) -> Message:
    return parse_bytes(raw)[0]


def _decode_word(match: re.Match[str]) -> str:
    charset, encoding, text = match.group(1), match.group(2).upper(), match.group(3)
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix: =?utf-8*en?q?...?=
    try:
        if encoding == "B":
            data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        else:
            data = quopri.decodestring(text.replace("_", " ").encode("ascii"), header=False)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return match.group(0)  # not decodable: shown as written rather than dropped
    return decode_bytes(data, charset)


def decode_words(value: object) -> str:
    """A header value with RFC 2047 encoded words decoded, one word at a time: a broken word stays as it
    was written and does not take its neighbours down with it."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if "=?" not in text:
        return text
    # Whitespace between two adjacent encoded words is not part of the text (RFC 2047 §6.2).
    text = _BETWEEN_WORDS.sub(r"\1", text)
    return _ENCODED_WORD.sub(_decode_word, text)


def _header(message: Message, name: str) -> str:
    try:
        values = message.get_all(name) or []
    except Exception:
        return ""
    if not values:
        return ""
    try:
        return clean_text(decode_words(str(values[0])[:MAX_HEADER_CHARS]))
    except Exception:
        return ""


_ENCODED_RUN = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=(?:\s+=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)*")


_BRACKETED_ADDRESS = re.compile(r"<([^<>\s@\"]+@[^<>\s@\"]+)>")


def _quote_encoded_words(value: str) -> str:
    """Encoded words as quoted strings, so that a comma or bracket inside one cannot split an address list."""

    def quoted(match: re.Match[str]) -> str:
        # A decoded word may hold CR, LF or tabs (a display name in a broken charset): inside the quotes they
        # would end the header for the address parser, so they fold to spaces first.
        text = single_line(decode_words(match.group(0)))
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return _ENCODED_RUN.sub(quoted, value)


def _addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header, never raising."""
    try:
        values = [
            clean_text(_quote_encoded_words(v[:MAX_ADDRESS_CHARS]) if isinstance(v, str) else decode_words(v))
            for v in (message.get_all(name) or [])[:100]
        ]
        pairs = getaddresses(values)
    except Exception:
        return []
    found: list[tuple[str, str]] = []
    for display, address in pairs:
        address = address.strip()
        if address and "@" in address and " " not in address:
            found.append((single_line(display), address))
    if not found:
        # An unclosed comment or quote hides everything from the parser; an <address> is still an address.
        for value in values:
            for match in _BRACKETED_ADDRESS.finditer(value):
                display = value[: match.start()].strip("\"'() \t")
                found.append((single_line(display), match.group(1)))
    return found


def single_line(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def _date(message: Message) -> float | None:
    value = _header(message, "Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        return None  # "-0000" or no zone: the moment is unknown, the server's INTERNALDATE is better
    try:
        return parsed.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


def headers_of(message: Message) -> ParsedHeaders:
    sender = _addresses(message, "From") or _addresses(message, "Sender")
    from_name, from_addr = sender[0] if sender else ("", "")
    if not from_addr:
        from_name = single_line(_header(message, "From"))[:200]
    language = _header(message, "Content-Language").split(",")[0].strip().lower()
    in_reply_to = parse_references(_header(message, "In-Reply-To"))
    return ParsedHeaders(
        message_id=normalize_id(_header(message, "Message-ID")),
        in_reply_to=in_reply_to[-1] if in_reply_to else "",
        references=parse_references(_header(message, "References")),
        subject=single_line(_header(message, "Subject")),
        from_addr=from_addr,
        from_name=from_name,
        reply_to=tuple(a for _, a in _addresses(message, "Reply-To")),
        to=tuple(a for _, a in _addresses(message, "To")),
        cc=tuple(a for _, a in _addresses(message, "Cc")),
        date=_date(message),
        language=language.split("-")[0][:8] if language.replace("-", "").isalnum() else "",
    )


def parse_headers(raw: bytes) -> ParsedHeaders:
    """The headers of a message (or of a header block as fetched for the index), never raising."""
    try:
        return headers_of(parse_header_block(raw))
    except Exception:  # headers_of guards each header; this is the last resort
        return ParsedHeaders()


# ---------------------------------------------------------------------------------------------- body


def leaves(message: Message) -> Iterator[Message]:
    """Non-multipart parts in order. An attached message (any message/* part) is one leaf: its insides are
    not the body. A multipart part without a boundary cannot be split: it is one leaf too."""
    if message.get_content_maintype() == "message" or not message.is_multipart():
        yield message
        return
    payload = message.get_payload()
    if isinstance(payload, list):
        for part in payload:
            if isinstance(part, Message):
                yield from leaves(part)


_READABLE = frozenset({"text/plain", "text/html"})
# Other renditions of the text: in the branch of a multipart/alternative that is not shown, they are dropped
# (a photo or an invitation there is kept as an attachment: it may exist nowhere else).
_RENDITIONS = frozenset({"text/plain", "text/html", "text/enriched", "text/richtext", "text/watch-html"})


def _unsplittable(part: Message) -> bool:
    return part.get_content_maintype() == "multipart" and not part.is_multipart()


def _is_attachment(part: Message) -> bool:
    if _unsplittable(part):
        return False  # no boundary: its raw text is the best there is to show
    try:
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:
        disposition = ""
    if disposition == "attachment" or part.get_content_type() not in _READABLE:
        return True
    return bool(_filename(part)) and disposition != "inline"


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:
        return ""
    if isinstance(name, tuple):  # an RFC 2231 value compat32 could not collapse
        try:
            name = decode_bytes(name[2].encode("latin-1", "replace"), name[0])
        except Exception:
            name = str(name[2])
    return clean_text(single_line(decode_words(name)))[:255]


def _text_of(part: Message) -> str:
    return _decoded_text(part)[0]


def _decoded_text(part: Message) -> tuple[str, str]:
    """(text, problem) of a text part: problem is "" when the text is what the sender wrote."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return (clean_text(raw), "") if isinstance(raw, str) else ("", "")
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_text(payload, charset)


def html_to_text(html: str, max_chars: int) -> str:
    """Readable text from HTML. Images become their alt text; links stay as text; nothing is fetched."""
    html = html[: max_chars * 4]
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.images_to_alt = True
    converter.ignore_images = False
    converter.ignore_emphasis = True
    converter.unicode_snob = True
    try:
        return converter.handle(html).strip("\n")
    except Exception:
        return re.sub(r"<[^>]*>", " ", html)


def _choose_alternative(parts: list[Message]) -> Message | None:
    """In multipart/alternative the last part is the richest; prefer plain text that says something."""
    for wanted in ("plain", "html"):
        for part in reversed(parts):
            if part.get_content_type() == f"text/{wanted}" and _text_of(part).strip():
                return part
    for part in reversed(parts):
        if part.is_multipart():
            return part
    return parts[-1] if parts else None


def _classify(message: Message, body: list[Message], hidden: set[int], shown: bool = True) -> None:
    """Collect the parts that make the body, and the other renditions that are not attachments."""
    if message.get_content_maintype() == "message":
        return
    if message.is_multipart():
        payload = [p for p in message.get_payload() if isinstance(p, Message)]  # type: ignore[union-attr]
        chosen = _choose_alternative(payload) if message.get_content_subtype() == "alternative" else None
        for part in payload:
            _classify(part, body, hidden, shown and (chosen is None or part is chosen))
        return
    if not shown:
        if message.get_content_type() in _RENDITIONS and message.get_content_disposition() != "attachment":
            hidden.add(id(message))
        return
    if not _is_attachment(message):
        body.append(message)


_TOKEN = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}"
_MEDIA_TYPE = re.compile(f"{_TOKEN}/{_TOKEN}")


def _content_type(part: Message) -> str:
    """The part's media type when it is one (RFC 6838 names); a type is shown, and senders write anything."""
    content_type = part.get_content_type()
    return content_type if _MEDIA_TYPE.fullmatch(content_type) else "application/octet-stream"


def _guess_name(part: Message, index: int) -> str:
    if part_raw_bytes(part) is not None:  # kept as sent, headers and all: a MIME entity mail clients open
        return f"part-{index + 1}.eml"
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            subject = single_line(_header(inner[0], "Subject"))
            if subject:
                return f"{subject[:80]}.eml"
        return f"message-{index + 1}.eml"
    extension = mimetypes.guess_extension(content_type)
    if not extension:
        extension = ".txt" if part.get_content_maintype() in ("text", "message") else ".bin"
    return f"attachment-{index + 1}{extension}"


def _leaf_bytes(part: Message) -> bytes:
    kept = part_raw_bytes(part)
    if kept is not None:  # cut at the depth bound, or a mail the parser could not read: as sent
        return kept
    inner = part.get_payload()
    if isinstance(inner, list):  # message/rfc822, message/delivery-status...: the enclosed blocks as sent
        blocks = []
        for block in inner:
            try:
                blocks.append(block.as_bytes(policy=policy.compat32))
            except Exception:
                blocks.append(str(block).encode("utf-8", "replace"))
        return b"\n".join(blocks)
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""


def parse_message(raw: bytes, *, max_chars: int = 200_000, partial: bool = False) -> ParsedMail:
    """Parse a whole message (or, if `partial`, the first bytes of one) for display. Never raises: what
    could not be read is named in `undecodable`, and the raw message stays attached."""
    try:
        return _parse_message(raw, max_chars, partial)
    except Exception as error:  # one mail must never stop a mailbox: keep its headers, attach it whole
        return _unreadable(raw, error, partial)


def _unreadable(raw: bytes, error: Exception, partial: bool) -> ParsedMail:
    try:
        headers = parse_headers(raw)
    except Exception:
        headers = ParsedHeaders()
    whole = PartInfo(
        filename="message.eml", content_type="message/rfc822", size=len(raw), index=WHOLE_MESSAGE
    )
    problem = f"the message could not be read ({type(error).__name__}); it is attached whole as message.eml"
    body = PARTIAL_NOTICE.lstrip("\n") if partial else ""
    return ParsedMail(
        headers=headers, body=body, attachments=(whole,), truncated=partial, undecodable=(problem,)
    )


def _parse_message(raw: bytes, max_chars: int, partial: bool) -> ParsedMail:
    message, problem = parse_bytes(raw)
    headers = headers_of(message)
    problems = [problem] if problem else []
    chosen: list[Message] = []
    hidden: set[int] = set()
    _classify(message, chosen, hidden)
    body_parts = {id(p) for p in chosen}
    texts: list[str] = []
    attachments: list[PartInfo] = []
    budget = max_chars
    for index, part in enumerate(leaves(message)):
        if id(part) in hidden:
            continue
        attach = id(part) not in body_parts
        if not attach:
            if budget <= 0:
                texts.append("")
                continue
            text, trouble = _decoded_text(part)
            if part.get_content_subtype() == "html":
                text = html_to_text(text, budget)
            texts.append(text)
            budget -= len(text)
            if trouble:
                # The text shown is a guess: the part as sent is attached, to be saved and read elsewhere.
                name = _filename(part) or _guess_name(part, index)
                problems.append(f"part {index + 1} ({_content_type(part)}): {trouble}; raw copy: {name}")
                attach = True
        elif part_raw_bytes(part) is not None and not problem:
            problems.append(
                f"part {index + 1} is nested more than {MAX_DEPTH} levels deep; it is attached unread as "
                f"{_guess_name(part, index)}"
            )
        if attach and len(attachments) < MAX_ATTACHMENTS:
            data = _leaf_bytes(part)
            attachments.append(
                PartInfo(
                    filename=_filename(part) or _guess_name(part, index),
                    content_type=_content_type(part),
                    size=len(data),
                    index=index,
                )
            )
    body = "\n\n".join(t.strip("\n") for t in texts if t.strip())
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    truncated = partial
    if len(body) > max_chars:
        cut = len(body) - max_chars
        body = body[:max_chars] + TRUNCATED_NOTICE.format(hidden=f"{cut:,}")
        truncated = True
    if partial:
        body += PARTIAL_NOTICE
    return ParsedMail(
        headers=headers,
        body=clean_text(body),
        attachments=tuple(attachments),
        truncated=truncated,
        undecodable=tuple(problems[:MAX_ATTACHMENTS]),
    )


def part_payload(raw: bytes, index: int) -> bytes | None:
    """The decoded content of leaf `index` (an attachment's `index`), or None when there is no such part.
    `WHOLE_MESSAGE` is the raw message itself."""
    if index == WHOLE_MESSAGE:
        return raw
    try:
        for position, part in enumerate(leaves(_parse(raw))):
            if position == index:
                return _leaf_bytes(part)
    except Exception:  # the same failure that made parse_message attach the message whole
        return None
    return None
