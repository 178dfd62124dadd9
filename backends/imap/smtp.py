"""Submitting a reply over SMTP (stdlib smtplib, in a worker thread): implicit TLS, STARTTLS, or plain for
a server on this machine only. Login happens only when the server offers AUTH, and only after TLS is up."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email import policy
from email.message import EmailMessage

from ..base import AuthError
from .errors import translate
from .session import ssl_context
from .settings import ImapSettings


def submit(
    settings: ImapSettings, password: str, message: EmailMessage, sender: str, recipients: Sequence[str]
) -> dict[str, str]:
    """Send `message` to `recipients` (the envelope, which is where BCC lives). Returns refused recipients.

    Raises `AuthError`, `TlsError`, `Unavailable` (retryable) or `Invalid` (every recipient refused...).
    """
    host, port = settings.smtp_host, settings.smtp_port
    try:
        server: smtplib.SMTP
        if settings.smtp_security == "tls":
            server = smtplib.SMTP_SSL(host, port, timeout=settings.timeout, context=ssl_context(settings))
        else:
            server = smtplib.SMTP(host, port, timeout=settings.timeout)
        with server:
            server.ehlo()
            if settings.smtp_security == "starttls":
                if not server.has_extn("starttls"):
                    raise AuthError(
                        f"the SMTP server {host}:{port} does not offer STARTTLS: refusing to send the password "
                        "in clear (use smtp_security = 'tls' if it expects TLS from the start)"
                    )
                server.starttls(context=ssl_context(settings))
                server.ehlo()
            if server.has_extn("auth") and settings.smtp_user:
                server.login(settings.smtp_user, password)
            refused = server.send_message(message, from_addr=sender, to_addrs=list(recipients))
    except Exception as error:
        raise translate(error, service="SMTP", host=host, port=port, secret=password) from None
    return {address: f"{code} {text.decode('utf-8', 'replace')}" for address, (code, text) in refused.items()}


def as_bytes(message: EmailMessage) -> bytes:
    """The bytes sent, for the copy APPENDed to Sent.

    A non-ASCII address (RFC 6532: `jörg.müller@web.example`) cannot be an encoded word: smtplib sends such a
    message with SMTPUTF8 and raw UTF-8 headers, and the Sent copy must say the same."""
    international = any(
        not str(value).isascii() for name in ("From", "To", "Cc", "Bcc", "Reply-To", "Sender")
        for value in message.get_all(name, [])
    )
    return message.as_bytes(policy=policy.SMTPUTF8 if international else policy.SMTP)
