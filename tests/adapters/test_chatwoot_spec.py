"""The fake Chatwoot's checker (tests/chatwoot_fake_spec.py) bites: a request or an answer outside Chatwoot's
OpenAPI document is a violation, so the empty `violations` the other tests assert means something."""

from __future__ import annotations

import json

from chatwoot_fake import FakeChatwoot
from chatwoot_fake_spec import SpecChecker

TOKEN = {"api_access_token": "x", "content-type": "application/json"}


def test_requests_outside_the_document_are_violations() -> None:
    checker = SpecChecker("http://127.0.0.1:1")
    assert checker.request("GET", "/api/v1/profile", {}, TOKEN, b"") is None
    assert checker.request("GET", "/api/v1/accounts/1/conversations", {"status": "open", "page": "2"}, TOKEN, b"") is None
    assert checker.request("GET", "/api/v1/accounts/1/conversations", {"status": "closed"}, TOKEN, b"")
    assert checker.request("POST", "/api/v1/accounts/1/conversations/3/toggle_status", {}, TOKEN,
                           b'{"status": "bogus"}')
    assert checker.request("POST", "/api/v1/accounts/1/conversations/3/messages", {}, TOKEN, b'{"private": true}')
    assert checker.request("GET", "/api/v1/profile", {}, {}, b"")  # no api_access_token: the security scheme
    assert checker.request("GET", "/api/v1/accounts/1/nothing", {}, TOKEN, b"")
    assert len(checker.violations) == 5


def test_answers_outside_the_document_are_violations() -> None:
    fake = FakeChatwoot(check_spec=False)
    display = fake.add_conversation("email", "Subject", "body", broadcast=False)
    good = fake.conversation_json(fake.conversations[display])
    checker = SpecChecker("http://127.0.0.1:1")
    path = f"/api/v1/accounts/1/conversations/{display}"
    checker.response("GET", path, {}, TOKEN, b"", 200, json.dumps(good).encode())
    assert checker.violations == []
    checker.response("GET", path, {}, TOKEN, b"", 200, json.dumps({**good, "status": "closed"}).encode())
    checker.response("GET", path, {}, TOKEN, b"", 200, json.dumps({**good, "labels": "vip"}).encode())
    assert [v.what for v in checker.violations] == ["response", "response"]


def test_a_reply_with_files_is_checked_as_the_multipart_form_chatwoot_takes() -> None:
    import httpx

    checker = SpecChecker("http://127.0.0.1:1")
    path = "/api/v1/accounts/1/conversations/1/messages"

    def form(fields: dict[str, str]) -> tuple[dict[str, str], bytes]:
        request = httpx.Request("POST", "http://x/", data=fields,
                                files=[("attachments[]", ("a.pdf", b"%PDF", "application/pdf"))])
        return {"api_access_token": "x", "content-type": request.headers["content-type"]}, request.read()

    headers, body = form({"content": "Here", "message_type": "outgoing", "private": "false"})
    assert checker.request("POST", path, {}, headers, body) is None
    headers, body = form({"content": "Here", "private": "yes"})
    assert checker.request("POST", path, {}, headers, body)
