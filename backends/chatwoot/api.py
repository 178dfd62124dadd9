"""Chatwoot's application API (`/api/v1/accounts/{account}`, header `api_access_token`), one method per call.

Every call goes through the shared `HttpClient` (backends/http): timeouts, retries that obey 429/503
`Retry-After`, typed errors free of the token. Methods return Chatwoot's JSON as it comes; mapping.py reads it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from ..http import HttpClient, number_pages

# Chatwoot's conversation list answers 25 conversations a page (Conversations::ConversationFinder).
PAGE_SIZE = 25
# `GET .../messages?after=` answers at most this many (the document: "up to 100 messages").
AFTER_LIMIT = 100
COUNT_OF_ASSIGNEE = {"all": "all_count", "me": "mine_count", "unassigned": "unassigned_count",
                     "assigned": "assigned_count"}


class ChatwootApi:
    def __init__(self, http: HttpClient, account: int) -> None:
        self.http = http
        self.account = account
        self.base = f"/api/v1/accounts/{account}"

    # ---------------------------------------------------------------------------------- the agent

    async def profile(self) -> dict[str, Any]:
        return await self.http.get("/api/v1/profile")

    async def set_availability(self, availability: str) -> dict[str, Any]:
        body = {"profile": {"availability": availability, "account_id": self.account}}
        return await self.http.post("/api/v1/profile/availability", body)

    # ---------------------------------------------------------------------------------- the account

    async def inboxes(self) -> list[dict[str, Any]]:
        body = await self.http.get(f"{self.base}/inboxes")
        return list(body.get("payload") or []) if isinstance(body, dict) else list(body or [])

    async def teams(self) -> list[dict[str, Any]]:
        body = await self.http.get(f"{self.base}/teams")
        return list(body.get("payload") or []) if isinstance(body, dict) else list(body or [])

    async def assign_team(self, display_id: int, team_id: int) -> Any:
        return await self.http.post(f"{self.base}/conversations/{display_id}/assignments", {"team_id": team_id})

    async def agents(self) -> list[dict[str, Any]]:
        body = await self.http.get(f"{self.base}/agents")
        return list(body.get("payload") or []) if isinstance(body, dict) else list(body or [])

    # ---------------------------------------------------------------------------------- conversations

    async def conversation_pages(
        self, status: str, assignee: str = "all", *, concurrency: int = 4
    ) -> AsyncIterator[Sequence[dict[str, Any]]]:
        """Every conversation of one status, a page at a time (25 each), pages 2.. fetched concurrently
        once page 1 has told how many there are."""

        async def fetch(page: int) -> Any:
            return await self.http.get(
                f"{self.base}/conversations", status=status, assignee_type=assignee, page=page
            )

        def items(body: Any) -> Sequence[dict[str, Any]]:
            return list(((body or {}).get("data") or {}).get("payload") or [])

        count_key = COUNT_OF_ASSIGNEE.get(assignee, "all_count")

        def total(body: Any) -> int | None:
            meta = ((body or {}).get("data") or {}).get("meta") or {}
            value = meta.get(count_key)
            return int(value) if isinstance(value, int | float) else None

        async for page in number_pages(fetch, items, per_page=PAGE_SIZE, total=total, concurrency=concurrency):
            yield page

    async def csat_responses(self, since: int, until: int, *, max_pages: int = 400) -> list[dict[str, Any]]:
        """The CSAT survey responses created from `since` to before `until` (Unix seconds), as the server
        ordered them.

        Chatwoot's CsatSurveyResponsesController#index: `since` and `until` together make the range, pages
        of 25 (`page`). A server that does not page answers everything on every page: a page that brings
        no response not seen yet ends the reading too."""
        found: dict[int, dict[str, Any]] = {}
        for page in range(1, max_pages + 1):
            body = await self.http.get(f"{self.base}/csat_survey_responses", since=since, until=until, page=page)
            items = [r for r in body or () if isinstance(r, dict) and r.get("id") is not None]
            fresh = [r for r in items if int(r["id"]) not in found]
            found.update((int(r["id"]), r) for r in fresh)
            if not fresh or len(items) < PAGE_SIZE:
                break
        return list(found.values())

    async def contact_conversations(self, contact_id: int) -> list[dict[str, Any]]:
        body = await self.http.get(f"{self.base}/contacts/{contact_id}/conversations")
        return list((body or {}).get("payload") or []) if isinstance(body, dict) else list(body or [])

    async def conversation(self, display_id: int) -> dict[str, Any]:
        return await self.http.get(f"{self.base}/conversations/{display_id}")

    async def messages(self, display_id: int, *, before: int | None = None, after: int | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {}
        if before is not None:
            params["before"] = before
        if after is not None:
            params["after"] = after
        body = await self.http.get(f"{self.base}/conversations/{display_id}/messages", **params)
        return list((body or {}).get("payload") or [])

    async def all_messages(self, display_id: int) -> list[dict[str, Any]]:
        """The whole conversation, oldest first: the latest page, then pages `before` the oldest seen."""
        found = await self.messages(display_id)
        while found:
            older = await self.messages(display_id, before=int(min(m["id"] for m in found)))
            if not older:
                break
            found = older + found
        return sorted({m["id"]: m for m in found}.values(), key=lambda m: m["id"])

    async def messages_after(self, display_id: int, after: int) -> list[dict[str, Any]]:
        """Messages newer than `after`, oldest first, in as many calls as needed."""
        found: list[dict[str, Any]] = []
        while True:
            page = await self.messages(display_id, after=after)
            page = [m for m in page if int(m["id"]) > after]
            found.extend(page)
            if len(page) < AFTER_LIMIT:
                return sorted(found, key=lambda m: m["id"])
            after = max(int(m["id"]) for m in page)

    async def post_message(
        self, display_id: int, content: str, *, private: bool, files: Sequence[tuple[str, bytes, str]] = ()
    ) -> dict[str, Any]:
        path = f"{self.base}/conversations/{display_id}/messages"
        if files:
            # With files, Chatwoot's MessagesController takes multipart/form-data, files as `attachments[]`.
            form = {"content": content, "message_type": "outgoing", "private": "true" if private else "false"}
            parts = [("attachments[]", (name, data, kind)) for name, data, kind in files]
            return await self.http.json("POST", path, data=form, files=parts)
        body = {"content": content, "message_type": "outgoing", "private": private, "content_type": "text"}
        return await self.http.post(path, body)

    async def toggle_status(self, display_id: int, status: str, snoozed_until: float | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"status": status}
        if snoozed_until is not None:
            body["snoozed_until"] = int(snoozed_until)
        return await self.http.post(f"{self.base}/conversations/{display_id}/toggle_status", body)

    async def toggle_priority(self, display_id: int, priority: str) -> Any:
        return await self.http.post(f"{self.base}/conversations/{display_id}/toggle_priority", {"priority": priority})

    async def toggle_typing(self, display_id: int, typing: bool) -> Any:
        body = {"typing_status": "on" if typing else "off", "is_private": False}
        return await self.http.post(f"{self.base}/conversations/{display_id}/toggle_typing_status", body)

    async def assign(self, display_id: int, user_id: int | None) -> Any:
        # Chatwoot unassigns when the id names no user of the account; 0 never does (ids start at 1).
        return await self.http.post(
            f"{self.base}/conversations/{display_id}/assignments", {"assignee_id": user_id or 0}
        )

    async def labels(self, display_id: int) -> list[str]:
        body = await self.http.get(f"{self.base}/conversations/{display_id}/labels")
        return [str(label) for label in (body or {}).get("payload") or []]

    async def set_labels(self, display_id: int, labels: Sequence[str]) -> list[str]:
        """Chatwoot replaces the whole list with what is sent."""
        body = await self.http.post(f"{self.base}/conversations/{display_id}/labels", {"labels": list(labels)})
        return [str(label) for label in (body or {}).get("payload") or []]


def token_header(token: Callable[[], str]) -> Callable[[], dict[str, str]]:
    return lambda: {"api_access_token": token()}


__all__ = ["AFTER_LIMIT", "PAGE_SIZE", "ChatwootApi", "token_header"]
