"""Real MIME mail for simulated customers: what an IMAP inbox would hand the console, written by hand.

Hand-written rather than `email.generator` for two reasons: the stdlib draws multipart boundaries from the
global `random` (a seeded run would differ), and backfilling 100k contacts needs a builder that costs tens
of microseconds, not a millisecond. Every message still parses with `email.parser` (policy.default); the
tests check it. What real clients send, and what the mail code must survive, is produced on purpose:

- multipart/alternative (text/plain + text/html), inside multipart/mixed when there are attachments;
- non-ASCII headers as RFC 2047 encoded-words (B or Q, folded under 76 characters), in UTF-8 or in the
  legacy charset of the text (ISO-8859-1, windows-1252) as older clients still do;
- attachment names with RFC 2231 (`filename*=utf-8''...`, split into `*0*`, `*1*` continuations when long) or
  Outlook's encoded-word inside quotes;
- replies with "On ... wrote:" and `>`-quoted text (a `<blockquote>` in HTML), Message-ID, In-Reply-To and
  References forming one thread;
- internationalised addresses (RFC 6532, as sent over SMTPUTF8): `jörg.müller@web.example` or
  `李@例え.テスト` are written as raw UTF-8 in the address header, which is the only form they have (an
  encoded-word is not allowed in an address). Display names, subjects and file names stay encoded, so only
  such an address makes a message 8-bit. An address that no mail could carry (spaces, brackets, control
  characters, no `@`) raises `MailError` instead of being written into a header.

Attachment `ref`s are `<message row id>/<index of the leaf part in walk() order, multiparts excluded>`,
which is how `LocalBackend.attachment()` reads them back.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.utils import format_datetime
from urllib.parse import quote as url_quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ....console.core.model import Attachment, EmailHeaders

CRLF = "\r\n"
# Legacy charsets a client may still pick when the text fits; UTF-8 otherwise.
LEGACY_CHARSETS = ("iso-8859-1", "windows-1252")
# RFC 2047 5(3): the only characters allowed unencoded in a Q-encoded word inside a phrase.
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
# RFC 2231 attribute-char: what a percent-encoded parameter value may keep as is.
_ATTR_SAFE = "!#$&+-.^_`|~"
# RFC 5322 atext plus space: a display name made of these needs no quoting.
_WORD_MAX = 64
_ATEXT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~ ")
# RFC 5321 4.5.3.1.3: a path is at most 256 octets, its brackets included.
_ADDRESS_MAX = 254


class MailError(ValueError):
    """A message that cannot be written as given (an address no mail can carry)."""


@dataclass(frozen=True, slots=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes
    # "rfc2231" (standard) or "outlook" (an encoded-word inside quotes, as Outlook sends).
    name_style: str = "rfc2231"


@dataclass(frozen=True, slots=True)
class Quote:
    """The message being answered: the "On ... wrote:" line and its text, quoted below the new text."""

    header: str
    text: str


@dataclass(frozen=True, slots=True)
class BuiltMail:
    raw: bytes
    body: str  # the text/plain part, as stored in `messages.body`
    headers: EmailHeaders
    # (leaf index, attachment) for each attachment, in order.
    parts: tuple[tuple[int, MailAttachment], ...] = ()

    def attachments(self, message_row: int) -> tuple[Attachment, ...]:
        return tuple(
            Attachment(a.filename, a.content_type, len(a.data), f"{message_row}/{index}")
            for index, a in self.parts
        )


def build_mail(
    *,
    from_name: str,
    from_addr: str,
    to_name: str,
    to_addr: str,
    subject: str,
    text: str,
    at: float,
    message_id: str,
    tz: str = "UTC",
    in_reply_to: str = "",
    references: Sequence[str] = (),
    quote: Quote | None = None,
    attachments: Sequence[MailAttachment] = (),
    charset: str = "utf-8",
    language: str = "",
    mailer: str = "",
    encoding: str = "b",
) -> BuiltMail:
    """One message. `charset` is used for the text and the headers if everything fits it, else UTF-8.

    Raises `MailError` for an address that cannot be written, or for text that is not valid Unicode."""
    for address in (from_addr, to_addr):
        problem = address_problem(address)
        if problem:
            raise MailError(f"cannot write the address {address!r}: {problem}")
    for value in (from_name, to_name, subject, text, *(a.filename for a in attachments)):
        if not _fits("utf-8", value):
            raise MailError(f"not valid Unicode text (a lone surrogate): {value[:40]!r}")
    if quote is not None and not _fits("utf-8", quote.header, quote.text):
        raise MailError("the quoted text is not valid Unicode (a lone surrogate)")
    plain = text.rstrip("\n")
    if quote is not None:
        quoted = "\n".join(f"> {line}" if line else ">" for line in quote.text.rstrip("\n").split("\n"))
        plain = f"{plain}\n\n{quote.header}\n{quoted}"
    plain += "\n"
    page = _html(text, quote, charset)
    if not _fits(charset, subject, from_name, to_name, plain, page):
        charset = "utf-8"
        page = _html(text, quote, charset)
    # Q suits mostly-Latin text in a legacy charset; B is what most clients send for UTF-8.
    word_encoding = "q" if charset != "utf-8" else encoding
    boundary = "=_" + hashlib.sha1(message_id.encode()).hexdigest()[:28]

    headers = [
        _fold("From", address_tokens(from_name, from_addr, charset, word_encoding)),
        _fold("To", address_tokens(to_name, to_addr, charset, word_encoding)),
        _fold("Subject", encode_header(subject, charset, word_encoding)),
        f"Date: {format_datetime(datetime.fromtimestamp(at, _zone(tz)))}",
        f"Message-ID: {message_id}",
    ]
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    if references:
        headers.append(_fold("References", list(references)))
    headers.append("MIME-Version: 1.0")
    if language:
        headers.append(f"Content-Language: {language}")
    if mailer:
        headers.append(f"User-Agent: {mailer}")

    alternative = [
        _text_part("plain", plain, charset),
        _text_part("html", page, charset),
    ]
    lines: list[str]
    parts: list[tuple[int, MailAttachment]] = []
    if attachments:
        inner = f"{boundary}_alt"
        lines = [
            *headers,
            f'Content-Type: multipart/mixed;{CRLF} boundary="{boundary}"',
            "",
            "This is a multi-part message in MIME format.",
            f"--{boundary}",
            f'Content-Type: multipart/alternative;{CRLF} boundary="{inner}"',
            "",
            *_multipart(inner, alternative),
        ]
        for offset, attachment in enumerate(attachments):
            lines += [f"--{boundary}", *_attachment_part(attachment)]
            parts.append((2 + offset, attachment))  # leaves: plain 0, html 1, then the attachments
        lines += [f"--{boundary}--", ""]
    else:
        lines = [
            *headers,
            f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"',
            "",
            *_multipart(boundary, alternative),
        ]
    email_headers = EmailHeaders(
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=tuple(references),
        from_addr=from_addr,
        to=(to_addr,),
        subject=subject,
    )
    # Everything above is ASCII except an internationalised address (RFC 6532): UTF-8 is the message's form.
    raw = CRLF.join(lines).encode("utf-8")
    return BuiltMail(raw, plain, email_headers, tuple(parts))


def quote_header(pattern: str, name: str, at: float, tz: str = "UTC") -> str:
    """Fill a language's "On {date}, {name} wrote:" line."""
    when = datetime.fromtimestamp(at, _zone(tz)).strftime("%d/%m/%Y %H:%M")
    return pattern.format(date=when, name=name)


