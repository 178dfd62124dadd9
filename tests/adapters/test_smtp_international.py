"""The Sent copy of a reply to an internationalised address (RFC 6532) keeps the address as UTF-8."""

from __future__ import annotations

from email.message import EmailMessage

from standardiste.backends.imap.mime import parse_headers
from standardiste.backends.imap.smtp import as_bytes


def _reply(to: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Support <support@shop.example>"
    message["To"] = to
    message["Subject"] = "Re: Bestellung"
    message.set_content("Guten Tag")
    return message


def test_a_non_ascii_address_is_filed_as_utf8_not_as_an_encoded_word() -> None:
    raw = as_bytes(_reply("Jörg Müller <jörg.müller@web.example>"))
    assert "jörg.müller@web.example".encode() in raw
    assert b"=?utf-8?" not in raw.split(b"\r\n\r\n", 1)[0].split(b"To:", 1)[1].split(b"\r\n", 1)[0]
    assert parse_headers(raw).to == ("jörg.müller@web.example",)


def test_an_ascii_reply_is_unchanged() -> None:
    raw = as_bytes(_reply("John Smith <john@example.com>"))
    assert b"To: John Smith <john@example.com>\r\n" in raw
