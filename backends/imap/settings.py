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


def parse_settings(name: str, raw: Mapping[str, Any]) -> ImapSettings:
    """Build settings from a config table, raising `Invalid` with a message that names the key."""

    def text(key: str, default: str = "") -> str:
        value = raw.get(key, default)
        if not isinstance(value, str):
            raise Invalid(f"[workspaces.{name}] {key} must be a string")
        return value.strip()

    def number(key: str, default: float) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise Invalid(f"[workspaces.{name}] {key} must be a positive number")
        return float(value)

    def flag(key: str, default: bool) -> bool:
        value = raw.get(key, default)
        if not isinstance(value, bool):
            raise Invalid(f"[workspaces.{name}] {key} must be true or false")
        return value

    def security(key: str, default: str) -> Security:
        value = text(key, default).lower()
        if value not in SECURITY_MODES:
            raise Invalid(f"[workspaces.{name}] {key} must be one of tls, starttls, plain (not {value!r})")
        return value  # type: ignore[return-value]

    host = text("host")
    user = text("user")
    if not host:
        raise Invalid(f"[workspaces.{name}] needs host = the IMAP server")
    if not user:
        raise Invalid(f"[workspaces.{name}] needs user = the IMAP login")
    imap_security = security("security", "tls")
    smtp_host = text("smtp_host", host)
    smtp_security = security("smtp_security", "starttls")
    for key, server, mode in (("security", host, imap_security), ("smtp_security", smtp_host, smtp_security)):
        if mode == "plain" and not is_loopback(server):
            raise Invalid(
                f"[workspaces.{name}] {key} = 'plain' would send the password unencrypted to {server}; "
                "plain is allowed only for 127.0.0.1 or localhost: use 'tls' or 'starttls'"
            )
    from_addr = text("from", user if "@" in user else "")
    if not from_addr:
        raise Invalid(f"[workspaces.{name}] needs from = the address replies are sent from")
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise Invalid(f"[workspaces.{name}] aliases must be a list of addresses")
    ca_file = text("ca_file")
    if ca_file and not Path(ca_file).expanduser().is_file():
        raise Invalid(f"[workspaces.{name}] ca_file {ca_file} is not a readable file")
    return ImapSettings(
        host=host,
        user=user,
        port=int(number("port", _DEFAULT_IMAP_PORT[imap_security])),
        security=imap_security,
        inbox=text("inbox", "INBOX") or "INBOX",
        sent=text("sent", "Sent"),
        smtp_host=smtp_host,
        smtp_port=int(number("smtp_port", _DEFAULT_SMTP_PORT[smtp_security])),
        smtp_security=smtp_security,
        smtp_user=text("smtp_user", user),
        from_addr=from_addr,
        from_name=text("from_name"),
        aliases=tuple(a.strip() for a in aliases if a.strip()),
        poll_seconds=number("poll_seconds", 60.0),
        idle=flag("idle", True),
        append_sent=flag("append_sent", True),
        ca_file=str(Path(ca_file).expanduser()) if ca_file else "",
        timeout=number("timeout", 30.0),
        max_body_chars=int(number("max_body_chars", 200_000)),
        max_fetch_bytes=int(number("max_fetch_bytes", 10_000_000)),
        language=text("language", "en") or "en",
        queue=text("queue", "email") or "email",
    )
