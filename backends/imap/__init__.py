"""Email on real mail servers: IMAP (with IDLE) for the inbox, SMTP for replies. See docs/email.md.

How it maps onto the contract (backends/base.py), in short: email channel only. snapshot = SEARCH/FETCH of
the inbox; events = IDLE (polling when the server lacks it), riding out drops itself and resuming from the
stored UIDVALIDITY/UIDNEXT, so nothing is lost or announced twice; history = the thread gathered by
Message-ID/In-Reply-To/References; reply = SMTP submission plus APPEND to Sent, journalled by key. Status,
assignee and tags are keywords where the server allows, else a local table; notes are always local, stored
once per key. Ids are `<workspace name>:<thread>`.
"""

from .adapter import ImapBackend
from .errors import TlsError
from .settings import ImapSettings, parse_settings

__all__ = ["ImapBackend", "ImapSettings", "TlsError", "parse_settings"]