def pick_charset(preferred: str, *texts: str) -> str:
    """`preferred` if it can carry every text, else UTF-8."""
    return preferred if _fits(preferred, *texts) else "utf-8"


# ---------------------------------------------------------------------------------------------- headers


def encode_header(text: str, charset: str = "utf-8", encoding: str = "b") -> list[str]:
    """A header value as a list of tokens to fold between: plain words if printable ASCII, else
    encoded-words (a control character is carried encoded, never raw in a header)."""
    text = " ".join(text.split())  # no CR/LF or tabs may reach a header
    if _plain(text):
        return text.split(" ") if text else [""]
    return _encoded_words(text, charset, encoding)


def format_address(name: str, addr: str, charset: str = "utf-8", encoding: str = "b") -> str:
    return " ".join(address_tokens(name, addr, charset, encoding))


def address_tokens(name: str, addr: str, charset: str = "utf-8", encoding: str = "b") -> list[str]:
    """`Name <addr>` as tokens to fold between: plain, quoted, or encoded-words for a non-ASCII name."""
    name = " ".join(name.split())
    if not name:
        return [f"<{addr}>"]
    if _plain(name):
        if set(name) <= _ATEXT:
            return [*name.split(" "), f"<{addr}>"]
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return [f'"{escaped}"', f"<{addr}>"]
    # One encoded-word when it fits (B is denser than Q): between two adjacent ones RFC 2047 drops the
    # whitespace but Python's address parser turns it into a space, so a name split in two reads differently
    # in different clients. Only a name longer than one word (about 40 accented letters) is split.
    words = _encoded_words(name, charset, encoding, 75)
    if len(words) > 1 and encoding != "b":
        words = _encoded_words(name, charset, "b", 75)
    return [*words, f"<{addr}>"]


