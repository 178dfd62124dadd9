"""Tickets: ticketing/tickets/tickets/ (Show Ticket, Update Ticket with safe updates), ticket_comments/
(List Comments) and ticket-attachments/ (Upload Files)."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import quote

from .reference import CONFLICT, NOT_FOUND, PRIORITIES, STATUSES, Refused, iso
from .world import World


class Tickets(World):
    def _ticket(self, ticket_id: str) -> dict[str, Any] | None:
        return self.tickets.get(int(ticket_id))

    def _show_ticket(self, ticket_id: str, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        self._params(query, {"include"})
        ticket = self._ticket(ticket_id)
        if ticket is None:
            return 404, NOT_FOUND, {}
        return 200, {"ticket": self.ticket_json(ticket)}, {}

    TICKET_FIELDS = frozenset(
        {
            "comment",
            "status",
            "priority",
            "assignee_id",
            "group_id",
            "tags",
            "additional_tags",
            "remove_tags",
            "safe_update",
            "updated_stamp",
            "subject",
            "type",
        }
    )

    def _update_ticket(
        self, ticket_id: str, *, query: Any, body: Any, user: int, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """Update Ticket, with Protecting against ticket update collisions (safe_update) and tags by name."""
        self._params(query, {"async"})
        change = body.get("ticket")
        if set(body) != {"ticket"} or not isinstance(change, dict) or not change:
            raise Refused('the body must be {"ticket": {...}} with at least one property')
        unknown = set(change) - self.TICKET_FIELDS
        if unknown:
            raise Refused(f"unknown ticket properties: {', '.join(sorted(unknown))}")
        if "safe_update" in change and (
            change["safe_update"] is not True or not isinstance(change.get("updated_stamp"), str)
        ):
            raise Refused("safe_update must be true and come with updated_stamp (the ticket's updated_at)")
        comment = change.get("comment")
        if comment is not None:
            if not isinstance(comment, dict) or not isinstance(
                comment.get("body", comment.get("html_body")), str
            ):
                raise Refused("comment must be an object with a body")
            if set(comment) - {"body", "html_body", "public", "uploads", "author_id"}:
                raise Refused(
                    f"unknown comment properties: {sorted(set(comment) - {'body', 'html_body', 'public', 'uploads', 'author_id'})}"
                )
            if "public" in comment and not isinstance(comment["public"], bool):
                raise Refused("comment.public must be a boolean")
            uploads = comment.get("uploads", [])
            if not isinstance(uploads, list) or not all(isinstance(u, str) for u in uploads):
                raise Refused("comment.uploads must be a list of upload tokens")
        for key in ("additional_tags", "remove_tags", "tags"):
            if key in change and (
                not isinstance(change[key], list) or not all(isinstance(t, str) for t in change[key])
            ):
                raise Refused(f"{key} must be a list of strings")
        ticket = self._ticket(ticket_id)
        if ticket is None:
            return 404, NOT_FOUND, {}
        if change.get("safe_update") and change["updated_stamp"] != iso(ticket["updated"]):
            return 409, CONFLICT, {}
        details: dict[str, list[dict[str, str]]] = {}
        status = change.get("status")
        if status is not None and status not in STATUSES:
            details["status"] = [{"description": f"Status: {status} is not a valid status"}]
        elif status == "new" and ticket["status"] != "new":
            details["status"] = [{"description": "Status: new is not valid for a ticket that is not new"}]
        if "priority" in change and change["priority"] not in (*PRIORITIES, None):
            details["priority"] = [{"description": f"Priority: {change['priority']} is not valid"}]
        if change.get("assignee_id") is not None and (
            not isinstance(change["assignee_id"], int)
            or self.users.get(change["assignee_id"], {}).get("role") not in ("agent", "admin")
        ):
            details["assignee"] = [{"description": "Assignee: is not an agent"}]
        if "group_id" in change and change["group_id"] not in self.groups:
            details["group"] = [{"description": "Group: is invalid"}]
        uploads: list[dict[str, Any]] = []
        for token in (comment or {}).get("uploads", []):
            if token not in self._uploads:
                details["uploads"] = [{"description": f"Upload token {token} is invalid or expired"}]
            else:
                uploads.extend(self._uploads[token])
        if details:
            return (
                422,
                {"error": "RecordInvalid", "description": "Record validation errors", "details": details},
                {},
            )
        events: list[dict[str, Any]] = []
        for key in ("status", "priority", "assignee_id", "group_id", "subject"):
            if key in change and change[key] != ticket[key]:
                events.append(
                    {
                        "id": next(self._audit_ids),
                        "type": "Change",
                        "field_name": key.removesuffix("_id"),
                        "value": change[key],
                        "previous_value": ticket[key],
                    }
                )
                ticket[key] = change[key]
        if "tags" in change:
            ticket["tags"] = list(dict.fromkeys(change["tags"]))
        ticket["tags"] = [t for t in ticket["tags"] if t not in change.get("remove_tags", [])]
        ticket["tags"] += [t for t in change.get("additional_tags", []) if t not in ticket["tags"]]
        if comment is not None:
            public = comment.get("public", True)
            made = self._comment(
                ticket,
                user,
                comment.get("body") or comment.get("html_body", ""),
                public=public,
                attachments=uploads,
            )
            events.insert(
                0,
                {
                    k: made[k]
                    for k in (
                        "id",
                        "type",
                        "author_id",
                        "body",
                        "html_body",
                        "plain_body",
                        "public",
                        "attachments",
                        "audit_id",
                    )
                },
            )
            if ticket["status"] == "new":
                ticket["status"] = "open"
        self._touch(ticket)
        audit = {
            "id": next(self._audit_ids),
            "ticket_id": ticket["id"],
            "created_at": iso(ticket["updated"]),
            "author_id": user,
            "metadata": {"system": {}},
            "via": {"channel": "api"},
            "events": events,
        }
        return 200, {"ticket": self.ticket_json(ticket), "audit": audit}, {}

    def _list_comments(self, ticket_id: str, *, query: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        """List Comments (ticketing/tickets/ticket_comments/), oldest first by default, cursor pages."""
        self._params(query, {"page[size]", "page[after]", "sort_order", "include", "include_inline_images"})
        ticket = self._ticket(ticket_id)
        if ticket is None:
            return 404, NOT_FOUND, {}
        return (
            200,
            self._cursor_page(
                f"/api/v2/tickets/{ticket_id}/comments.json",
                query,
                list(self.comments[ticket["id"]]),
                "comments",
            ),
            {},
        )

    def _upload(
        self, *, query: Any, body: Any, headers: dict[str, str], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """Upload Files (ticketing/tickets/ticket-attachments/): `filename` required, the file as the raw body
        with a recognised Content-Type; `token` adds it to an earlier upload."""
        params = self._params(query, {"filename", "token"}, {"filename"})
        kind = headers.get("content-type", "")
        if not kind or kind.startswith(
            ("application/json", "multipart/form-data", "application/x-www-form-urlencoded")
        ):
            raise Refused(f"an upload is the file itself with its own Content-Type, got {kind!r}")
        token = params.get("token") or secrets.token_hex(12)
        if "token" in params and token not in self._uploads:
            return (
                422,
                {
                    "error": "RecordInvalid",
                    "description": "Record validation errors",
                    "details": {"token": [{"description": "is invalid"}]},
                },
                {},
            )
        number = next(self._audit_ids)
        location = f"/attachments/token/{secrets.token_hex(6)}/?name={quote(params['filename'])}"
        self.files[location.split("?")[0]] = (params["filename"], kind, bytes(body))
        attachment = {
            "id": number,
            "file_name": params["filename"],
            "content_url": f"{self.base_url}{location}",
            "content_type": kind,
            "size": len(body),
            "inline": False,
            "deleted": False,
            "mapped_content_url": f"{self.base_url}{location}",
            "url": f"{self.base_url}/api/v2/attachments/{number}.json",
            "thumbnails": [],
        }
        self._uploads.setdefault(token, []).append(attachment)
        return (
            201,
            {
                "upload": {
                    "token": token,
                    "expires_at": iso(time.time() + 3600),
                    "attachment": attachment,
                    "attachments": list(self._uploads[token]),
                }
            },
            {},
        )


__all__ = ["Tickets"]
