"""The one way tests build model values: a conversation, a customer message, with what a test does not care
about filled in plausibly. A test names only the fields its assertion depends on."""

from __future__ import annotations

from typing import Any

from standardiste.console.core.model import INITIAL_STATE, Channel, Conversation, State


def conversation(
    n: int | str = 1, channel: Channel = Channel.EMAIL, state: State | None = None, **fields: Any
) -> Conversation:
    """Conversation `local:n` (or the id given), in its channel's first state unless told."""
    cid = n if isinstance(n, str) else f"local:{n}"
    number = cid.rpartition(":")[2]
    values: dict[str, Any] = {
        "subject": f"contact {number}",
        "customer_id": f"c{number}",
        "customer_name": f"Customer {number}",
        "language": "en",
        "created_at": 0.0,
        "updated_at": fields.get("created_at", 0.0),
    }
    values.update(fields)
    return Conversation(id=cid, channel=channel, state=state or INITIAL_STATE[channel], **values)
