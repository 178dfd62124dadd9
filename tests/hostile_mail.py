"""Hostile mail for the MIME property tests (tests/adapters/test_mime_hostile.py) and the fuzz run (bench/mime_fuzz.py).

`hostile_message(rng)` builds one message from a `random.Random`: hypothesis hands in its own `Random`
(`st.randoms()`, so failures shrink), the benchmark a seeded one (fast, reproducible). Each message mixes
what breaks mail readers: charset labels that name non-text codecs or nothing, bytes invalid in their
charset, deep nesting, truncated multiparts, missing or wrong boundaries, broken encoded words and RFC 2231
parameters, huge headers, NUL bytes and random bytes. `read_like_the_console(raw)` runs one message through
everything the console does with a mail and checks what comes out.
"""

from __future__ import annotations

import random
import re
import sqlite3
from functools import cache

from standardiste.backends.imap.conversations import build_message
from standardiste.backends.imap.index import INBOX, Fetched, MailIndex
from standardiste.backends.imap.local_state import ensure_schema
from standardiste.backends.imap.mime import ParsedMail, parse_headers, parse_message, part_payload
from standardiste.widgets.transcript import Transcript

CHARSETS = [
    # Byte and string transforms, not character sets (Python refuses them in bytes.decode).
    "hex", "rot13", "rot_13", "zlib", "base64", "bz2", "uu", "quopri", "hex_codec", "zlib_codec",
    # Text codecs that are not character sets, or that raise on most bytes whatever the error handler.
    "undefined", "punycode", "idna", "unicode_escape", "raw_unicode_escape", "utf-7",
    # Real charsets, often wrong for the bytes they label.
    "utf-8", "utf-16", "utf-32", "utf-16-le", "iso-8859-1", "us-ascii", "windows-1252", "iso-2022-jp",
    "shift_jis", "gb2312", "koi8-r", "cp65001", "utf-8-sig",
    # Unknown, empty, quoted, odd.
    "x-unknown", "unknown-8bit", "", '""', "'utf-8'", "utf-8*en", "utf-8\x00", "mbcs", "ä", "a" * 300,
    "=?utf-8?q?x?=", "utf-8; charset=hex",
]  # fmt: skip

# Bytes that break one decoder or another: lone surrogates through UTF-7 and escapes, invalid UTF-8,
# undefined Windows-1252 bytes, NULs, BOMs, an unterminated ISO-2022-JP escape, a long line.
NASTY_BYTES = [
    b"+2AA-", b"+2AD-x", b"\\ud800\\udfff", b"\\N{NOT A NAME}", b"\xff\xfe\x00", b"\xc3\x28\xa0\xa1",
    b"\x81\x8d\x8f\x90\x9d", b"\x00\x00\x00", b"\xef\xbb\xbf", b"\x1b$B", b"xn--", b"xn--\xff", b"=\r\n",
    b"==\xff", b"begin 644 x\r\n", b"\x1b]0;title\x07\x1b[2J", "\u202e".encode(), b"A" * 5000,
]  # fmt: skip

ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "uuencode", "hex", ""]
TYPES = [
    "text/plain", "text/html", "text/enriched", "application/octet-stream", "image/png", "message/rfc822",
    "message/delivery-status", "multipart/mixed", "multipart/alternative", "multipart/digest", "text",
    "multipart", "/", "text/plain/extra", "",
]  # fmt: skip

_SAFE_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def charset(rng: random.Random) -> str:
    if rng.random() < 0.85:
        return rng.choice(CHARSETS)
    return "".join(chr(rng.randrange(1, 0x250)) for _ in range(rng.randrange(0, 12)))


def junk(rng: random.Random, size: int = 200) -> bytes:
    """Random bytes, with a fair chance of the bytes that break decoders."""
    pieces = []
    for _ in range(rng.randrange(1, 6)):
        roll = rng.random()
        if roll < 0.4:
            pieces.append(rng.choice(NASTY_BYTES))
        elif roll < 0.7:
            pieces.append(rng.randbytes(rng.randrange(0, size)))
        else:
            pieces.append(
                "Grüße, café – 注文 📦 ".encode(
                    rng.choice(["utf-8", "cp1252", "utf-16", "latin-1"]), "replace"
                )
            )
    return b"".join(pieces)


