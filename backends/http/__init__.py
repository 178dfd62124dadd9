"""Shared HTTP plumbing for the help-desk adapters (Chatwoot, Zendesk): one client per backend with its auth,
timeouts and retries that honour `Retry-After`, pagination helpers, and HTTP errors as typed errors."""

from .client import IDEMPOTENT, RETRY_STATUSES, HttpClient
from .errors import error_for_exception, error_for_response, retry_after, scrub
from .paging import cursor_pages, number_pages

__all__ = [
    "IDEMPOTENT",
    "RETRY_STATUSES",
    "HttpClient",
    "cursor_pages",
    "error_for_exception",
    "error_for_response",
    "number_pages",
    "retry_after",
    "scrub",
]
