"""`HttpClient`: one httpx `AsyncClient` per backend, with its auth, timeouts, and retries that obey the server.

Retries use the shared `Backoff` (backends/retry.py: exponential, full jitter). What is retried, and why:

- 429 and 503 are retried after the server's `Retry-After` (errors.retry_after) when that wait is at most
  `max_wait`; a longer wait is not slept through: it is raised as `RateLimited(retry_after)`, so the outbox
  and the hub wait without holding a command hostage.
- 502 and 504 (a proxy that lost the server) and transport failures are retried with backoff, but a request
  that may have reached the server (anything after the connection was made) is retried only when it is
  idempotent (GET, HEAD, PUT, DELETE, OPTIONS): a POST that timed out waiting for its answer may have been
  applied, and sending it again would post a reply twice. It is raised as `Unavailable` instead, and the
  caller's own idempotency (a command's key) decides.

The secret is asked for when the client opens (`auth()`), lives only in the client's default headers, and is
scrubbed from every message this module makes. Nothing here logs a header or a body.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from ..base import Invalid, RateLimited, Unavailable
from ..retry import Backoff
from .errors import error_for_exception, error_for_response, retry_after

log = logging.getLogger(__name__)

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Answers worth a second try: the server said "later" (429, 503) or a proxy lost it (502, 504).
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Transport failures that happen before a byte of the request reached the server: safe for any method.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class HttpClient:
    """One service over HTTP: `base_url`, the auth headers from `auth()` and typed errors.

    `service` names the backend in messages ("chatwoot support"). `secret`, when the auth headers only
    encode it, is the raw secret, scrubbed from messages as well. `transport` replaces the network (tests
    pass an `httpx.MockTransport`). `sleep` is awaited between tries (tests record it instead of waiting).
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        auth: Callable[[], Mapping[str, str]],
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        retries: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_wait: float = 30.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
        verify: bool | str | ssl.SSLContext = True,
        secret: Callable[[], str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.service = service
        self._auth = auth
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self.retries = retries
        self._backoff = (backoff_base, backoff_cap)
        self.max_wait = max_wait
        self._headers = dict(headers or {})
        self._transport = transport
        self._sleep = sleep
        self._verify = verify
        self._client: httpx.AsyncClient | None = None
        self._secret = secret
        self._secrets: tuple[str, ...] = ()

    # ---------------------------------------------------------------------------------- life cycle

    async def open(self) -> None:
        """Ask for the secret (an `AuthError` when there is none) and open the connection pool."""
        if self._client is not None:
            return
        auth = dict(self._auth())
        # Every header value of the auth is a secret, and so is each word of it ("Basic <b64>").
        self._secrets = tuple({v for value in auth.values() for v in (value, *value.split())})
        if self._secret is not None:
            # The raw secret too: a Basic header holds it only in base64, and a server may echo it back.
            self._secrets = (*self._secrets, self._secret())
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"accept": "application/json", **self._headers, **auth},
            timeout=self._timeout,
            transport=self._transport,
            verify=self._verify,
            follow_redirects=False,  # a redirect to another host must not carry the token along
        )

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    @property
    def is_open(self) -> bool:
        return self._client is not None

    @property
    def secrets(self) -> tuple[str, ...]:
        """What messages must never show (for callers that build messages of their own)."""
        return self._secrets

    # ---------------------------------------------------------------------------------- requests

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: Sequence[tuple[str, tuple[str, bytes, str]]] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The successful (2xx) answer, after the retries the server allows; a typed error otherwise.

        `path` is relative to `base_url`, or an absolute URL on the same origin (a `links.next`): an URL on
        another origin is refused, since the request would carry this service's token to it."""
        client = self._client
        if client is None:
            raise Unavailable(f"{self.service} is not connected")
        method = method.upper()
        url = self._same_origin(path)
        shown = httpx.URL(url).path if "://" in url else url.split("?", 1)[0]
        backoff = Backoff(base=self._backoff[0], cap=self._backoff[1])
        attempt = 0
        while True:
            attempt += 1
            last = attempt > self.retries
            try:
                response = await client.request(
                    method, url, params=params, json=json, data=data, files=files, content=content, headers=headers
                )
            except httpx.HTTPError as error:
                safe = isinstance(error, NOT_SENT) or method in IDEMPOTENT
                if last or not safe:
                    raise error_for_exception(
                        error, service=self.service, method=method, path=shown, secrets=self._secrets
                    ) from None
                delay = backoff.next()
                log.info("%s: %s %s failed (%s), retry %d in %.1f s", self.service, method, shown,
                         type(error).__name__, attempt, delay)
                await self._sleep(delay)
                continue
            if response.is_success:
                return response
            if response.status_code in RETRY_STATUSES and not last:
                told = response.status_code in (429, 503) and self._told_to_wait(response)
                if response.status_code in (502, 504) and method not in IDEMPOTENT:
                    raise error_for_response(response, service=self.service, secrets=self._secrets)
                delay = retry_after(response) if told else backoff.next()
                if delay > self.max_wait:
                    raise RateLimited(
                        f"{self.service}: {method} {shown}: the server asks to wait {delay:.0f} s",
                        retry_after=delay,
                    )
                log.info("%s: %s %s answered %d, retry %d in %.1f s", self.service, method, shown,
                         response.status_code, attempt, delay)
                await self._sleep(delay)
                continue
            raise error_for_response(response, service=self.service, secrets=self._secrets)

    async def json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        files: Sequence[tuple[str, tuple[str, bytes, str]]] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The answer's JSON body (None for an empty one); `Unavailable` for a body that is not JSON.
        `data` and `files` make a multipart/form-data body (uploads) instead of `json`; `content` is a raw
        body (a file sent as it is, with its `headers` content-type: Zendesk's uploads)."""
        response = await self.request(
            method, path, params=params, json=json, data=data, files=files, content=content, headers=headers
        )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise Unavailable(
                f"{self.service}: {method} {response.request.url.path} answered something that is not JSON"
            ) from None

    async def get(self, path: str, **params: Any) -> Any:
        return await self.json("GET", path, params=params or None)

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.json("POST", path, json=body)

    async def put(self, path: str, body: Any = None) -> Any:
        return await self.json("PUT", path, json=body)

    async def patch(self, path: str, body: Any = None) -> Any:
        return await self.json("PATCH", path, json=body)

    async def download(self, url: str, *, max_bytes: int = 50_000_000, max_redirects: int = 5) -> bytes:
        """A file's bytes (an attachment): redirects are followed only on this service's own origin (a
        redirect elsewhere, e.g. to a storage bucket, would carry the token along: refused), and a body
        larger than `max_bytes` is refused rather than read into memory."""
        client = self._client
        if client is None:
            raise Unavailable(f"{self.service} is not connected")
        target = self._same_origin(url)
        for _ in range(max_redirects + 1):
            shown = httpx.URL(target).path if "://" in target else target.split("?", 1)[0]
            try:
                async with client.stream("GET", target) as response:
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        target = self._same_origin(str(response.url.join(location)))
                        continue
                    if not response.is_success:
                        await response.aread()
                        raise error_for_response(response, service=self.service, secrets=self._secrets)
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > max_bytes:
                            raise Invalid(f"{self.service}: {shown} is larger than {max_bytes // 1_000_000} MB")
                        chunks.append(chunk)
                    return b"".join(chunks)
            except httpx.HTTPError as error:
                raise error_for_exception(
                    error, service=self.service, method="GET", path=shown, secrets=self._secrets
                ) from None
        raise Unavailable(f"{self.service}: more than {max_redirects} redirects for a download")

    # ---------------------------------------------------------------------------------- helpers

    @staticmethod
    def _told_to_wait(response: httpx.Response) -> bool:
        return any(h in response.headers for h in ("retry-after", "ratelimit-reset", "x-ratelimit-reset"))

    def _same_origin(self, path: str) -> str:
        if "://" not in path:
            return path if path.startswith("/") else "/" + path
        base, url = httpx.URL(self.base_url), httpx.URL(path)
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            raise Unavailable(f"{self.service}: refused to follow a link to another host ({url.host})")
        return str(url)


__all__ = ["IDEMPOTENT", "RETRY_STATUSES", "HttpClient"]
