"""The columns of a conversation's row in the local workspace, and which rows the console loads.

A module of its own, with no import: local_prefetch.py reads the file by them at the console's very start,
before anything else is imported (the package backends.local would import the whole adapter)."""

CONVERSATION_COLUMNS = (
    "id, channel, state, subject, customer_id, customer_name, language, queue, priority, tags, assignee, "
    "created_at, updated_at, first_response_at, last_customer_at, answered_at, closed_at, sla_due_at, "
    "snoozed_until, callback_number, callback_at, unread, muted, version"
)
# Conversations loaded into the console: everything open, and what closed in the last day (history, metrics).
RECENT_SECONDS = 24 * 3600
LOADED_WHERE = "closed_at IS NULL OR closed_at >= ?"  # ? = now - RECENT_SECONDS
AGENT_COLUMNS = (
    "id, name, skills, capacity, presence, presence_reason, presence_since, viewing, typing_in, last_seen, "
    "supervisor"
)
