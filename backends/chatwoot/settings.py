"""The `[workspaces.NAME]` table of a Chatwoot workspace, checked once when the adapter is built.

    [workspaces.chat]
    backend = "chatwoot"
    url = "https://chat.example.com"
    account = 1
    agent = "ann@example.com"        # optional: the token must be this user's

The access token (the profile page's "Access Token") is a secret: `standardiste login chat` stores it.
A token sent in clear over a network is refused: `http://` is allowed only for this machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..base import Invalid
from ..http.urls import checked_url
from ..setting import REQUIRED, Setting
from ..settings import read_settings

STATUSES = ("open", "pending", "snoozed", "resolved")

SETTINGS: tuple[Setting, ...] = (
    Setting("url", str, REQUIRED, help="the Chatwoot server, e.g. https://chat.example.com"),
    Setting("account", int, REQUIRED, positive=True, help="the account id (the number after /app/accounts/)"),
    Setting("token", secret=True, help="the agent's access token (Profile settings, Access Token)"),
    Setting("agent", str, "", help="the agent's Chatwoot login (email); the token must be this user's"),
    Setting(
        "statuses",
        tuple,
        ("open", "pending", "snoozed"),
        help="which conversations the queue holds, by Chatwoot status",
    ),
    Setting(
        "assignee",
        str,
        "all",
        choices=("all", "me", "unassigned", "assigned"),
        help="which conversations the queue holds, by assignee",
    ),
    Setting("subject_attribute", str, "subject", help="the conversation attribute (pre-chat form) used as subject"),
    Setting("timeout", float, 15.0, positive=True, help="seconds to wait for an answer"),
    Setting("page_concurrency", int, 4, positive=True, help="pages of conversations fetched at once"),
    Setting("ca_file", str, "", help="a private CA bundle for a server no public CA signed"),
)


@dataclass(frozen=True, slots=True)
class ChatwootSettings:
    url: str
    account: int
    agent: str = ""
    statuses: tuple[str, ...] = ("open", "pending", "snoozed")
    assignee: str = "all"
    subject_attribute: str = "subject"
    timeout: float = 15.0
    page_concurrency: int = 4
    ca_file: str = ""

    @property
    def cable_url(self) -> str:
        """ActionCable's endpoint: the same host, ws:// or wss:// as the REST URL is http:// or https://."""
        url = httpx.URL(self.url)
        scheme = "wss" if url.scheme == "https" else "ws"
        return str(url.copy_with(scheme=scheme, path=url.path.rstrip("/") + "/cable"))

    @property
    def host(self) -> str:
        return httpx.URL(self.url).host


def parse_settings(name: str, table: Mapping[str, Any]) -> ChatwootSettings:
    values = read_settings(SETTINGS, name, table)
    where = f"[workspaces.{name}]"
    url = values["url"].rstrip("/")
    checked_url(where, url)
    unknown = [s for s in values["statuses"] if s not in STATUSES]
    if unknown or not values["statuses"]:
        raise Invalid(f"{where} statuses: expected some of {', '.join(STATUSES)}, got {list(values['statuses'])}")
    return ChatwootSettings(
        url=url,
        account=values["account"],
        agent=values["agent"].lower(),
        statuses=tuple(dict.fromkeys(values["statuses"])),
        assignee=values["assignee"],
        subject_attribute=values["subject_attribute"],
        timeout=values["timeout"],
        page_concurrency=values["page_concurrency"],
        ca_file=values["ca_file"],
    )


__all__ = ["SETTINGS", "STATUSES", "ChatwootSettings", "parse_settings"]
