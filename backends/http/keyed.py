"""`KeyedCommands`: how a help-desk adapter carries out a command, written once for Chatwoot and Zendesk.

`perform` checks the command, finds the conversation's number and runs the adapter's `_do` once per key:
neither help desk takes an idempotency key, so the key is kept in the adapter's journal (journal.py). The
files of a reply are read here too (a file on this machine, or one already on the help desk), and an agent
named by the console is looked up among the help desk's agents, refreshed once when not found.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ...console.core.attach_files import MAX_BYTES, human_size
from ...console.core.model import Attachment
from ..base import Command, CommandResult, Invalid, Note, Reply, SetPresence

if TYPE_CHECKING:
    from .client import HttpClient
    from .journal import Journal


class KeyedCommands:
    """`perform` for a help-desk adapter; the adapter gives `_do`, `_presence_to` and `_sent_before`."""

    # How a message's number stands in its console id (`desk:7:c1001` for Zendesk's comment 1001), and
    # what the help desk calls it in a command's detail.
    message_mark: ClassVar[str]
    message_word: ClassVar[str]

    _journal: Journal
    _agents: dict[int, dict[str, Any]]

    if TYPE_CHECKING:

        @property
        def service(self) -> str: ...
        @property
        def me(self) -> str: ...
        @property
        def my_user_id(self) -> int: ...
        @property
        def http_client(self) -> HttpClient: ...
        def _native(self, conversation_id: str) -> int: ...
        def require(self, command: Command) -> None: ...

    async def _do(self, native: int, command: Command) -> CommandResult:
        raise NotImplementedError

    async def _presence_to(self, command: SetPresence) -> CommandResult:
        raise NotImplementedError

    async def _sent_before(self, native: int, body: str, since: float) -> int | None:
        """The number of this agent's message with this body sent since `since`, if there is one."""
        raise NotImplementedError

    async def _all_agents(self) -> list[dict[str, Any]]:
        """The help desk's agents, read again (`_user_id` refreshes with it)."""
        raise NotImplementedError

    def _agent_names(self, user_id: int, raw: dict[str, Any]) -> set[str]:
        """What an agent may be called by the console (lower case): a login, the id, a name."""
        raise NotImplementedError

    async def perform(self, command: Command) -> CommandResult:
        self.require(command)
        if isinstance(command, SetPresence):
            return await self._keyed(command, "", lambda: self._presence_to(command))
        native = self._native(command.conversation_id)
        return await self._keyed(command, command.conversation_id, lambda: self._do(native, command))

    async def _keyed(
        self, command: Command, conversation: str, do: Callable[[], Awaitable[CommandResult]]
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
            found = await self._sent_before(self._native(conversation), command.body, entry.at)
            if found is not None:
                detail = f"{self.message_word} {found}"
                await self._journal.done(key, message_id=found, detail=detail)
                return CommandResult(ok=True, detail=f"already applied: {detail}")
        await self._journal.sending(key, command.kind.value, conversation)
        result = await do()
        message = result.message
        message_id = int(message.id.rpartition(f":{self.message_mark}")[2]) if message is not None else None
        await self._journal.done(key, message_id=message_id, detail=result.detail)
        return result

    async def _file_bytes(self, attachments: Sequence[Attachment]) -> AsyncIterator[tuple[Attachment, bytes]]:
        """The bytes of a reply's files, one by one: a file on this machine (the composer's absolute path),
        or a file already on the help desk (a customer's, forwarded: its URL). Read in a thread; 25 MB in
        all at most."""
        total = 0
        for attachment in attachments:
            ref = attachment.ref
            if ref.startswith(("http://", "https://")):
                data = await self.http_client.download(ref)
            elif ref and Path(ref).is_absolute():
                try:
                    data = await asyncio.to_thread(Path(ref).read_bytes)
                except OSError as error:
                    raise Invalid(
                        f"{self.service}: cannot read {attachment.filename}: {error.strerror}"
                    ) from None
            else:
                raise Invalid(f"{self.service}: {attachment.filename} is not a file this console can read")
            total += len(data)
            if total > MAX_BYTES:
                raise Invalid(f"{self.service}: the files of this reply are over {human_size(MAX_BYTES)}")
            yield attachment, data

    async def _user_id(self, assignee: str) -> int:
        """The help desk's user an agent id names; the agents are read again once when none matches (an
        agent added since connect)."""
        wanted = assignee.strip().lower()
        for refresh in (False, True):
            if refresh:
                self._agents = {int(a["id"]): a for a in await self._all_agents()}
            for user_id, raw in self._agents.items():
                if wanted in self._agent_names(user_id, raw):
                    return user_id
        raise Invalid(f"{self.service}: no agent {assignee!r}{self._where()}")

    def _where(self) -> str:
        """Where an agent was looked for, in a message (" on account 1"); nothing by default."""
        return ""


__all__ = ["KeyedCommands"]
