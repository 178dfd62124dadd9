"""Email on real mail servers: IMAP (with IDLE) for the inbox, SMTP for replies. See docs/email.md."""

from .adapter import ImapBackend
from .errors import TlsError
from .settings import ImapSettings, parse_settings

__all__ = ["ImapBackend", "ImapSettings", "TlsError", "parse_settings"]
