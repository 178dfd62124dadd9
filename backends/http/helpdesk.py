"""`HelpdeskBackend`: what the help-desk adapters over REST (Chatwoot, Zendesk) share, written once.

A workspace of one help desk: built from its `[workspaces.NAME]` table with its token looked up when it
connects, one `HttpClient` (and the adapter's API object over it) that exists only while connected, a journal
of keyed commands, and the ids `<workspace>:<number>` of its conversations and `<workspace>:<prefix><number>`
of its customers. Each adapter says what differs: its `kind`, how it parses its table, how it connects and
what it does with the connection.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import httpx

from ...console.core.model import Attachment
from ..base import Backend, BackendContext, Invalid, NotFound, Unavailable, split_id
from ..settings import secret_name
from .client import HttpClient
from .journal import Journal


class HelpdeskSettings(Protocol):
    """What the shared plumbing reads of an adapter's parsed settings."""

    @property
    def url(self) -> str: ...
    @property
    def timeout(self) -> float: ...
    @property
    def ca_file(self) -> str: ...


ApiT = TypeVar("ApiT")
SettingsT = TypeVar("SettingsT", bound=HelpdeskSettings)


class HelpdeskBackend(Backend, Generic[ApiT, SettingsT]):
    """The common part of a help-desk adapter; subclasses implement `_connect` and the reading."""

    # The help desk's name: in messages ("zendesk desk") and in the journal file's name.
    kind: ClassVar[str]
    # What one of its conversations is called in messages ("no ticket desk:7 on desk").
    noun: ClassVar[str] = "conversation"
    # The native part of a customer's id before its number ("contact-" in `chat:contact-12`).
    customer_prefix: ClassVar[str]

    def __init__(
        self,
        name: str,
        settings: SettingsT,
        *,
        agent_id: str,
        data_dir: Path,
        secret: Callable[[], str],
        transport: httpx.AsyncBaseTransport | None = None,
        retry_base: float = 0.5,
        retry_cap: float = 5.0,
    ) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise Invalid(f"workspace name {name!r}: use letters, digits, '.', '_' or '-'")
        self.name = name
        self.config = settings
        self.agent_id = agent_id
        self.data_dir = Path(data_dir)
        self._secret = secret
        self._transport = transport
        self._retry = (retry_base, retry_cap)
        self._http: HttpClient | None = None
        self._api: ApiT | None = None
        self._journal = Journal(self.data_dir / f"{self.kind}-{name}.sqlite3")
        self._closed = asyncio.Event()

    @staticmethod
    def parse_settings(name: str, table: Mapping[str, Any]) -> Any:
        """The adapter's settings from its table (each adapter names its own `parse_settings`)."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: BackendContext) -> Self:
        return cls(
            name,
            cls.parse_settings(name, settings),
            agent_id=context.agent_id,
            data_dir=context.data_dir,
            # Asked for when connecting, so that a missing token is an AuthError the console shows.
            secret=lambda: context.secret(secret_name(name, cls.settings, "token")),
        )

    @property
    def service(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def api(self) -> ApiT:
        if self._api is None:
            raise Unavailable(f"{self.service} is not connected")
        return self._api

    @property
    def http_client(self) -> HttpClient:
        if self._http is None:
            raise Unavailable(f"{self.service} is not connected")
        return self._http

    # ------------------------------------------------------------------------------------------ lifecycle

    def _ssl(self) -> ssl.SSLContext | None:
        """A context trusting the configured private CA, or None for the system's CAs."""
        return ssl.create_default_context(cafile=self.config.ca_file) if self.config.ca_file else None

    def _client(self, auth: Callable[[], Mapping[str, str]], **options: Any) -> HttpClient:
        """A client of this help desk's server; `options` are HttpClient's (retries, backoff...)."""
        context = self._ssl()
        return HttpClient(
            self.config.url,
            service=self.service,
            auth=auth,
            secret=self._secret,
            timeout=self.config.timeout,
            transport=self._transport,
            verify=context if context is not None else True,
            **options,
        )

    async def connect(self) -> None:
        self._closed.clear()
        try:
            await self._connect()
        except BaseException:
            # A half-made connection (the client open, the profile refused) is not left behind.
            await self.close()
            raise

    async def _connect(self) -> None:
        """Open the client(s), set `_http` and `_api`, and read what the adapter needs before a snapshot."""
        raise NotImplementedError

    async def _release(self) -> None:
        """What the adapter holds besides its client and journal (a feed, a second client), let go first."""

    async def close(self) -> None:
        self._closed.set()
        await self._release()
        http, self._http, self._api = self._http, None, None
        if http is not None:
            await http.close()
        await self._journal.close()

    # ------------------------------------------------------------------------------------------ ids

    def _native(self, conversation_id: str) -> int:
        """The help desk's number of one of this workspace's conversations (`NotFound` for another's)."""
        backend, native = split_id(conversation_id)
        if backend != self.name or not native.isdigit():
            raise NotFound(f"no {self.noun} {conversation_id} on {self.name}")
        return int(native)

    def _customer_number(self, customer_id: str) -> int | None:
        """The help desk's number of one of this workspace's customers, None for anyone else's id."""
        backend, native = split_id(customer_id)
        number = native.removeprefix(self.customer_prefix)
        if backend != self.name or not native.startswith(self.customer_prefix) or not number.isdigit():
            return None
        return int(number)

    async def attachment(self, conversation_id: str, attachment: Attachment) -> bytes:
        """The file's bytes from the help desk's server (its URL is the attachment's `ref`), following
        redirects only on that server: files kept in an outside bucket are not fetched with the token."""
        self._native(conversation_id)
        if not attachment.ref:
            raise NotFound(f"{self.service}: {attachment.filename} has no address")
        return await self.http_client.download(attachment.ref)


__all__ = ["HelpdeskBackend", "HelpdeskSettings"]
