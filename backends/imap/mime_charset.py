"""Bytes in a declared charset to text, never raising, and saying when the text is not what was sent.

A charset label comes from the sender, so it may name anything Python's codec registry knows: `hex`, `rot13`,
`zlib`, `base64`, `uu` are byte or string transforms, not character sets, and refuse `bytes.decode`; `undefined`
always raises; `idna` and `punycode` encode domain names and raise on most bytes whatever the error handler;
`unicode_escape` turns `\\ud800` into a lone surrogate. Only codecs Python marks as text encodings are used,
minus those that are not character sets; anything else reads as UTF-8, else Windows-1252. ISO-8859-1 and
US-ASCII labels read as Windows-1252 (what senders mean by them, as browsers do). Lone surrogates (UTF-7 and
UTF-16 can produce them) become U+FFFD: they cannot be stored in SQLite nor written to a terminal.
"""

from __future__ import annotations

import codecs
import re

# Labels that senders use for Windows-1252 text (the WHATWG encoding standard reads them so).
_CP1252_LABELS = frozenset(
    {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii", "l1", "cp819"}
)
# Python calls these text encodings, but they are not character sets a mail body can be written in.
_NOT_CHARSETS = frozenset({"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape"})
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MAX_LABEL = 64


def clean_text(text: str) -> str:
    """Text without lone surrogates (each becomes U+FFFD)."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def text_codec(label: str | None) -> str | None:
    """The codec a charset label names when it is a character set Python can decode; None otherwise."""
    label = (label or "").strip().strip("\"'").strip().lower()
    if not label or len(label) > _MAX_LABEL:
        return None
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError, TypeError, UnicodeError):  # unknown, NUL in the name, not ASCII
        return None
    if not getattr(info, "_is_text_encoding", False) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def decode_text(data: bytes, charset: str | None) -> tuple[str, str]:
    """(text, problem): the text is always some reading of `data`; the problem is "" when the text is what
    the sender wrote, else a short reason it may not be (bytes replaced, or the charset was unusable)."""
    label = (charset or "").strip().strip("\"'").strip().lower()
    if label in _CP1252_LABELS:
        label = "ascii" if data.isascii() else "windows-1252"
    codec = text_codec(label) if label else None
    if codec is not None:
        try:
            return clean_text(data.decode(codec)), ""
        except Exception:
            pass
        if codec not in ("utf-8", "cp1252"):
            try:
                return clean_text(data.decode(codec, "replace")), f"bytes invalid in {codec} were replaced"
            except Exception:
                pass
    try:
        return clean_text(data.decode("utf-8")), ""
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", "replace")
    if codec is not None:
        return text, f"not valid {codec}; shown as Windows-1252"
    if label:
        return text, f"charset {_printable(label)} is not a usable text encoding; shown as Windows-1252"
    if "\ufffd" in text:
        return text, "bytes undefined in Windows-1252 were replaced"
    return text, ""


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a declared (possibly wrong, possibly unknown, possibly hostile) charset to text, never raising."""
    return decode_text(data, charset)[0]


def _printable(label: str) -> str:
    shown = "".join(ch if ch.isprintable() and ch.isascii() else "?" for ch in label[:_MAX_LABEL])
    return f"“{shown}”"
