"""The shared HTTP plumbing (backends/http/) over httpx.MockTransport: auth, retries that obey the server,
errors typed and free of the secret, and both pagination styles."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from standardiste.backends.base import AuthError, Conflict, Invalid, NotFound, RateLimited, Unavailable
from standardiste.backends.http import HttpClient, cursor_pages, number_pages, retry_after

TOKEN = "s3cr3t-token-value"
BASE = "https://desk.test"


def client_for(handler: Callable[[httpx.Request], httpx.Response], **options: object) -> tuple[HttpClient, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    client = HttpClient(
        BASE,
        service="desk",
        auth=lambda: {"api_access_token": TOKEN},
        transport=httpx.MockTransport(handler),
        sleep=sleep,
        **options,  # type: ignore[arg-type]
    )
    return client, slept


async def test_the_auth_header_goes_with_every_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    client, _ = client_for(handler)
    await client.open()
    assert await client.get("/api/v1/profile") == {"ok": True}
    await client.close()
    assert seen[0].headers["api_access_token"] == TOKEN
    assert seen[0].url == httpx.URL(f"{BASE}/api/v1/profile")


async def test_429_with_retry_after_is_waited_then_retried() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json=[1])])
    client, slept = client_for(lambda request: next(answers))
    await client.open()
    assert await client.post("/messages", {"content": "hi"}) == [1]
    assert slept == [3.0]


async def test_503_with_an_http_date_is_waited_for_that_long() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    answers = iter([httpx.Response(503, headers={"Retry-After": later}), httpx.Response(200, json={})])
    client, slept = client_for(lambda request: next(answers))
    await client.open()
    await client.get("/x")
    assert len(slept) == 1 and 3.0 < slept[0] <= 5.0


async def test_a_wait_longer_than_allowed_is_raised_as_rate_limited_with_the_wait() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(429, headers={"Retry-After": "120"}, json={"error": "slow down"})

    client, slept = client_for(handler, max_wait=30.0)
    await client.open()
    with pytest.raises(RateLimited) as caught:
        await client.get("/x")
    assert caught.value.retry_after == 120.0 and slept == [] and len(calls) == 1


async def test_retries_give_up_as_rate_limited_after_the_last_try() -> None:
    client, slept = client_for(lambda r: httpx.Response(429, headers={"Retry-After": "1"}), retries=2)
    await client.open()
    with pytest.raises(RateLimited) as caught:
        await client.get("/x")
    assert slept == [1.0, 1.0] and caught.value.retry_after == 1.0


async def test_zendesk_style_ratelimit_reset_is_honoured() -> None:
    response = httpx.Response(429, headers={"ratelimit-reset": "7"})
    assert retry_after(response) == 7.0
    # An epoch in X-RateLimit-Reset is not a delay of fifty years.
    assert retry_after(httpx.Response(429, headers={"x-ratelimit-reset": "1764650000"}), default=2.0) == 2.0


async def test_a_post_is_not_sent_again_after_it_may_have_reached_the_server() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    client, slept = client_for(handler)
    await client.open()
    with pytest.raises(Unavailable):
        await client.post("/messages", {"content": "hi"})
    assert len(calls) == 1 and slept == []


async def test_a_get_is_retried_with_backoff_on_network_errors_then_unavailable() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError(f"refused {TOKEN}", request=request)

    client, slept = client_for(handler, retries=3, backoff_base=0.5, backoff_cap=4.0)
    await client.open()
    with pytest.raises(Unavailable) as caught:
        await client.get("/x")
    assert len(calls) == 4 and len(slept) == 3
    # Backoff with jitter: each delay in [d/2, d] for d = 0.5, 1, 2.
    for delay, top in zip(slept, (0.5, 1.0, 2.0), strict=True):
        assert top / 2 <= delay <= top
    assert TOKEN not in str(caught.value)


async def test_a_refused_connection_is_retried_even_for_a_post() -> None:
    answers: list[httpx.Response | Exception] = [httpx.ConnectError("refused"), httpx.Response(200, json={})]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client, slept = client_for(handler)
    await client.open()
    assert await client.post("/messages", {}) == {}
    assert len(slept) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthError), (403, AuthError), (404, NotFound), (409, Conflict), (422, Conflict), (400, Invalid),
     (500, Unavailable)],
)
async def test_statuses_are_typed_errors_without_the_secret(status: int, error: type[Exception]) -> None:
    # A server that echoes the token back in its error must not get it into the message.
    client, _ = client_for(
        lambda r: httpx.Response(status, json={"error": f"bad token {TOKEN}"}), retries=0
    )
    await client.open()
    with pytest.raises(error) as caught:
        await client.get("/api/v1/accounts/1/conversations", q=TOKEN)
    text = str(caught.value)
    assert TOKEN not in text
    assert str(status) in text and "/api/v1/accounts/1/conversations" in text and "desk" in text


async def test_no_log_line_carries_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter([httpx.Response(503, headers={"Retry-After": "0"}), httpx.Response(401, json={})])
    client, _ = client_for(lambda r: next(answers))
    await client.open()
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthError):
        await client.get("/x")
    assert caplog.records and all(TOKEN not in r.getMessage() for r in caplog.records)


async def test_a_next_link_to_another_host_is_refused() -> None:
    client, _ = client_for(lambda r: httpx.Response(200, json={}))
    await client.open()
    with pytest.raises(Unavailable, match="another host"):
        await client.get("https://elsewhere.test/steal")


async def test_number_pages_with_a_total_fetches_every_page_in_order() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        items = list(range((page - 1) * 25, min(page * 25, 110)))
        return httpx.Response(200, json={"data": {"meta": {"all_count": 110}, "payload": items}})

    client, _ = client_for(handler)
    await client.open()
    got = [
        item
        async for page in number_pages(
            lambda n: client.get("/c", page=n),
            lambda body: body["data"]["payload"],
            per_page=25,
            total=lambda body: body["data"]["meta"]["all_count"],
        )
        for item in page
    ]
    assert got == list(range(110))


async def test_number_pages_without_a_total_stops_at_a_short_page() -> None:
    pages_asked = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        pages_asked.append(page)
        return httpx.Response(200, json=list(range(20)) if page < 3 else [1, 2])

    client, _ = client_for(handler)
    await client.open()
    got = [p async for p in number_pages(lambda n: client.get("/m", page=n), lambda b: b, per_page=20)]
    assert [len(p) for p in got] == [20, 20, 2] and pages_asked == [1, 2, 3]


async def test_cursor_pages_follow_links_next_while_has_more() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("page[after]", "")
        if not after:
            body = {"tickets": [1, 2], "meta": {"has_more": True, "after_cursor": "c1"},
                    "links": {"next": f"{BASE}/api/v2/tickets?page%5Bafter%5D=c1"}}
        else:
            body = {"tickets": [3], "meta": {"has_more": False}, "links": {"next": None}}
        return httpx.Response(200, content=json.dumps(body), headers={"content-type": "application/json"})

    client, _ = client_for(handler)
    await client.open()
    got = [p async for p in cursor_pages(client, "/api/v2/tickets", items="tickets", params={"page[size]": 2})]
    assert got == [[1, 2], [3]]


async def test_a_download_follows_redirects_on_its_own_origin_only() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/blob/1":
            return httpx.Response(302, headers={"location": "/disk/1"})
        if request.url.path == "/disk/1":
            return httpx.Response(200, content=b"file bytes")
        if request.url.path == "/blob/2":
            return httpx.Response(302, headers={"location": "https://bucket.elsewhere.test/f?sig=1"})
        return httpx.Response(404)

    client, _ = client_for(handler)
    await client.open()
    assert await client.download(f"{BASE}/blob/1") == b"file bytes"
    with pytest.raises(Unavailable, match="another host"):
        await client.download(f"{BASE}/blob/2")
    with pytest.raises(NotFound):
        await client.download("/missing")


async def test_a_download_larger_than_allowed_is_refused() -> None:
    client, _ = client_for(lambda r: httpx.Response(200, content=b"x" * 5000))
    await client.open()
    with pytest.raises(Invalid, match="larger"):
        await client.download("/big", max_bytes=1000)
