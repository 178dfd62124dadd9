"""What each console command is on Zendesk (docs/zendesk.md has the table), and keys applied once.

A mixin of `ZendeskBackend` (adapter.py): the adapter connects, reads and follows; this carries out. Every
change is one Update Ticket (`PUT /api/v2/tickets/{id}.json`); a change of fields is a *safe update*
(`safe_update` with the `updated_stamp` the console last saw), so that Zendesk's 409 tells this agent that
someone else changed the ticket meanwhile (a `Conflict`, shown by the console) instead of overwriting it.
Comments (replies, notes) are added without it: a comment never undoes a colleague's change. The keys, the
files of a reply and the lookup of an agent are the help desks' shared `KeyedCommands` (backends/http/keyed.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ...console.core.model import Attachment
from ..base import (
    AgentUpdated,
    Assign,
    BackendError,
    Claim,
    Command,
    CommandResult,
    Conflict,
    Event,
    Invalid,
    Note,
    Release,
    Reply,
    SetPresence,
    SetPriority,
    SetStatus,
    Tags,
    Transfer,
)
from ..http.keyed import KeyedCommands
from .mapping import AGENT_STATE_OUT, PRIORITY_OUT, agent_of, login_of, status_for, timestamp

if TYPE_CHECKING:
    from ...console.core.model import Conversation, Message
    from .api import ZendeskApi


class Commands(KeyedCommands):
    """`perform` for the Zendesk adapter (Zendesk takes no idempotency key on updates: hence the keys)."""

    message_mark = "c"
    message_word = "comment"

    name: str
    _groups: dict[int, dict[str, Any]]
    _stamps: dict[int, str]
    _me: dict[str, Any]
    _agent_state: str | None
    _talk: bool

    if TYPE_CHECKING:

        @property
        def api(self) -> ZendeskApi: ...
        def announce(self, events: list[Event]) -> None: ...
        def track(self, raw: Mapping[str, Any]) -> list[Event]: ...
        def comment_events(self, ticket_id: int, comments: Sequence[Mapping[str, Any]]) -> list[Event]: ...
        def _conversation(self, raw: Mapping[str, Any]) -> Conversation: ...
        def _message(self, ticket_id: int, raw: Mapping[str, Any]) -> Message: ...

    async def _sent_before(self, ticket_id: int, body: str, since: float) -> int | None:
        for raw in reversed(await self.api.comments(ticket_id)):
            mine = int(raw.get("author_id") or 0) == self.my_user_id
            said = str(raw.get("plain_body") or raw.get("body") or "").strip() == body.strip()
            if mine and said and (timestamp(raw.get("created_at")) or 0) >= since - 60:
                return int(raw["id"])
        return None

    async def _stamp(self, ticket_id: int) -> tuple[str, dict[str, Any] | None]:
        """The updated_at a field change is decided on: the one the console was last told, else read now."""
        known = self._stamps.get(ticket_id)
        if known:
            return known, None
        raw = await self.api.ticket(ticket_id)
        self.announce(self.track(raw))
        return str(raw.get("updated_at") or ""), raw

    async def _update(
        self, ticket_id: int, change: dict[str, Any], *, safe: bool = True, stamp: str | None = None
    ) -> tuple[dict[str, Any], Message | None]:
        """One Update Ticket; its answer (the ticket and the audit's comment) is announced at once."""
        if safe and stamp is None:
            stamp, _ = await self._stamp(ticket_id)
        try:
            answer = await self.api.update(ticket_id, change, stamp=stamp if safe else None)
        except Conflict:
            # Show what the colleague did: the ticket as it is now, then the conflict.
            with contextlib.suppress(BackendError):  # the conflict is what matters, not a failed refresh
                self.announce(self.track(await self.api.ticket(ticket_id)))
            raise
        ticket = dict(answer.get("ticket") or {})
        audit = answer.get("audit") or {}
        comments = [
            {
                **event,
                "created_at": event.get("created_at") or audit.get("created_at"),
                "author_id": event.get("author_id") or audit.get("author_id"),
            }
            for event in audit.get("events") or ()
            if isinstance(event, dict) and event.get("type") == "Comment"
        ]
        events = self.comment_events(ticket_id, comments) + self.track(ticket)
        self.announce(events)
        message = self._message(ticket_id, comments[-1]) if comments else None
        return ticket, message

    async def _do(self, ticket_id: int, command: Command) -> CommandResult:
        match command:
            case Reply() | Note():
                public = isinstance(command, Reply)
                comment: dict[str, Any] = {"body": command.body, "public": public}
                if isinstance(command, Reply) and command.attachments:
                    comment["uploads"] = await self._uploads(command.attachments)
                _, message = await self._update(ticket_id, {"comment": comment}, safe=False)
                what = "reply" if public else "note"
                return CommandResult(
                    message=message, detail=f"{what} {message.id if message else ''}".strip()
                )
            case Claim():
                raw = await self.api.ticket(ticket_id)
                owner = self._login(raw.get("assignee_id"))
                if owner is not None and owner != self.me and not command.force:
                    self.announce(self.track(raw))
                    raise Conflict(f"{self.service}: ticket {ticket_id} is {owner}'s", owner=owner)
                if owner != self.me:
                    await self._update(
                        ticket_id, {"assignee_id": self.my_user_id}, stamp=str(raw.get("updated_at"))
                    )
                return CommandResult(detail=f"assigned to {self.me}")
            case Release():
                raw = await self.api.ticket(ticket_id)
                owner = self._login(raw.get("assignee_id"))
                if owner is not None and owner != self.me:
                    self.announce(self.track(raw))
                    raise Conflict(
                        f"{self.service}: ticket {ticket_id} is {owner}'s, not yours to release", owner=owner
                    )
                await self._update(ticket_id, {"assignee_id": None}, stamp=str(raw.get("updated_at")))
                return CommandResult(detail="unassigned")
            case Assign():
                stamp, _ = await self._stamp(ticket_id)
                user_id = await self._user_id(command.assignee) if command.assignee else None
                await self._update(ticket_id, {"assignee_id": user_id}, stamp=stamp)
                return CommandResult(detail=f"assigned to {command.assignee or 'nobody'}")
            case Transfer():
                stamp, _ = await self._stamp(ticket_id)
                if command.to_agent:
                    await self._update(
                        ticket_id, {"assignee_id": await self._user_id(command.to_agent)}, stamp=stamp
                    )
                    return CommandResult(detail=f"transferred to {command.to_agent}")
                if command.to_queue:
                    await self._update(ticket_id, {"group_id": self._group_id(command.to_queue)}, stamp=stamp)
                    return CommandResult(detail=f"transferred to group {command.to_queue}")
                raise Invalid(f"{self.service}: a transfer needs an agent or a group")
            case SetStatus():
                status = status_for(command.state)
                if status is None:
                    raise Invalid(f"{self.service}: Zendesk has no status for {command.state.value}")
                await self._update(ticket_id, {"status": status})
                return CommandResult(detail=f"status {status}")
            case SetPriority():
                await self._update(ticket_id, {"priority": PRIORITY_OUT[command.priority]})
                return CommandResult(detail=f"priority {PRIORITY_OUT[command.priority]}")
            case Tags():
                change: dict[str, Any] = {}
                if command.add:
                    change["additional_tags"] = list(command.add)
                if command.remove:
                    change["remove_tags"] = list(command.remove)
                if change:
                    # Tags are added and removed by name (not the whole list): no collision to guard against.
                    await self._stamp(ticket_id)
                    ticket, _ = await self._update(ticket_id, change, safe=False)
                    return CommandResult(detail=f"tags {', '.join(ticket.get('tags') or ()) or 'none'}")
                return CommandResult(detail="tags unchanged")
        raise Invalid(f"{self.service}: {command.kind.value} is not carried out here")

    def _login(self, user_id: Any) -> str | None:
        if not user_id:
            return None
        return login_of(self._agents.get(int(user_id))) or f"user-{user_id}"

    async def _uploads(self, attachments: Sequence[Attachment]) -> list[str]:
        """Each file uploaded (Upload Files: one request a file, joined by the first one's token); the
        comment names that token. A file on this machine (an absolute path) or one already on Zendesk."""
        token: str | None = None
        async for attachment, data in self._file_bytes(attachments):
            token = await self.api.upload(attachment.filename, data, attachment.content_type, token)
        return [token] if token else []

    async def _presence_to(self, command: SetPresence) -> CommandResult:
        if not self._talk:
            raise Invalid(f"{self.service}: this account has no Talk: there is no phone presence to set")
        state = AGENT_STATE_OUT[command.presence]
        answer = await self.api.set_availability(self.my_user_id, state)
        self._agent_state = str(answer.get("agent_state") or state)
        self.announce([AgentUpdated(agent_of(self._me, agent_state=self._agent_state))])
        return CommandResult(detail=f"talk availability {self._agent_state}")

    def _group_id(self, name: str) -> int:
        wanted = name.strip().lower()
        for group_id, group in self._groups.items():
            if wanted in (str(group.get("name") or "").strip().lower(), str(group_id)):
                return group_id
        raise Invalid(f"{self.service}: no group {name!r}")

    async def _all_agents(self) -> list[dict[str, Any]]:
        return list(await self.api.agents())

    def _agent_names(self, user_id: int, raw: dict[str, Any]) -> set[str]:
        """A Zendesk agent is named by a login (email), a user id, or a name."""
        return {login_of(raw) or "", str(user_id), str(raw.get("name") or "").strip().lower()}


__all__ = ["Commands"]
