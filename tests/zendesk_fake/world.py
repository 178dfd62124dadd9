"""`World`: what the fake account holds, made by the tests (users, tickets, comments: customers writing in,
colleagues changing tickets), and its JSON as the reference shows it (ticketing/users/users/,
ticketing/tickets/tickets/, ticketing/tickets/ticket_comments/)."""

from __future__ import annotations

import time
from typing import Any

from .account import Account
from .reference import VIA, iso


class World(Account):
    def add_user(self, name: str, email: str, *, role: str = "end-user", locale: str = "en-US") -> int:
        user_id = next(self._user_ids)
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "email": email,
            "role": role,
            "locale": locale,
            "phone": None,
            "active": True,
            "verified": True,
            "time_zone": "UTC",
            "created_at": iso(0),
            "updated_at": iso(0),
            "user_fields": {},
        }
        return user_id

    def customer(self, key: str) -> int:
        if key not in self._customers:
            self._customers[key] = self.add_user(key.title(), f"{key}@customer.test", locale="fr-FR")
        return self._customers[key]

    def _now(self, ticket: dict[str, Any] | None = None) -> float:
        now = time.time()
        if ticket is not None:
            now = max(now, ticket["updated"] + 0.001)
        return now

    def _touch(self, ticket: dict[str, Any], at: float | None = None) -> None:
        ticket["updated"] = self._now(ticket) if at is None else at
        self._changes.append((ticket["updated"], ticket["id"]))

    def add_ticket(
        self,
        channel: str,
        subject: str,
        body: str,
        customer: str = "ann",
        *,
        status: str = "new",
        at: float | None = None,
        group: int = 1,
    ) -> int:
        requester = self.customer(customer)
        ticket_id = next(self._ticket_ids)
        now = time.time() if at is None else at
        self.tickets[ticket_id] = {
            "id": ticket_id,
            "subject": subject,
            "description": body,
            "status": status,
            "priority": None,
            "requester_id": requester,
            "submitter_id": requester,
            "assignee_id": None,
            "group_id": group,
            "tags": [],
            "via": VIA[channel],
            "created": now,
            "updated": now,
        }
        self._changes.append((now, ticket_id))
        self.comments[ticket_id] = []
        self._comment(self.tickets[ticket_id], requester, body, public=True, at=now)
        return ticket_id

    async def new_ticket(self, channel: str, subject: str, body: str, customer: str = "ann") -> int:
        return self.add_ticket(channel, subject, body, customer)

    async def customer_writes(self, ticket_id: int, body: str) -> None:
        ticket = self.tickets[ticket_id]
        self._comment(ticket, ticket["requester_id"], body, public=True)
        if ticket["status"] in ("pending", "solved", "hold"):
            ticket["status"] = "open"  # a requester's reply reopens the ticket
        self._touch(ticket)

    def colleague_updates(self, ticket_id: int, *, at: float | None = None, **change: Any) -> None:
        """An agent elsewhere changes the ticket (`at`: when, e.g. a later second than the last change)."""
        ticket = self.tickets[ticket_id]
        ticket.update(change)
        self._touch(ticket, at)

    def _comment(
        self,
        ticket: dict[str, Any],
        author: int,
        body: str,
        *,
        public: bool,
        at: float | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        comment = {
            "id": next(self._comment_ids),
            "type": "Comment",
            "author_id": author,
            "body": body,
            "html_body": f'<div class="zd-comment"><p>{body}</p></div>',
            "plain_body": body,
            "public": public,
            "attachments": list(attachments or []),
            "audit_id": next(self._audit_ids),
            "via": {
                "channel": "api" if self.users[author]["role"] != "end-user" else ticket["via"],
                "source": {"from": {}, "to": {}, "rel": None},
            },
            "created_at": iso(self._now() if at is None else at),
            "metadata": {"system": {}},
        }
        self.comments[ticket["id"]].append(comment)
        return comment

    def user_json(self, user_id: int) -> dict[str, Any]:
        return {**self.users[user_id], "url": f"{self.base_url}/api/v2/users/{user_id}.json"}

    def ticket_json(self, ticket: dict[str, Any]) -> dict[str, Any]:
        via = ticket["via"]
        source: dict[str, Any] = {"from": {}, "to": {}, "rel": None}
        if via == "email":
            source = {
                "from": {"address": self.users[ticket["requester_id"]]["email"]},
                "to": {"address": "support@example.zendesk.test"},
                "rel": None,
            }
        return {
            "id": ticket["id"],
            "url": f"{self.base_url}/api/v2/tickets/{ticket['id']}.json",
            "external_id": None,
            "via": {"channel": via, "source": source},
            "created_at": iso(ticket["created"]),
            "updated_at": iso(ticket["updated"]),
            "generated_timestamp": int(ticket["updated"]),
            "type": None,
            "subject": ticket["subject"],
            "raw_subject": ticket["subject"],
            "description": ticket["description"],
            "priority": ticket["priority"],
            "status": ticket["status"],
            "recipient": None,
            "requester_id": ticket["requester_id"],
            "submitter_id": ticket["submitter_id"],
            "assignee_id": ticket["assignee_id"],
            "organization_id": None,
            "group_id": ticket["group_id"],
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": None,
            "problem_id": None,
            "has_incidents": False,
            "is_public": True,
            "due_at": None,
            "tags": list(ticket["tags"]),
            "custom_fields": [],
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "fields": [],
            "followup_ids": [],
            "ticket_form_id": None,
            "brand_id": 1,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
        }


__all__ = ["World"]