def encoded_word(rng: random.Random) -> str:
    """An RFC 2047 word, often broken: hostile charset, bad base64, unterminated, stray `?`."""
    text = junk(rng, 30)
    kind = rng.choice("bBqQx")
    if kind in "bB":
        import base64

        payload = base64.b64encode(text).decode()
        if rng.random() < 0.3:
            payload = payload[: rng.randrange(0, len(payload) + 1)] + rng.choice(["!", "=", "*", ""])
    else:
        payload = "".join(f"={b:02X}" if b > 126 or b < 33 or b in b"?=_" else chr(b) for b in text)
    word = f"=?{charset(rng)}?{kind}?{payload}?="
    if rng.random() < 0.15:
        word = word[: rng.randrange(2, len(word) + 1)]  # cut in the middle
    return word


def header_value(rng: random.Random) -> bytes:
    parts: list[bytes] = []
    for _ in range(rng.randrange(1, 5)):
        roll = rng.random()
        if roll < 0.4:
            parts.append(encoded_word(rng).encode("utf-8", "surrogateescape"))
        elif roll < 0.55:
            parts.append(junk(rng, 40).replace(b"\r", b"").replace(b"\n", b""))
        elif roll < 0.65:
            parts.append(b'"unclosed (comment <a@b')
        else:
            parts.append(
                rng.choice([b"Ann <ann@customer.test>", b"x@y.test, (c) <z@w.test>", b"hello", b"<id@x>"])
            )
    return b" ".join(parts)


def rfc2231(rng: random.Random, name: str) -> bytes:
    """An RFC 2231 parameter, often broken: hostile charset, bad percent escapes, missing sections."""
    value = junk(rng, 20)
    escaped = "".join(f"%{b:02X}" for b in value)
    if rng.random() < 0.3:
        escaped += rng.choice(["%", "%G1", "%%", "'"])
    style = rng.randrange(4)
    if style == 0:
        return f"; {name}*={charset(rng)}'{rng.choice(['en', '', 'x'])}'{escaped}".encode(
            "utf-8", "surrogateescape"
        )
    if style == 1:
        sections = [f'; {name}*{i}*="{escaped[i::3]}"' for i in rng.sample(range(5), rng.randrange(1, 5))]
        return (f"; {name}*0*={charset(rng)}''" + "".join(sections)).encode("utf-8", "surrogateescape")
    if style == 2:
        return f'; {name}*1="tail"; {name}*3='.encode() + value.replace(b'"', b"")
    return f'; {name}="'.encode() + value.replace(b"\r", b"").replace(b"\n", b"")  # unclosed quote


def content_type(rng: random.Random, kind: str, boundary: str | None) -> bytes:
    line = b"Content-Type: " + kind.encode()
    if rng.random() < 0.6:
        line += b"; charset=" + charset(rng).encode("utf-8", "surrogateescape")
    if boundary is not None:
        if rng.random() < 0.2:
            line += rfc2231(rng, "boundary")
        else:
            line += f'; boundary="{boundary}"'.encode()
    if rng.random() < 0.25:
        line += rfc2231(rng, "name")
    return line + b"\r\n"


def entity(rng: random.Random, depth: int) -> bytes:
    """One MIME entity: headers and body."""
    roll = rng.random()
    if depth > 4 or roll < 0.5:
        kind = rng.choice(TYPES[:7]) if rng.random() < 0.8 else rng.choice(TYPES)
        head = content_type(rng, kind, None)
        if rng.random() < 0.4:
            head += b"Content-Transfer-Encoding: " + rng.choice(ENCODINGS).encode() + b"\r\n"
        if rng.random() < 0.3:
            head += (
                b"Content-Disposition: "
                + rng.choice([b"attachment", b"inline", b"x"])
                + rfc2231(rng, "filename")
                + b"\r\n"
            )
        return head + b"\r\n" + junk(rng)
    if roll < 0.53:
        return deep(rng, rng.choice([3, 50, 120, 1000, 1200]))
    boundary = "b" + str(rng.randrange(10**6))
    written = boundary if rng.random() < 0.85 else "other" + boundary  # boundary lines that never match
    kind = rng.choice(["multipart/mixed", "multipart/alternative", "multipart/related", "multipart/digest"])
    out = content_type(rng, kind, None if rng.random() < 0.1 else boundary) + b"\r\n"
    if rng.random() < 0.3:
        out += b"preamble " + junk(rng, 30) + b"\r\n"
    for _ in range(rng.randrange(0, 4)):
        out += f"--{written}\r\n".encode() + entity(rng, depth + 1) + b"\r\n"
    if rng.random() < 0.7:
        out += f"--{written}--\r\n".encode()  # else: never closed
    return out


