"""What each console command is on Chatwoot (docs/chatwoot.md has the table), and keys applied once.

A mixin of `ChatwootBackend` (adapter.py), kept apart so that each file does one thing: the adapter connects,
reads and follows; this carries out. The keys, the files of a reply and the lookup of an agent are the
help desks' shared `KeyedCommands` (backends/http/keyed.py); this says what each command is on Chatwoot.
It uses the adapter's `api`, `_agents`, `me`, `my_user_id`, `service` and `config`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...console.core.model import Attachment
from ..base import (
    Accept,
    Assign,
    Claim,
    Command,
    CommandResult,
    Conflict,
    EndChat,
    Invalid,
    Note,
    Release,
    Reply,
    SetPresence,
    SetPriority,
    SetStatus,
    Snooze,
    Tags,
    Transfer,
    Typing,
)
from ..http.keyed import KeyedCommands
from .mapping import AVAILABILITY_OUT, PRIORITY_OUT, agent_id_of, message_of, status_for

if TYPE_CHECKING:
    from .api import ChatwootApi
    from .settings import ChatwootSettings


class Commands(KeyedCommands):
    """`perform` for the Chatwoot adapter."""

    message_mark = "m"
    message_word = "message"

    name: str
    config: ChatwootSettings

    if TYPE_CHECKING:

        @property
        def api(self) -> ChatwootApi: ...

    async def _sent_before(self, display: int, body: str, since: float) -> int | None:
        for raw in reversed(await self.api.all_messages(display)):
            sender = raw.get("sender") or {}
            mine = agent_id_of(sender) == self.me or int(raw.get("sender_id") or 0) == self.my_user_id
            if mine and raw.get("content") == body and float(raw.get("created_at") or 0) >= since - 60:
                return int(raw["id"])
        return None

    async def _do(self, display: int, command: Command) -> CommandResult:
        api = self.api
        match command:
            case Reply():
                files = await self._files(command.attachments)
                raw = await api.post_message(display, command.body, private=False, files=files)
                return CommandResult(message=message_of(self.name, display, raw), detail=f"message {raw.get('id')}")
            case Note():
                raw = await api.post_message(display, command.body, private=True)
                return CommandResult(message=message_of(self.name, display, raw), detail=f"note {raw.get('id')}")
            case Claim() | Accept():
                raw = await api.conversation(display)
                owner = agent_id_of((raw.get("meta") or {}).get("assignee"))
                force = isinstance(command, Claim) and command.force
                if owner is not None and owner != self.me and not force:
                    raise Conflict(f"{self.service}: conversation {display} is {owner}'s", owner=owner)
                if owner != self.me:
                    await api.assign(display, self.my_user_id)
                if isinstance(command, Accept) and raw.get("status") != "open":
                    await api.toggle_status(display, "open")
                return CommandResult(detail=f"assigned to {self.me}")
            case Assign():
                user_id = await self._user_id(command.assignee) if command.assignee else None
                await api.assign(display, user_id)
                return CommandResult(detail=f"assigned to {command.assignee or 'nobody'}")
            case Release():
                raw = await api.conversation(display)
                owner = agent_id_of((raw.get("meta") or {}).get("assignee"))
                if owner is not None and owner != self.me:
                    raise Conflict(f"{self.service}: conversation {display} is {owner}'s, not yours to release", owner=owner)
                await api.assign(display, None)
                return CommandResult(detail="unassigned")
            case SetStatus():
                status = status_for(command.state)
                if status is None:
                    raise Invalid(f"{self.service}: Chatwoot has no status for {command.state.value}")
                await api.toggle_status(display, status)
                return CommandResult(detail=f"status {status}")
            case EndChat():
                await api.toggle_status(display, "resolved")
                return CommandResult(detail="resolved")
            case Snooze():
                if command.until is None:
                    await api.toggle_status(display, "open")
                    return CommandResult(detail="woken")
                await api.toggle_status(display, "snoozed", command.until)
                return CommandResult(detail=f"snoozed until {int(command.until)}")
            case SetPriority():
                await api.toggle_priority(display, PRIORITY_OUT[command.priority])
                return CommandResult(detail=f"priority {PRIORITY_OUT[command.priority]}")
            case Transfer():
                if command.to_agent:
                    await api.assign(display, await self._user_id(command.to_agent))
                    return CommandResult(detail=f"transferred to {command.to_agent}")
                if command.to_queue:
                    await api.assign_team(display, await self._team_id(command.to_queue))
                    return CommandResult(detail=f"transferred to team {command.to_queue}")
                raise Invalid(f"{self.service}: a transfer needs an agent or a team")
            case Typing():
                await api.toggle_typing(display, command.typing)
                return CommandResult(detail="typing" if command.typing else "stopped typing")
            case Tags():
                current = await api.labels(display)
                labels = [label for label in current if label not in command.remove]
                labels += [label for label in command.add if label not in labels]
                if labels != current:
                    await api.set_labels(display, labels)
                return CommandResult(detail=f"labels {', '.join(labels) or 'none'}")
        raise Invalid(f"{self.service}: {command.kind.value} is not carried out here")

    async def _files(self, attachments: Sequence[Attachment]) -> list[tuple[str, bytes, str]]:
        """A reply's files as the multipart parts of Create New Message."""
        return [
            (attachment.filename, data, attachment.content_type or "application/octet-stream")
            async for attachment, data in self._file_bytes(attachments)
        ]

    async def _presence_to(self, command: SetPresence) -> CommandResult:
        availability = AVAILABILITY_OUT[command.presence]
        await self.api.set_availability(availability)
        return CommandResult(detail=f"availability {availability}")

    async def _team_id(self, name: str) -> int:
        """The Chatwoot team a queue name names (its name, case ignored, or its id)."""
        wanted = name.strip().lower()
        for team in await self.api.teams():
            if wanted in (str(team.get("name") or "").strip().lower(), str(team.get("id"))):
                return int(team["id"])
        raise Invalid(f"{self.service}: no team {name!r} on account {self.config.account}")

    async def _all_agents(self) -> list[dict[str, Any]]:
        return list(await self.api.agents())

    def _agent_names(self, user_id: int, raw: dict[str, Any]) -> set[str]:
        """A Chatwoot user is named by a login (email), a user id, or an agent's name."""
        return {agent_id_of(raw) or "", str(user_id), str(raw.get("name") or "").lower(),
                str(raw.get("available_name") or "").lower()}

    def _where(self) -> str:
        return f" on account {self.config.account}"


__all__ = ["Commands"]
