"""HTTP answers and transport failures as the contract's typed errors (backends/base.py), with no secret.

One table for every HTTP adapter: 401/403 → `AuthError`, 404 → `NotFound`, 409/422 → `Conflict`, 429 →
`RateLimited` with the server's wait, 5xx and network failures → `Unavailable`, a certificate that does not
verify → `TlsError`, any other 4xx → `Invalid`. A message names the service, the method and the path (never
the query, which some APIs use for tokens) and a short reason the server gave, scrubbed of every secret.
"""

from __future__ import annotations

import email.utils
import ssl
import time
from collections.abc import Iterable

import httpx

from ..base import AuthError, BackendError, Conflict, Invalid, NotFound, RateLimited, TlsError, Unavailable

# A reason longer than this is cut: a server may answer an error with a whole HTML page.
_REASON_CHARS = 200
# Below this a secret is not scrubbed: replacing every "a" in a message would only garble it.
_MIN_SECRET = 4


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (and the secret's longer parts, e.g. a Basic header's value) replaced."""
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def retry_after(response: httpx.Response, default: float = 1.0, *, now: float | None = None) -> float:
    """Seconds the server asks to wait: `Retry-After` (seconds or an HTTP date), else the IETF draft's
    `RateLimit-Reset` (seconds, sent by Zendesk) or `X-RateLimit-Reset` when it is small enough to be
    seconds, else `default`."""
    value = response.headers.get("retry-after", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value) if _looks_like_date(value) else None
            if when is not None:
                return max(0.0, when.timestamp() - (time.time() if now is None else now))
    for header in ("ratelimit-reset", "x-ratelimit-reset"):
        value = response.headers.get(header, "").strip()
        try:
            seconds = float(value)
        except ValueError:
            continue
        # Some servers send an epoch here instead of a delay: a "delay" of 50 years is not one.
        if 0 <= seconds < 86_400:
            return seconds
    return default


def _looks_like_date(value: str) -> bool:
    try:
        return email.utils.parsedate_to_datetime(value) is not None
    except (TypeError, ValueError):
        return False


def reason_of(response: httpx.Response) -> str:
    """The short reason an error answer gives: JSON `error`/`message`/`errors`/`description`, else text."""
    text = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("error", "message", "errors", "description", "details"):
            value = body.get(key)
            if value:
                text = value if isinstance(value, str) else "; ".join(map(str, _flatten(value)))
                break
        if isinstance(body.get("error"), str) and (body.get("description") or body.get("details")):
            # Zendesk: {"error": "RecordInvalid", "description": "Record validation errors", "details": {...}}
            more = [body.get("description"), *_flatten(body.get("details") or {})]
            text += ": " + "; ".join(str(m) for m in more if m)
    elif response.headers.get("content-type", "").startswith("text/plain"):
        text = response.text
    text = " ".join(text.split())
    return text[:_REASON_CHARS] + ("..." if len(text) > _REASON_CHARS else "")


def _flatten(value: object) -> list[object]:
    if isinstance(value, dict):
        return [item for v in value.values() for item in _flatten(v)]
    if isinstance(value, list):
        return [item for v in value for item in _flatten(v)]
    return [value]


def error_for_response(response: httpx.Response, *, service: str, secrets: Iterable[str] = ()) -> BackendError:
    """The typed error for an HTTP answer that is not a success."""
    request = response.request
    where = f"{service}: {request.method} {request.url.path}"
    reason = reason_of(response)
    detail = scrub(f"{where} answered {response.status_code}" + (f": {reason}" if reason else ""), secrets)
    status = response.status_code
    if status in (401, 403):
        hint = "" if status == 403 else " (check the token stored by `standardiste login`)"
        return AuthError(detail + hint)
    if status == 404:
        return NotFound(detail)
    if status in (409, 422):
        return Conflict(detail)
    if status == 429:
        return RateLimited(detail, retry_after=retry_after(response))
    if status >= 500:
        return Unavailable(detail)
    return Invalid(detail)


def error_for_exception(
    error: BaseException, *, service: str, method: str, path: str, secrets: Iterable[str] = ()
) -> BackendError:
    """The typed error for a request that got no answer: `Unavailable`, or `TlsError` for a certificate."""
    where = f"{service}: {method} {path}"
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError | ssl.SSLError):
            return TlsError(scrub(f"{where}: TLS failed: {cause}", secrets))
        cause = cause.__cause__ or cause.__context__
    kind = type(error).__name__
    text = str(error) or kind
    return Unavailable(scrub(f"{where}: no answer ({kind}: {text})", secrets))


__all__ = ["error_for_exception", "error_for_response", "reason_of", "retry_after", "scrub"]
