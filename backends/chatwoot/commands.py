"""What each console command is on Chatwoot (docs/chatwoot.md has the table), and keys applied once.

A mixin of `ChatwootBackend` (adapter.py), kept apart so that each file does one thing: the adapter connects,
reads and follows; this carries out. It uses the adapter's `api`, `_journal`, `_agents`, `me`, `my_user_id`,
`service`, `config` and `_display`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...console.core.attach_files import MAX_BYTES, human_size
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
from .mapping import AVAILABILITY_OUT, PRIORITY_OUT, agent_id_of, message_of, status_for

if TYPE_CHECKING:
    from ..http import HttpClient
    from .api import ChatwootApi
    from .journal import Journal
    from .settings import ChatwootSettings


class Commands:
    """`perform` for the Chatwoot adapter."""

    name: str
    config: ChatwootSettings
    _journal: Journal
    _agents: dict[int, dict[str, Any]]

    if TYPE_CHECKING:

        @property
        def api(self) -> ChatwootApi: ...
        @property
        def me(self) -> str: ...
        @property
        def my_user_id(self) -> int: ...
        @property
        def service(self) -> str: ...
        @property
        def http_client(self) -> HttpClient: ...
        def _display(self, conversation_id: str) -> int: ...
        def require(self, command: Command) -> None: ...

    async def perform(self, command: Command) -> CommandResult:
        self.require(command)
        if isinstance(command, SetPresence):
            return await self._keyed(command, "", lambda: self._presence_to(command))
        display = self._display(command.conversation_id)
        return await self._keyed(command, command.conversation_id, lambda: self._do(display, command))

    async def _keyed(
        self, command: Command, conversation: str, do: Callable[[], Any]
    ) -> CommandResult:
        """A command once per key: a key already done returns what was recorded; one left `sending` by a
        stopped console is looked for in the conversation before it is sent again."""
        key = command.key
        if not key:
            return await do()
        entry = await self._journal.get(key)
        if entry is not None and entry.state == "done":
            return CommandResult(ok=True, detail=f"already applied: {entry.detail}")
        if entry is not None and isinstance(command, Reply | Note):
            found = await self._sent_before(self._display(conversation), command.body, entry.at)
            if found is not None:
                await self._journal.done(key, message_id=found, detail=f"message {found}")
                return CommandResult(ok=True, detail=f"already applied: message {found}")
        await self._journal.sending(key, command.kind.value, conversation)
        result: CommandResult = await do()
        message_id = int(result.message.id.rpartition(":m")[2]) if result.message is not None else None
        await self._journal.done(key, message_id=message_id, detail=result.detail)
        return result

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
        """The bytes of a reply's files: a file on this machine (the composer's absolute path), or a file
        already on Chatwoot (a customer's, forwarded: its URL). Read in a thread; 25 MB in all at most."""
        found: list[tuple[str, bytes, str]] = []
        total = 0
        for attachment in attachments:
            ref = attachment.ref
            if ref.startswith(("http://", "https://")):
                data = await self.http_client.download(ref)
            elif ref and Path(ref).is_absolute():
                try:
                    data = await asyncio.to_thread(Path(ref).read_bytes)
                except OSError as error:
                    raise Invalid(f"{self.service}: cannot read {attachment.filename}: {error.strerror}") from None
            else:
                raise Invalid(f"{self.service}: {attachment.filename} is not a file this console can read")
            total += len(data)
            if total > MAX_BYTES:
                raise Invalid(f"{self.service}: the files of this reply are over {human_size(MAX_BYTES)}")
            found.append((attachment.filename, data, attachment.content_type or "application/octet-stream"))
        return found

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

    async def _user_id(self, assignee: str) -> int:
        """The Chatwoot user an agent id names: a login (email), a user id, or an agent's name."""
        wanted = assignee.strip().lower()
        for refresh in (False, True):
            if refresh:
                self._agents = {int(a["id"]): a for a in await self.api.agents()}
            for user_id, raw in self._agents.items():
                names = {agent_id_of(raw), str(user_id), str(raw.get("name") or "").lower(),
                         str(raw.get("available_name") or "").lower()}
                if wanted in names:
                    return user_id
        raise Invalid(f"{self.service}: no agent {assignee!r} on account {self.config.account}")


__all__ = ["Commands"]
