"""What an empty queue says: why it is empty (nothing waiting, nothing snoozed, nothing matching the filter
typed, or a backend not read yet) and what to press next.

An empty list while a backend is still connecting, or cannot be reached, is not "nothing waiting": its calls,
chats and mail are not in yet. Told so, an agent waits or calls for help instead of believing the queue
is clear (a workspace that rebuilds its search index after an upgrade takes a minute to open at a million
conversations, and a PostgreSQL server can be down).
"""

from __future__ import annotations

from collections.abc import Mapping

from ...backends.base import BackendStatus, LinkState
from ..core.views import VIEW_SCOPES

EMPTY_MESSAGE = (
    "Nothing waiting for you. New calls, chats and mail appear here as they arrive.\n"
    "n takes the next item · 6 shows everyone's · ? lists the keys"
)
# Before the first word from any backend: the hub starts after the first frame.
STARTING_MESSAGE = (
    "Nothing to show yet: connecting.\n"
    "Calls, chats and mail appear here as soon as they are read · ? lists the keys"
)


def empty_list_message(
    view: str, filter_text: str, errors: list[str], links: Mapping[str, BackendStatus] | None = None
) -> str:
    """`links`: the backends' link states (Store.links); None before any is known."""
    missing = [] if links is None else [s for s in links.values() if s.state is not LinkState.CONNECTED]
    if filter_text:
        message = f"No match for “{filter_text}” in {VIEW_SCOPES[view][0]}."
        if errors:
            message += "\n⚠ " + "; ".join(errors)
        if missing:
            message += f"\n⚠ Not searched: {_states(missing)}."
        return message + "\nesc clears the filter · 6 searches everyone's · 1 the unified queue"
    if view == "snoozed":
        message = "Nothing snoozed. z snoozes the highlighted item; it waits here until it wakes."
        return message + (f"\n⚠ Not in yet: {_states(missing)}." if missing else "")
    if not links:
        return STARTING_MESSAGE
    if not missing:
        return EMPTY_MESSAGE
    yet = " yet" if len(missing) == len(links) else ""
    what = "What it holds appears" if len(missing) == 1 else "What they hold appear"
    return f"Nothing to show{yet}: {_states(missing)}.\n{what} here once read · ? lists the keys"


def _states(missing: list[BackendStatus]) -> str:
    """`local is connecting; zendesk cannot be reached: timed out (retrying in 8s)`."""
    said = []
    for status in missing:
        if status.state is LinkState.CONNECTING:
            said.append(f"{status.backend} is connecting" + (f" ({status.detail})" if status.detail else ""))
        else:
            retry = f" (retrying in {status.retry_in:.0f}s)" if status.retry_in else ""
            said.append(f"{status.backend} cannot be reached: {status.detail or 'no answer'}{retry}")
    return "; ".join(said)