def deep(rng: random.Random, levels: int) -> bytes:
    """`levels` nested multiparts around one text part (~55 bytes a level)."""
    kind = rng.choice(["multipart/mixed", "message/rfc822", "multipart/alternative"])
    head = b"".join(
        (
            f"Content-Type: {kind}; boundary=d{i}\r\n\r\n--d{i}\r\n"
            if kind != "message/rfc822"
            else f"Content-Type: {kind}\r\n\r\n"
        ).encode()
        for i in range(levels)
    )
    tail = b"".join(f"\r\n--d{i}--".encode() for i in reversed(range(levels))) if rng.random() < 0.5 else b""
    return (
        head
        + b"Content-Type: text/plain; charset="
        + charset(rng).encode("utf-8", "surrogateescape")
        + b"\r\n\r\nat the bottom "
        + junk(rng, 20)
        + tail
    )


def hostile_message(rng: random.Random) -> bytes:
    """One hostile message as a server would hand it over."""
    head = b"From: " + header_value(rng) + b"\r\n"
    head += b"Subject: " + header_value(rng) + b"\r\n"
    head += b"Message-ID: <" + str(rng.randrange(10**9)).encode() + b"@hostile.test>\r\n"
    for name in rng.sample(
        [b"To", b"Cc", b"Reply-To", b"In-Reply-To", b"References", b"Date", b"Content-Language"], 3
    ):
        head += name + b": " + header_value(rng) + b"\r\n"
    roll = rng.random()
    if roll < 0.015:
        head += b"X-Huge: " + b"=?utf-8?q?a?= " * rng.randrange(1000, 20000) + b"\r\n"
    elif roll < 0.03:
        head += b"To: " + b"a@b.test, " * rng.randrange(1000, 20000) + b"\r\n"
    elif roll < 0.045:
        head += b"".join(
            b"Received: from x by y; " + str(i).encode() + b"\r\n" for i in range(rng.randrange(500, 5000))
        )
    elif roll < 0.06:
        head += b"X-Folded: a\r\n" + b" folded\r\n" * rng.randrange(500, 5000)
    head += b"MIME-Version: 1.0\r\n"
    raw = head + entity(rng, 0)
    roll = rng.random()
    if roll < 0.2:
        raw = raw[: rng.randrange(0, len(raw) + 1)]  # truncated anywhere, headers included
    elif roll < 0.3:
        raw = bytearray(raw)
        for _ in range(rng.randrange(1, 10)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)  # flipped bytes, NULs among them
        raw = bytes(raw)
    elif roll < 0.35:
        raw = rng.randbytes(rng.randrange(0, 2000))
    elif roll < 0.4:
        raw = raw.replace(b"\r\n", rng.choice([b"\n", b"\r", b"\x00", b"\r\r\n"]))
    return raw


@cache
def _index() -> MailIndex:
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    index = MailIndex(db, frozenset({"support@shop.test"}))
    ensure_schema(db)
    return index


_uid = [0]


def read_like_the_console(raw: bytes, *, width: int = 80) -> tuple[ParsedMail, list[str]]:
    """Everything the console does with a received mail: the headers into the index (SQLite), the body
    parsed, the console's `Message` built, the reader's lines laid out, the attachments fetched back.
    Returns the parsed mail and the lines the reader would draw; raises on any exception and on unsafe
    output."""
    _uid[0] += 1
    headers = parse_headers(raw)
    rows = _index().add(INBOX, 1, [Fetched(_uid[0], frozenset(), 0.0, len(raw), headers)])
    parsed = parse_message(raw, max_chars=50_000)
    message = build_message("mail", rows[0], parsed)
    # The lines of one message without mounting a transcript: Transcript has no public per-message layout.
    lines = [text for text, _ in Transcript()._message_lines(message, width)]
    for attachment in parsed.attachments[:5]:
        payload = part_payload(raw, attachment.index)
        assert payload is not None, attachment
    for text in (*lines, parsed.body, headers.subject, headers.from_name, *parsed.undecodable):
        text.encode("utf-8")  # no lone surrogate: SQLite and the terminal would refuse it
    for line in lines:
        assert not _SAFE_TEXT.search(line), repr(line)
    return parsed, lines
