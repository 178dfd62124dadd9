"""Pagination helpers for the two styles help-desk APIs use.

- Page numbers (`?page=1,2,...`, Chatwoot): `number_pages` fetches page 1, learns the total when the answer
  tells it, then fetches the remaining pages `concurrency` at a time, yielding them in order; without a
  total it walks until a short or empty page.
- Cursors (`meta.has_more` with `links.next`, or `meta.after_cursor`; Zendesk): `cursor_pages` follows the
  server's next link (on the same origin only, see HttpClient) until `has_more` is false.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from .client import HttpClient

Page = Sequence[Any]


async def number_pages(
    fetch: Callable[[int], Awaitable[Any]],
    items: Callable[[Any], Page],
    *,
    per_page: int,
    total: Callable[[Any], int | None] = lambda body: None,
    concurrency: int = 4,
    max_pages: int = 10_000,
) -> AsyncIterator[Page]:
    """Every page's items, in page order. `fetch(n)` gets page n's body; `items` takes its list out;
    `total` reads the count of items when the answer has one (then pages are fetched concurrently)."""
    first = await fetch(1)
    page = items(first)
    yield page
    count = total(first)
    if count is not None:
        last = min(max_pages, math.ceil(count / per_page)) if per_page else 1
        limit = asyncio.Semaphore(max(1, concurrency))

        async def one(n: int) -> Any:
            async with limit:
                return await fetch(n)

        # In windows, so that 400 pages are not 400 tasks holding 400 answers at once.
        window = max(1, concurrency) * 2
        for start in range(2, last + 1, window):
            numbers = range(start, min(last, start + window - 1) + 1)
            for body in await asyncio.gather(*(one(n) for n in numbers)):
                got = items(body)
                if got:
                    yield got
        return
    number = 1
    while len(page) >= per_page and number < max_pages:
        number += 1
        page = items(await fetch(number))
        if page:
            yield page


async def cursor_pages(
    client: HttpClient,
    path: str,
    *,
    items: str,
    params: Mapping[str, Any] | None = None,
    max_pages: int = 10_000,
) -> AsyncIterator[Page]:
    """Every page of a cursor-paginated list: `body[items]`, following `links.next` while `meta.has_more`
    (or `meta.after_cursor` as `page[after]` when there is no next link)."""
    query: Mapping[str, Any] | None = params
    url = path
    for _ in range(max_pages):
        body = await client.get(url, **(query or {}))
        yield list(body.get(items) or ())
        meta = body.get("meta") or {}
        if not meta.get("has_more"):
            return
        following = (body.get("links") or {}).get("next")
        if following:
            url, query = following, None  # the link carries the query, cursor included
        elif meta.get("after_cursor"):
            query = {**(params or {}), "page[after]": meta["after_cursor"]}
        else:
            return


__all__ = ["cursor_pages", "number_pages"]
