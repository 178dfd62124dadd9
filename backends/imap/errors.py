"""Turning socket, TLS, IMAP and SMTP failures into the contract's typed errors, without credentials."""

from __future__ import annotations

import smtplib
import socket
import ssl

from imapclient import exceptions as imap_errors

from ..base import AuthError, BackendError, Invalid, TlsError, Unavailable

__all__ = ["TlsError", "scrub", "translate"]


def scrub(text: str, *secrets: str) -> str:
    """Servers sometimes echo what they were sent; never let a password ride along in an error message."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def _reason(error: BaseException) -> str:
    return str(error).strip() or type(error).__name__


def translate(error: BaseException, *, service: str, host: str, port: int, secret: str = "") -> BackendError:
    """The typed error for `error`, raised while talking to `service` ("IMAP" or "SMTP") at host:port."""
    where = f"{service} server {host}:{port}"
    if isinstance(error, BackendError):
        return error
    if isinstance(error, ssl.SSLCertVerificationError):
        detail = getattr(error, "verify_message", None) or _reason(error)
        return TlsError(
            f"TLS with the {where} failed: its certificate could not be verified ({detail}). "
            "If the server uses a private CA, point ca_file at it."
        )
    if isinstance(error, ssl.SSLError):
        return TlsError(
            f"TLS with the {where} failed ({getattr(error, 'reason', None) or _reason(error)}): "
            "check that the port and the security setting (tls or starttls) match the server"
        )
    if isinstance(error, imap_errors.LoginError | smtplib.SMTPAuthenticationError):
        return AuthError(f"the {where} refused the login: check the user name and the stored password")
    if isinstance(error, socket.gaierror):
        return Unavailable(f"cannot find the {where}: {scrub(_reason(error), secret)}")
    if isinstance(error, TimeoutError | socket.timeout):
        return Unavailable(f"the {where} did not answer in time")
    if isinstance(error, ConnectionRefusedError):
        return Unavailable(f"the {where} refused the connection (is it running?)")
    if isinstance(
        error, imap_errors.IMAPClientAbortError | smtplib.SMTPServerDisconnected | OSError | EOFError
    ):
        return Unavailable(f"lost the connection to the {where}: {scrub(_reason(error), secret)}")
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(sorted(error.recipients))
        return Invalid(f"the {where} refused the recipients {refused}")
    if isinstance(error, smtplib.SMTPResponseException):
        message = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else ""
        text = f"the {where} answered {error.smtp_code}: {scrub(message, secret)}"
        # 4xx is a temporary failure in SMTP: worth another try later.
        return Unavailable(text) if 400 <= error.smtp_code < 500 else Invalid(text)
    if isinstance(error, smtplib.SMTPException):
        return Unavailable(f"the {where} failed: {scrub(_reason(error), secret)}")
    if isinstance(error, imap_errors.IMAPClientError):
        return Invalid(f"the {where} said no: {scrub(_reason(error), secret)}")
    return Unavailable(f"unexpected failure with the {where}: {scrub(_reason(error), secret)}")
