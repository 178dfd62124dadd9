"""Chatwoot: chat (web widget), email and social inboxes of one account. See docs/chatwoot.md.

How it maps onto the contract (backends/base.py), in short: conversations of the configured statuses and
assignee filter; snapshot = the paged conversation list (25 a page, fetched concurrently once the count is
known); events = ActionCable's RoomChannel (message.created, conversation.*, assignee.changed, typing,
presence.update), riding out drops itself with a REST catch-up; history = the messages endpoint paged back;
replies and notes (`private: true`), assignment and transfer (agent or team), status, priority, labels as
tags, snooze, typing and the agent's own availability as presence are Chatwoot's own calls. Keys are kept in a local journal (Chatwoot has no
idempotency key). Ids are `<workspace name>:<display id>`.
"""

from .adapter import ChatwootBackend
from .settings import ChatwootSettings, parse_settings

__all__ = ["ChatwootBackend", "ChatwootSettings", "parse_settings"]
