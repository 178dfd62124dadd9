"""`CsatRecords`: the optional `Records` capability (backends/optional.py) for a help desk, written once for
Chatwoot and Zendesk: the survey answers of a period, read from the help desk, each with the channel of its
conversation (an answer does not name it: known from the queue, else read once per conversation).

The adapter says how answers are read (`_csat_answers`), which conversation one names (`_csat_native`), how
one becomes a record (`_csat_record`) and how a conversation it does not hold is read. Help desks keep no
wrap-ups: none are returned.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from ...console.core.model import Channel, Conversation, CsatRecord, WrapUpRecord
from ..base import NotFound


class CsatRecords:
    # The channel counted for an answer whose conversation was deleted since (nothing left to read).
    unknown_channel: ClassVar[Channel]

    async def _csat_answers(self, since: int, until: int) -> list[Mapping[str, Any]] | None:
        """The answers created from `since` to before `until` (Unix seconds); None when this account
        may not read them (the console's figures then come from its other workspaces)."""
        raise NotImplementedError

    def _csat_native(self, raw: Mapping[str, Any]) -> int | None:
        """The help desk's number of the conversation an answer is about, None when it names none."""
        raise NotImplementedError

    def _csat_record(self, raw: Mapping[str, Any], channel: Channel) -> CsatRecord | None:
        """The answer as a record, None for one not given (a survey sent, not answered) or malformed."""
        raise NotImplementedError

    def _held(self, native: int) -> Conversation | None:
        """The conversation as the console was last told it, if this workspace follows it."""
        raise NotImplementedError

    async def _read_conversation(self, native: int) -> Conversation:
        """The conversation read from the help desk (`NotFound` once deleted)."""
        raise NotImplementedError

    async def records(self, csat_since: float, wrapups_since: float) -> tuple[list[CsatRecord], list[WrapUpRecord]]:
        """The CSAT answers recorded since `csat_since`, oldest first; no wrap-ups."""
        # The help desks' ranges leave their end out: a second past now takes this one in.
        answers = await self._csat_answers(int(csat_since), int(time.time()) + 1)
        channels: dict[int, Channel] = {}
        found: list[CsatRecord] = []
        for raw in answers or ():
            native = self._csat_native(raw)
            channel = self.unknown_channel if native is None else await self._channel_of(native, channels)
            record = self._csat_record(raw, channel)
            if record is not None and csat_since <= record.at:
                found.append(record)
        found.sort(key=lambda r: r.at)
        return found, []

    async def _channel_of(self, native: int, known: dict[int, Channel]) -> Channel:
        if native not in known:
            held = self._held(native)
            if held is not None:
                known[native] = held.channel
            else:
                try:
                    known[native] = (await self._read_conversation(native)).channel
                except NotFound:
                    known[native] = self.unknown_channel
        return known[native]


__all__ = ["CsatRecords"]
