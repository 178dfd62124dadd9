"""The `[workspaces.NAME]` table of a Zendesk workspace, checked once when the adapter is built.

    [workspaces.desk]
    backend = "zendesk"
    subdomain = "acme"                 # https://acme.zendesk.com (or `url = "https://..."` instead)
    email = "ann@acme.com"             # the agent: the API token is used as {email}/token
    views = ["Your unsolved tickets"]  # optional: the agent's views (titles or ids) polled for changes

The API token (Admin Center, Apps and integrations, Zendesk API) is a secret: `standardiste login desk`
stores it. A token sent in clear over a network is refused: `http://` is allowed only for this machine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..base import Invalid
from ..http.urls import checked_url, is_local
from ..setting import REQUIRED, Setting
from ..settings import read_settings

# The incremental export's documented limit: 10 requests a minute (Incremental Exports, "Rate limits").
EXPORT_PER_MINUTE = 10
MIN_EXPORT_INTERVAL = 60.0 / EXPORT_PER_MINUTE

SETTINGS: tuple[Setting, ...] = (
    Setting("subdomain", str, "", help="the account's subdomain: acme for https://acme.zendesk.com"),
    Setting("url", str, "", help="the account's address instead of a subdomain (a proxy, the tests)"),
    Setting("email", str, REQUIRED, help="the agent's Zendesk login; the token is used as {email}/token"),
    Setting("token", secret=True, help="an API token (Admin Center > Apps and integrations > Zendesk API)"),
    Setting("query", str, "type:ticket status<solved", help="the search whose tickets the queue holds"),
    Setting("views", tuple, (), help="the agent's views (titles or ids) polled for changes"),
    Setting("poll", float, 10.0, positive=True, help="seconds between two polls of the views"),
    Setting(
        "export_interval",
        float,
        MIN_EXPORT_INTERVAL,
        positive=True,
        help="seconds between two reads of the incremental export (10 a minute at most)",
    ),
    Setting("timeout", float, 15.0, positive=True, help="seconds to wait for an answer"),
    Setting("page_size", int, 100, positive=True, help="tickets per page of a cursor-paginated list"),
    Setting("ca_file", str, "", help="a private CA bundle for a proxy no public CA signed"),
)


@dataclass(frozen=True, slots=True)
class ZendeskSettings:
    url: str
    email: str
    query: str = "type:ticket status<solved"
    views: tuple[str, ...] = ()
    poll: float = 10.0
    export_interval: float = MIN_EXPORT_INTERVAL
    timeout: float = 15.0
    page_size: int = 100
    ca_file: str = ""

    @property
    def host(self) -> str:
        return httpx.URL(self.url).host


def parse_settings(name: str, table: Mapping[str, Any]) -> ZendeskSettings:
    values = read_settings(SETTINGS, name, table)
    where = f"[workspaces.{name}]"
    subdomain, url = values["subdomain"], values["url"].rstrip("/")
    if bool(subdomain) == bool(url):
        raise Invalid(f"{where} subdomain: give the subdomain (acme for acme.zendesk.com) or a url, not both")
    if subdomain:
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", subdomain.lower()):
            raise Invalid(f"{where} subdomain: expected letters, digits and '-' (acme), got {subdomain!r}")
        url = f"https://{subdomain.lower()}.zendesk.com"
    local = is_local(checked_url(where, url).host)
    email = values["email"].strip().lower()
    if "@" not in email:
        raise Invalid(f"{where} email: expected the agent's login (an email address), got {email!r}")
    if values["export_interval"] < MIN_EXPORT_INTERVAL and not local:
        raise Invalid(
            f"{where} export_interval: Zendesk allows {EXPORT_PER_MINUTE} incremental exports a minute: "
            f"at least {MIN_EXPORT_INTERVAL:.0f} seconds"
        )
    return ZendeskSettings(
        url=url,
        email=email,
        query=values["query"] or "type:ticket status<solved",
        views=values["views"],
        poll=values["poll"],
        export_interval=values["export_interval"],
        timeout=values["timeout"],
        page_size=min(100, values["page_size"]),
        ca_file=values["ca_file"],
    )


__all__ = ["EXPORT_PER_MINUTE", "MIN_EXPORT_INTERVAL", "SETTINGS", "ZendeskSettings", "parse_settings"]