def address_problem(addr: str) -> str:
    """Why `addr` cannot be written as a mail address (`local@domain`, letters of any script allowed as
    RFC 6532 allows), or "" if it can. Quoted local parts and [IP] literals are refused: no customer has
    one, and they are where header injection hides."""
    if not addr:
        return "it is empty"
    if not _fits("utf-8", addr):
        return "it is not valid Unicode (a lone surrogate)"
    if len(addr.encode("utf-8")) > _ADDRESS_MAX:
        return f"it is longer than {_ADDRESS_MAX} bytes"
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain:
        return "it needs the form name@domain"
    if len(local.encode("utf-8")) > 64:
        return "the part before @ is longer than 64 bytes"
    if any(not part for part in local.split(".")):
        return "the part before @ has an empty dot-separated part"
    for ch in local:
        if (ch.isascii() and ch not in _ATEXT and ch != ".") or ch == " " or not ch.isprintable():
            return f"the part before @ cannot contain {ch!r}"
    for label in domain.split("."):
        if not label or label.startswith("-") or label.endswith("-"):
            return f"the domain {domain!r} has an empty label or one that starts or ends with '-'"
        for ch in label:
            if ch.isascii() and not (ch.isalnum() or ch == "-"):
                return f"the domain cannot contain {ch!r}"
            if not ch.isascii() and unicodedata.category(ch)[0] not in "LMN":
                return f"the domain cannot contain {ch!r}"
    return ""


def ascii_domain(domain: str, fallback: str = "mail.example") -> str:
    """The domain as ASCII (IDNA A-labels, `例え.テスト` -> `xn--r8jz45g.xn--zckzah`), for Message-IDs,
    which threading code compares byte for byte; `fallback` if it has no such form."""
    if domain.isascii():
        return domain if domain and not address_problem(f"x@{domain}") else fallback
    try:
        converted = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return fallback
    return converted if not address_problem(f"x@{converted}") else fallback


def _plain(text: str) -> bool:
    """Can be written as is in a header: printable ASCII that does not look like an encoded-word."""
    return text.isascii() and text.isprintable() and "=?" not in text


def _encoded_words(text: str, charset: str, encoding: str, limit: int = 0) -> list[str]:
    """Split `text` into encoded-words, never inside a character. RFC 2047 allows 75 characters a word; 64
    keeps the first word on the header's own line within 78 columns."""
    room = (limit or _WORD_MAX) - len(charset) - 7  # =?charset?B?...?=
    words: list[str] = []
    start, size = 0, 0  # bytes of the current chunk (B) or its encoded length (Q)
    for index, ch in enumerate(text):
        data = ch.encode(charset)
        if encoding == "b":
            grown = size + len(data)
            fits = 4 * -(-grown // 3) <= room
        else:
            grown = size + sum(1 if b == 0x20 or b in _Q_SAFE else 3 for b in data)
            fits = grown <= room
        if not fits and index > start:
            words.append(_word(text[start:index], charset, encoding))
            start, grown = index, len(data) if encoding == "b" else grown - size
        size = grown
    if start < len(text):
        words.append(_word(text[start:], charset, encoding))
    return words


def _word(text: str, charset: str, encoding: str) -> str:
    return f"=?{charset}?{encoding.upper()}?{_encode_chunk(text, charset, encoding)}?="


def _encode_chunk(text: str, charset: str, encoding: str) -> str:
    data = text.encode(charset)
    if encoding == "b":
        return base64.b64encode(data).decode("ascii")
    return "".join("_" if byte == 0x20 else chr(byte) if byte in _Q_SAFE else f"={byte:02X}" for byte in data)


def _fold(name: str, tokens: list[str]) -> str:
    """Join tokens with spaces, folding (CRLF + space) before a token that would pass 76 columns."""
    line = f"{name}:"
    out: list[str] = []
    for token in tokens:
        if len(line) + 1 + len(token) > 76 and line:
            out.append(line)
            line = ""
        line += " " + token
    out.append(line)
    return CRLF.join(out)


def _zone(tz: str) -> tzinfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):  # no tzdata on this machine: UTC is still a valid Date
        return UTC


