"""Chatwoot's own OpenAPI document (tests/adapters/chatwoot_spec/, trimmed, MIT: see its LICENSE.md), loaded
for openapi-core, which the fake server (chatwoot_fake.py) checks every request and every answer against.

Two changes are made when loading, each for a stated reason (LICENSE.md lists them too):
- `servers` becomes relative (`/`), so that paths match on the fake's 127.0.0.1 port;
- `conversation.status` also takes `snoozed`, which the document's own toggle_status takes and returns.
The supplement (a path the document lacks, the multipart form of a reply with files) is merged in.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

SPEC_DIR = Path(__file__).parent / "adapters" / "chatwoot_spec"


@cache
def _documents() -> tuple[dict[str, Any], dict[str, Any]]:
    spec = json.loads((SPEC_DIR / "swagger.json").read_text(encoding="utf-8"))
    supplement = json.loads((SPEC_DIR / "supplement.json").read_text(encoding="utf-8"))
    return spec, supplement


def load_spec() -> dict[str, Any]:
    spec, supplement = _documents()
    spec = copy.deepcopy(spec)
    # Relative: paths match on whatever host and port the fake listens on.
    spec["servers"] = [{"url": "/"}]
    spec["paths"].update(copy.deepcopy(supplement["paths"]))
    for media in supplement.get("request_media", []):
        operation = spec["paths"][media["path"]][media["method"]]
        operation["requestBody"]["content"].update(copy.deepcopy(media["content"]))
    status = spec["components"]["schemas"]["conversation"]["properties"]["status"]
    if "snoozed" not in status["enum"]:
        status["enum"] = [*status["enum"], "snoozed"]
    return spec


@cache
def _openapi() -> OpenAPI:
    """Built once per test process: checking the document itself takes seconds."""
    return OpenAPI.from_dict(load_spec())


@dataclass
class Violation:
    what: str  # "request" or "response"
    method: str
    path: str
    error: str


class SpecChecker:
    """Validates requests and answers against the document; what fails is kept, for the tests to assert on."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.openapi = _openapi()
        self.violations: list[Violation] = []
        self.checked = 0

    def _request(self, method: str, path: str, query: dict[str, Any], headers: dict[str, str], body: bytes) -> MockRequest:
        content_type = headers.get("content-type", "application/json")
        if not content_type.startswith("multipart/"):  # a multipart body needs its boundary parameter
            content_type = content_type.split(";")[0]
        return MockRequest(
            self.base_url, method.lower(), path, args=query, headers=headers, data=body or None,
            content_type=content_type,
        )

    def request(self, method: str, path: str, query: dict[str, Any], headers: dict[str, str], body: bytes) -> str | None:
        """None when the request is one the document allows, else why not (also kept in `violations`)."""
        self.checked += 1
        try:
            self.openapi.validate_request(self._request(method, path, query, headers, body))
        except Exception as error:  # openapi-core raises one of many error types; each is a violation
            text = f"{type(error).__name__}: {error}; {getattr(error, '__cause__', '')}"
            self.violations.append(Violation("request", method, path, text))
            return text
        return None

    def response(
        self, method: str, path: str, query: dict[str, Any], headers: dict[str, str], body: bytes,
        status: int, answer: bytes,
    ) -> None:
        self.checked += 1
        request = self._request(method, path, query, headers, body)
        try:
            self.openapi.validate_response(request, MockResponse(answer, status_code=status))
        except Exception as error:
            cause = error.__cause__
            details = getattr(cause, "schema_errors", None) or cause
            self.violations.append(Violation("response", method, path, f"{type(error).__name__}: {error}; {details}"))


__all__ = ["SpecChecker", "Violation", "load_spec"]
