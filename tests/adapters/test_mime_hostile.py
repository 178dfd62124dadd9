"""One bad message costs one message: hostile mail never raises, is shown as what could be read with a
"could not decode" mark, keeps its raw part to save, and never stops the mailbox (tests/hostile_mail.py
generates the messages; bench/mime_fuzz.py runs 100,000 of them)."""

from __future__ import annotations

import base64
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hostile_mail import CHARSETS, NASTY_BYTES, hostile_message, read_like_the_console
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mailservers import USER, Collector, ImapServer, SmtpServer, mail, make_backend
from standardiste.backends.imap import ImapBackend, mime
from standardiste.backends.imap.mime import (
    WHOLE_MESSAGE,
    decode_bytes,
    parse_headers,
    parse_message,
    part_payload,
)
from standardiste.backends.imap.mime_charset import decode_text, text_codec
from standardiste.backends.imap.mime_parser import MAX_DEPTH
from standardiste.console.core.model import Direction, Message
from standardiste.widgets.transcript import Transcript

# Not valid UTF-8: the fallback must guess, and say so.
LATIN1_BODY = "Bonjour, la facture est fausse: 12 € au lieu de 10 €.".encode("cp1252")


def one_part(charset: str, body: bytes = LATIN1_BODY, subject: str = "Facture") -> bytes:
    return (
        f"From: Ann <ann@customer.test>\r\nTo: {USER}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{abs(hash((charset, subject)))}@customer.test>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={charset}\r\n\r\n"
    ).encode() + body


def nested(levels: int, *, before: str = "", subject: str = "Deep") -> bytes:
    """`levels` nested multiparts (about 55 bytes a level) around one text part; `before` is a text part
    next to the outermost level."""
    inner = b"".join(
        b"Content-Type: multipart/mixed; boundary=n%d\r\n\r\n--n%d\r\n" % (i, i) for i in range(levels)
    )
    inner += b"Content-Type: text/plain\r\n\r\nat the bottom\r\n"
    inner += b"".join(b"--n%d--\r\n" % i for i in reversed(range(levels)))
    head = (
        f"From: deep@customer.test\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}@customer.test>\r\n"
        "MIME-Version: 1.0\r\n"
    ).encode()
    if not before:
        return head + inner
    return (
        head
        + b"Content-Type: multipart/mixed; boundary=top\r\n\r\n--top\r\nContent-Type: text/plain\r\n\r\n"
        + before.encode()
        + b"\r\n--top\r\n"
        + inner
        + b"\r\n--top--\r\n"
    )


def reader_lines(message: Message, width: int = 80) -> list[tuple[str, str]]:
    # One message's lines without mounting a transcript: Transcript has no public per-message layout.
    return Transcript()._message_lines(message, width)


# ---------------------------------------------------------------------------------------------- concrete cases


@pytest.mark.parametrize("label", ["hex", "rot13", "zlib", "undefined", "punycode"])
def test_a_non_text_charset_shows_what_could_be_read_with_a_mark_and_the_raw_part(label: str) -> None:
    raw = one_part(label)
    parsed = parse_message(raw)
    assert "la facture est fausse: 12 € au lieu de 10 €" in parsed.body  # read as Windows-1252
    (problem,) = parsed.undecodable
    assert f"“{label}”" in problem and "not a usable text encoding" in problem
    (attachment,) = parsed.attachments
    assert attachment.filename in problem  # the mark names the raw copy
    assert part_payload(raw, attachment.index) == LATIN1_BODY  # as sent, to be saved with S
    assert parse_headers(raw).subject == "Facture"


@pytest.mark.parametrize("label", ["hex", "rot13", "zlib", "undefined", "punycode"])
def test_the_email_reader_marks_the_part_it_could_not_decode(label: str) -> None:
    parsed, lines = read_like_the_console(one_part(label))
    marks = [line for line in lines if "could not decode" in line]
    assert marks and label in " ".join(marks)
    assert any("📎" in line and parsed.attachments[0].filename in line for line in lines)


def test_a_thousand_nested_multiparts_cost_only_the_inner_levels() -> None:
    raw = nested(1000, before="Please see the order below.")
    assert 50_000 < len(raw) < 70_000
    parsed = parse_message(raw)
    assert parsed.body == "Please see the order below."  # the outer levels are read
    (problem,) = parsed.undecodable
    assert f"more than {MAX_DEPTH} levels deep" in problem
    (attachment,) = parsed.attachments
    kept = part_payload(raw, attachment.index)
    assert kept is not None and attachment.size == len(kept)
    # The deeper levels are kept whole, as sent, from the first level that was not split to the bottom.
    # (levels 1 and 2 are the message and n0: n62 is level 64, the last one split)
    assert kept.startswith(b"Content-Type: multipart/mixed; boundary=n%d\r\n" % (MAX_DEPTH - 1))
    assert b"at the bottom" in kept and kept.count(b"boundary=n") == 1000 - (MAX_DEPTH - 1)
    assert parse_headers(raw).subject == "Deep"
    _, lines = read_like_the_console(raw)
    assert any("could not decode" in line for line in lines)