def _fits(charset: str, *texts: str) -> bool:
    try:
        for text in texts:
            text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


# ---------------------------------------------------------------------------------------------- bodies


def _multipart(boundary: str, parts: list[list[str]]) -> list[str]:
    lines: list[str] = []
    for part in parts:
        lines += [f"--{boundary}", *part]
    lines += [f"--{boundary}--", ""]
    return lines


def _text_part(subtype: str, text: str, charset: str) -> list[str]:
    data = text.replace("\r\n", "\n").encode(charset)
    encoded = binascii.b2a_qp(data, istext=True).decode("ascii")
    return [
        f'Content-Type: text/{subtype}; charset="{charset}"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        # The CRLF before a boundary belongs to the boundary: keep an empty last line so the text keeps its
        # final newline.
        *encoded.split("\n"),
    ]


def _html(text: str, quote: Quote | None, charset: str) -> str:
    paragraphs = [p for p in text.strip("\n").split("\n\n") if p]
    body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    if quote is not None:
        quoted = "".join(
            f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in quote.text.strip("\n").split("\n\n")
        )
        body += (
            f'<div class="quote-header">{html.escape(quote.header)}</div>'
            f'<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">'
            f"{quoted}</blockquote>"
        )
    return (
        f'<html>\n<head><meta http-equiv="Content-Type" content="text/html; charset={charset}"></head>\n'
        f'<body><div dir="ltr" style="font-family:Arial,sans-serif">{body}</div></body>\n</html>\n'
    )


def _attachment_part(attachment: MailAttachment) -> list[str]:
    name = attachment.filename
    if _plain(name) and '"' not in name and "\\" not in name:
        type_line = f'Content-Type: {attachment.content_type}; name="{name}"'
        disposition = [f'Content-Disposition: attachment; filename="{name}"']
    elif attachment.name_style == "outlook":
        encoded = " ".join(_encoded_words(name, "utf-8", "b"))
        type_line = f'Content-Type: {attachment.content_type};{CRLF} name="{encoded}"'
        disposition = [f'Content-Disposition: attachment;{CRLF} filename="{encoded}"']
    else:
        type_line = f"Content-Type: {attachment.content_type};{CRLF} {_rfc2231('name', name)}"
        disposition = [f"Content-Disposition: attachment;{CRLF} {_rfc2231('filename', name)}"]
    payload = base64.encodebytes(attachment.data).decode("ascii").rstrip("\n").split("\n")
    return [type_line, *disposition, "Content-Transfer-Encoding: base64", "", *payload]


def _rfc2231(key: str, value: str) -> str:
    """`key*=utf-8''...`, or `key*0*=utf-8''...; key*1*=...` continuations when the value is long."""
    encoded = url_quote(value.encode("utf-8"), safe=_ATTR_SAFE)
    if len(encoded) <= 60:
        return f"{key}*=utf-8''{encoded}"
    segments: list[str] = []
    while encoded:
        cut = min(50, len(encoded))
        while cut < len(encoded) and "%" in encoded[max(0, cut - 2) : cut]:
            cut -= 1  # never split a %XX escape: a complete one has its % three places back
        segments.append(encoded[:cut])
        encoded = encoded[cut:]
    pieces = [f"{key}*0*=utf-8''{segments[0]}"] + [f"{key}*{i}*={s}" for i, s in enumerate(segments[1:], 1)]
    return f";{CRLF} ".join(pieces)


