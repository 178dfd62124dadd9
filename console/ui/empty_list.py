"""What an empty queue says: why it is empty (nothing waiting, nothing snoozed, nothing matching the filter
typed) and what to press next."""

from __future__ import annotations

from ..core.views import VIEW_SCOPES

EMPTY_MESSAGE = (
    "Nothing waiting for you. New calls, chats and mail appear here as they arrive.\n"
    "n takes the next item · 6 shows everyone's · ? lists the keys"
)


def empty_list_message(view: str, filter_text: str, errors: list[str]) -> str:
    if filter_text:
        message = f"No match for “{filter_text}” in {VIEW_SCOPES[view][0]}."
        if errors:
            message += "\n⚠ " + "; ".join(errors)
        return message + "\nesc clears the filter · 6 searches everyone's · 1 the unified queue"
    if view == "snoozed":
        return "Nothing snoozed. z snoozes the highlighted item; it waits here until it wakes."
    return EMPTY_MESSAGE
