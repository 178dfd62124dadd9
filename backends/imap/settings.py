"""The `[workspaces.NAME]` table of an IMAP workspace, checked once when the adapter is built.

Plain-text transport is refused unless the host is this machine: a password sent in clear over a network is a
mistake nobody should be able to make with one config key.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..base import Invalid
from ..setting import REQUIRED, Setting
from ..settings import read_settings

Security = Literal["tls", "starttls", "plain"]
SECURITY_MODES: tuple[Security, ...] = ("tls", "starttls", "plain")
_DEFAULT_IMAP_PORT = {"tls": 993, "starttls": 143, "plain": 143}
_DEFAULT_SMTP_PORT = {"tls": 465, "starttls": 587, "plain": 25}


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    user: str
    port: int = 993
    security: Security = "tls"
    inbox: str = "INBOX"
    sent: str = "Sent"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: Security = "starttls"
    smtp_user: str = ""
    from_addr: str = ""
    from_name: str = ""
    # Other addresses that are "us": mail from them is outbound, and reply-all leaves them out.
    aliases: tuple[str, ...] = ()
    poll_seconds: float = 60.0
    # IDLE is used when the server offers it; `false` forces polling (for servers whose IDLE misbehaves).
    idle: bool = True
    # Some providers (Gmail) file submitted mail in Sent themselves; a second APPEND would duplicate it.
    append_sent: bool = True
    # A private CA for servers with a certificate no public CA signed (tests, company servers).
    ca_file: str = ""
    timeout: float = 30.0
    # Bodies longer than this are cut for display; the full message stays on the server.
    max_body_chars: int = 200_000
    # Messages are downloaded for display up to this size; the rest stays on the server.
    max_fetch_bytes: int = 10_000_000
    language: str = "en"
    # The queue the console routes this mailbox's conversations to.
    queue: str = "email"

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset(a.lower() for a in (self.from_addr, *self.aliases) if a)


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# The `[workspaces.NAME]` keys of an IMAP workspace (docs/email.md). Defaults of None are worked out from
# other keys in `parse_settings`: the ports from the security modes, the SMTP host and login from the IMAP
# ones, `from` from a login that is an address.
SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, REQUIRED, help="the IMAP server"),
    Setting("user", str, REQUIRED, help="the IMAP login"),
    Setting("password", secret=True, help="the password (or app password) of the IMAP and SMTP login"),
    Setting("port", int, None, positive=True, help="993 with tls, else 143"),
    Setting("security", str, "tls", choices=SECURITY_MODES, help="how the IMAP connection is encrypted"),
    Setting("inbox", str, "INBOX", help="the folder the queue is read from"),
    Setting("sent", str, "Sent", help="the folder replies are filed in"),
    Setting("smtp_host", str, None, help="the SMTP server (default: host)"),
    Setting("smtp_port", int, None, positive=True, help="465 with tls, 587 with starttls, else 25"),
    Setting("smtp_security", str, "starttls", choices=SECURITY_MODES, help="how SMTP is encrypted"),
    Setting("smtp_user", str, None, help="the SMTP login (default: user)"),
    Setting("from", str, None, help="the address replies are sent from (default: user, if an address)"),
    Setting("from_name", str, "", help="the name replies are sent as"),
    Setting("aliases", tuple, (), help="other addresses that are us"),
    Setting("poll_seconds", float, 60.0, positive=True, help="seconds between polls without IDLE"),
    Setting("idle", bool, True, help="use IDLE when the server offers it"),
    Setting("append_sent", bool, True, help="file a copy of each reply in the sent folder"),
    Setting("ca_file", Path, None, help="a private CA's certificate, to trust the server's"),
    Setting("timeout", float, 30.0, positive=True, help="seconds before a silent server is given up"),
    Setting("max_body_chars", int, 200_000, positive=True, help="longer bodies are cut for display"),
    Setting("max_fetch_bytes", int, 10_000_000, positive=True, help="larger messages stay on the server"),
    Setting("language", str, "en", help="the language of the mailbox's customers"),
    Setting("queue", str, "email", help="the queue its conversations go to"),
)


def parse_settings(name: str, raw: Mapping[str, Any]) -> ImapSettings:
    """Build settings from a config table, raising `Invalid` with a message that names the key."""
    values = read_settings(SETTINGS, name, raw)
    host: str = values["host"]
    user: str = values["user"]
    imap_security: Security = values["security"]
    smtp_host: str = values["smtp_host"] or host
    smtp_security: Security = values["smtp_security"]
    for key, server, mode in (("security", host, imap_security), ("smtp_security", smtp_host, smtp_security)):
        if mode == "plain" and not is_loopback(server):
            raise Invalid(
                f"[workspaces.{name}] {key} = 'plain' would send the password unencrypted to {server}; "
                "plain is allowed only for 127.0.0.1 or localhost: use 'tls' or 'starttls'"
            )
    from_addr = values["from"] if values["from"] is not None else (user if "@" in user else "")
    if not from_addr:
        raise Invalid(f"[workspaces.{name}] from: required (the address replies are sent from)")
    ca_file: Path | None = values["ca_file"]
    if ca_file is not None and not ca_file.is_file():
        raise Invalid(f"[workspaces.{name}] ca_file: {ca_file} is not a readable file")
    port = values["port"]
    smtp_port = values["smtp_port"]
    return ImapSettings(
        host=host,
        user=user,
        port=port if port is not None else _DEFAULT_IMAP_PORT[imap_security],
        security=imap_security,
        inbox=values["inbox"] or "INBOX",
        sent=values["sent"],
        smtp_host=smtp_host,
        smtp_port=smtp_port if smtp_port is not None else _DEFAULT_SMTP_PORT[smtp_security],
        smtp_security=smtp_security,
        smtp_user=values["smtp_user"] if values["smtp_user"] is not None else user,
        from_addr=from_addr,
        from_name=values["from_name"],
        aliases=values["aliases"],
        poll_seconds=values["poll_seconds"],
        idle=values["idle"],
        append_sent=values["append_sent"],
        ca_file=str(ca_file) if ca_file is not None else "",
        timeout=values["timeout"],
        max_body_chars=values["max_body_chars"],
        max_fetch_bytes=values["max_fetch_bytes"],
        language=values["language"] or "en",
        queue=values["queue"] or "email",
    )