def test_nesting_within_the_bound_is_read_to_the_bottom() -> None:
    parsed = parse_message(nested(MAX_DEPTH - 2))
    assert parsed.body == "at the bottom" and parsed.undecodable == () and parsed.attachments == ()


@pytest.mark.parametrize(
    "label",
    ["hex", "rot13", "zlib", "base64", "bz2", "uu", "quopri", "undefined", "punycode", "idna", "utf-7"],
)
@pytest.mark.parametrize("data", [*NASTY_BYTES, LATIN1_BODY, b""])
def test_decode_bytes_never_raises_and_never_returns_a_lone_surrogate(label: str, data: bytes) -> None:
    text = decode_bytes(data, label)
    text.encode("utf-8")  # a lone surrogate cannot be stored in SQLite nor written to a terminal


def test_only_character_sets_are_accepted_as_charset_labels() -> None:
    assert text_codec("UTF-8") == "utf-8" and text_codec('"koi8-r"') == "koi8-r"
    assert text_codec("iso-2022-jp") == "iso2022_jp"
    for label in ("hex", "rot13", "zlib", "base64", "bz2", "uu", "quopri", "undefined", "idna", "punycode"):
        assert text_codec(label) is None, label
    assert text_codec("utf-8\x00") is None and text_codec("ä") is None and text_codec("a" * 300) is None
    # Text that decodes cleanly is not marked, whatever the label said.
    assert decode_text(b"plain ascii", "hex") == ("plain ascii", "")
    assert decode_text("café".encode(), "x-unknown") == ("café", "")
    assert decode_text(b"+2AA-", "utf-7") == ("\ufffd", "")  # the lone surrogate UTF-7 makes is replaced


def test_broken_parameters_and_words_cost_only_themselves() -> None:
    raw = (
        b"From: =?idna?b?/w==?= <a@customer.test>\r\nSubject: =?hex?q?=FF?= ok =?utf-8?b?!!!?=\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary*0*=idna''%FF; boundary*1=x\r\n\r\n"
        b"--x\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
        b"--x\r\nContent-Type: image/png; name*=unicode_escape''%5Cud800.png\r\n"
        b"Content-Type: te\x1b[2Jxt/pl\x07ain\r\n\r\nnot a png\r\n--x--\r\n"
    )
    parsed, _ = read_like_the_console(raw)
    assert parsed.headers.from_addr == "a@customer.test"
    assert "ok" in parsed.headers.subject
    for attachment in parsed.attachments:
        assert attachment.content_type.isascii() and attachment.content_type.isprintable()


