"""Zendesk Support and Talk: an account's tickets (email, web form, chat, social, voice) and the agent's Talk
availability. See docs/zendesk.md.

How it maps onto the contract (backends/base.py), in short: the queue is a search (`type:ticket
status<solved` by default, read with Export Search Results' cursor pages) and the agent's views; events come
from polling those views (latest updated first) and from the cursor-based incremental ticket export (10
requests a minute at most, on its own budget); history = the ticket's comments; replies (public comments,
files through uploads), notes (private comments), assignment, group transfer, status, priority and tags are
Update Ticket calls, field changes as safe updates (a 409 is a `Conflict` the console shows); the agent's
Talk availability (online, away, transfers only) is the phone presence, and Talk's current queue activity is
offered through the optional `QueueFigures` capability. Keys are kept in a local journal (Zendesk takes no
idempotency key on updates). Ids are `<workspace name>:<ticket id>`.
"""

from .adapter import ZendeskBackend
from .settings import ZendeskSettings, parse_settings

__all__ = ["ZendeskBackend", "ZendeskSettings", "parse_settings"]