# ---------------------------------------------------------------------------------------------- files


def make_pdf(lines: Sequence[str]) -> bytes:
    """A one-page PDF (Helvetica, one text line per entry) with a correct cross-reference table."""

    def literal(text: str) -> str:
        ascii_text = text.encode("ascii", "replace").decode("ascii")
        return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 12 Tf 72 770 Td 16 TL\n" + "".join(f"({literal(line)}) '\n" for line in lines) + "ET\n"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}endstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# JPEG: baseline, 3 components without subsampling; each 8x8 block is one flat colour (DC only), which is
# enough for a blurry "photo of the damaged page" that any viewer decodes.
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)  # the standard luminance DC table (Annex K)
_DC_VALUES = tuple(range(12))
_AC_BITS = (0, 1) + (0,) * 14  # a single symbol: end-of-block
_AC_VALUES = (0x00,)
_QUANT = 8  # every coefficient quantised by 8: a DC value is then the block's mean minus 128


def make_jpeg(colours: Sequence[Sequence[tuple[int, int, int]]], comment: str = "") -> bytes:
    """A JPEG whose 8x8 blocks have the given RGB colours (`colours[row][column]`)."""
    rows, columns = len(colours), len(colours[0])
    dc_codes = _huffman_codes(_DC_BITS, _DC_VALUES)
    eob = _huffman_codes(_AC_BITS, _AC_VALUES)[0x00]
    writer = _BitWriter()
    previous = [0, 0, 0]
    for row in colours:
        for red, green, blue in row:
            ycc = (
                0.299 * red + 0.587 * green + 0.114 * blue,
                128 - 0.168736 * red - 0.331264 * green + 0.5 * blue,
                128 + 0.5 * red - 0.418688 * green - 0.081312 * blue,
            )
            for component, value in enumerate(ycc):
                dc = max(-128, min(127, round(value) - 128))
                diff, previous[component] = dc - previous[component], dc
                size = abs(diff).bit_length()
                writer.write(*dc_codes[size])
                if size:
                    writer.write(diff if diff > 0 else diff + (1 << size) - 1, size)
                writer.write(*eob)
    scan = writer.finish()

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload

    def table(cls_id: int, bits: Sequence[int], values: Sequence[int]) -> bytes:
        return bytes([cls_id, *bits, *values])

    out = b"\xff\xd8"
    out += segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if comment:
        out += segment(0xFE, comment.encode("utf-8")[:60000])
    out += segment(0xDB, bytes([0x00]) + bytes([_QUANT] * 64))
    out += segment(
        0xC0, struct.pack(">BHHB", 8, rows * 8, columns * 8, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"
    )
    out += segment(0xC4, table(0x00, _DC_BITS, _DC_VALUES) + table(0x10, _AC_BITS, _AC_VALUES))
    out += segment(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")
    return out + scan + b"\xff\xd9"


def _huffman_codes(bits: Sequence[int], values: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Canonical Huffman codes (JPEG Annex C): symbol -> (code, length)."""
    codes: dict[int, tuple[int, int]] = {}
    code, index = 0, 0
    for length, count in enumerate(bits, 1):
        for _ in range(count):
            codes[values[index]] = (code, length)
            code += 1
            index += 1
        code <<= 1
    return codes


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def write(self, value: int, length: int) -> None:
        self.acc = (self.acc << length) | (value & ((1 << length) - 1))
        self.n += length
        while self.n >= 8:
            self.n -= 8
            byte = (self.acc >> self.n) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0x00)  # byte stuffing: 0xFF in scan data is followed by 0x00
        self.acc &= (1 << self.n) - 1

    def finish(self) -> bytes:
        if self.n:
            self.write((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with 1-bits
        return bytes(self.out)


__all__ = [
    "BuiltMail",
    "MailAttachment",
    "MailError",
    "Quote",
    "address_problem",
    "address_tokens",
    "ascii_domain",
    "build_mail",
    "encode_header",
    "format_address",
    "make_jpeg",
    "make_pdf",
    "pick_charset",
    "quote_header",
]