def test_a_failure_anywhere_still_yields_the_headers_and_the_whole_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last resort, for a failure nobody has found yet: the mail is indexed and attached whole."""
    raw = one_part("utf-8", b"Hello")

    def broken(*args: object) -> None:
        raise RecursionError("somewhere new")

    monkeypatch.setattr(mime, "_classify", broken)
    parsed = parse_message(raw)
    assert parsed.headers.subject == "Facture"
    assert "could not be read (RecursionError)" in parsed.undecodable[0]
    (whole,) = parsed.attachments
    assert whole.index == WHOLE_MESSAGE and part_payload(raw, whole.index) == raw


def test_the_mark_is_drawn_as_plain_text() -> None:
    message = Message(
        id="m",
        conversation_id="c",
        direction=Direction.INBOUND,
        author="Ann",
        body="shown",
        created_at=0.0,
        undecodable=("part 1 \x1b]52;c;aGk=\x07[bold]x[/bold]: charset “hex”",) * 9,
    )
    lines = reader_lines(message, width=40)
    marks = [(text, kind) for text, kind in lines if "could not decode" in text]
    assert marks[0][1] == "warning" and "\x1b" not in "".join(t for t, _ in lines)
    assert "[bold]x[/bold]" in "".join(t for t, _ in lines)  # kept as text, never parsed as markup
    assert marks[-1][0].strip() == "⚠ could not decode 4 more parts"


# ---------------------------------------------------------------------------------------------- properties


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_hostile_messages_never_raise_through_parsing_and_the_reader(rng: random.Random) -> None:
    raw = hostile_message(rng)
    parsed, lines = read_like_the_console(raw)
    assert lines and isinstance(parsed.body, str)
    for attachment in parsed.attachments:
        assert part_payload(raw, attachment.index) is not None


_LABELS = st.one_of(st.sampled_from(CHARSETS), st.text(max_size=20))


@settings(max_examples=150, deadline=None)
@given(label=_LABELS, data=st.binary(max_size=200))
def test_any_label_and_bytes_decode_to_storable_text(label: str, data: bytes) -> None:
    text, _ = decode_text(data, label)
    text.encode("utf-8")


@settings(max_examples=150, deadline=None)
@given(label=_LABELS, data=st.binary(max_size=60), kind=st.sampled_from("bBqQ"), cut=st.integers(0, 80))
@example(label="hex", data=b"\r:", kind="b", cut=0)  # a CR decoded inside the display name hid the address
def test_broken_encoded_words_and_rfc2231_parameters_never_raise(
    label: str, data: bytes, kind: str, cut: int
) -> None:
    label = "".join(ch for ch in label if ch not in "\r\n?")
    # RFC 5322 specials in a display name make the address itself ambiguous (`=?@ ?b??= <a@x>`): the question
    # here is broken encoded words, so the From header's word keeps none of them.
    specials = '@<>,;:"()[]\\'
    clean_label = "".join(ch for ch in label if ch not in specials)
    payload = base64.b64encode(data).decode() if kind in "bB" else "".join(f"={b:02X}" for b in data)
    word = f"=?{label}?{kind}?{payload}?="[: cut or None]
    from_word = f"=?{clean_label}?{kind}?{payload}?="[: cut or None]
    escaped = "".join(f"%{b:02X}" for b in data)
    raw = (
        (
            f"From: {from_word} <a@customer.test>\r\nSubject: {word} and {word}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/mixed; boundary*0*={label}''{escaped}; boundary*1=b\r\n\r\n"
            f"--b\r\nContent-Type: text/plain; charset={label}\r\n\r\n"
        ).encode("utf-8", "surrogateescape")
        + data
        + (f"\r\n--b\r\nContent-Disposition: attachment; filename*={label}'en'{escaped}\r\n\r\nx\r\n").encode(
            "utf-8", "surrogateescape"
        )
    )
    parsed, _ = read_like_the_console(raw)
    assert parsed.headers.from_addr == "a@customer.test"


# ---------------------------------------------------------------------------------------------- a real server


@pytest.fixture
async def backend(
    imap_server: ImapServer, smtp_server: SmtpServer, tmp_path: Path
) -> AsyncIterator[ImapBackend]:
    backend = make_backend(imap_server, smtp_server, tmp_path / "data")
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()


# pymap itself fails an APPEND of some 300 nested levels (its parser recurses too), so the server gets 200:
# still far past MAX_DEPTH. The 1,000-level mail is tested above without a server.
DEEP = 200
HOSTILE = [one_part("hex", subject="Hex"), one_part("zlib", subject="Zlib"), nested(DEEP, before="Deep one")]


async def test_hostile_mail_in_the_mailbox_costs_only_itself(
    imap_server: ImapServer, backend: ImapBackend
) -> None:
    """The first snapshot and the reader's history: hostile mails and a normal one; all are listed, the
    hostile ones show with their mark and their raw part to save (S)."""
    for raw in HOSTILE:
        imap_server.deliver(raw)
    imap_server.deliver(mail("Before", "Still here", message_id="<before@customer.test>"))

    snapshot = await backend.snapshot()
    by_subject = {c.subject: c for c in snapshot.conversations}
    assert set(by_subject) == {"Hex", "Zlib", "Deep", "Before"}
    for subject in ("Hex", "Zlib", "Deep"):
        (message,) = await backend.history(by_subject[subject].id)
        assert message.undecodable, subject
        (attachment,) = message.attachments
        data = await backend.attachment(by_subject[subject].id, attachment)
        assert data and len(data) == attachment.size
    (hex_message,) = await backend.history(by_subject["Hex"].id)
    assert "12 € au lieu de 10 €" in hex_message.body
    assert await backend.attachment(by_subject["Hex"].id, hex_message.attachments[0]) == LATIN1_BODY
    assert [m.body for m in await backend.history(by_subject["Before"].id)] == ["Still here"]


async def test_a_hostile_mail_arriving_live_does_not_stop_the_next_one(
    imap_server: ImapServer, backend: ImapBackend
) -> None:
    """The live (IDLE) path: hostile mails followed by a normal one; the normal one arrives, the hostile
    ones arrive with their mark (before the fix the watcher looped on "cannot reach: LookupError")."""
    await backend.snapshot()
    collector = Collector(backend)
    await collector.ready()
    try:
        imap_server.deliver(one_part("rot13", subject="Live rot13"))
        imap_server.deliver(nested(DEEP, before="Live deep", subject="Live deep"))
        imap_server.deliver(mail("After", "Arrived anyway", message_id="<after@customer.test>"))
        await collector.wait_for(lambda: len(collector.messages()) >= 3, timeout=20)
        arrived = {m.message.email.subject: m.message for m in collector.messages() if m.message.email}
        assert arrived["After"].body == "Arrived anyway" and not arrived["After"].undecodable
        assert arrived["Live rot13"].undecodable and arrived["Live rot13"].attachments
        assert arrived["Live deep"].body == "Live deep" and arrived["Live deep"].undecodable
    finally:
        await collector.stop()
