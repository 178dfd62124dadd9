"""A help desk's address from a workspace's table, checked once: http(s) with a host, and the token never
sent in clear over a network (`http://` is allowed only for this machine)."""

from __future__ import annotations

import ipaddress

import httpx

from ..base import Invalid


def is_local(host: str) -> bool:
    """This machine: `localhost` or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_url(where: str, url: str) -> httpx.URL:
    """`url` parsed, or `Invalid` saying why, for the `url` key of the table `where` names."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise Invalid(f"{where} url: not a URL: {url!r}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise Invalid(f"{where} url: expected http(s)://host, got {url!r}")
    if parsed.scheme == "http" and not is_local(parsed.host):
        raise Invalid(
            f"{where} url: the token would travel in clear text; use https:// (http:// is only for this machine)"
        )
    return parsed


__all__ = ["checked_url", "is_local"]
