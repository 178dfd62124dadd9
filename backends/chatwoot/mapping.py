"""Chatwoot's JSON as the console's model: pure functions, no I/O.

Conversations come in three shapes that share their fields: an item of the conversation list, the
conversation details, and the `push_event_data` the cable sends (all three carry `id` = the display id,
`status`, `priority`, `labels`, `meta.sender`, `meta.assignee`, `meta.channel`). Each is read the same way.

- channel: the inbox's `channel_type` (`meta.channel` in the payload): Channel::WebWidget → chat,
  Channel::Email → email, everything else (API, Facebook, Instagram, WhatsApp, Telegram, Line, SMS,
  Twitter...) → social; `Channel::Voice`/`Channel::TwilioSms` with medium sms → social as well.
- state: resolved → ended (chat) / solved; pending → waiting / pending; open → waiting or active (chat,
  unassigned or not) / new or open (unassigned or not); snoozed → waiting (chat) / open, with
  `snoozed_until`.
- priority: none and medium → normal, low, high, urgent as they are. Normal is sent back as `none`.
- agents are known by their login (email, lower-cased): that is what `Assign` names and `me` is.
"""

from __future__ import annotations

import math
import mimetypes
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from ...console.core.model import (
    Agent,
    Attachment,
    Channel,
    Conversation,
    Customer,
    Direction,
    Message,
    Presence,
    Priority,
    State,
)
from ..base import qualify

CHANNEL_OF_TYPE: dict[str, Channel] = {
    "Channel::WebWidget": Channel.CHAT,
    "Channel::Email": Channel.EMAIL,
}
PRIORITY_IN = {"low": Priority.LOW, "medium": Priority.NORMAL, "none": Priority.NORMAL, None: Priority.NORMAL,
               "high": Priority.HIGH, "urgent": Priority.URGENT}
PRIORITY_OUT = {Priority.LOW: "low", Priority.NORMAL: "none", Priority.HIGH: "high", Priority.URGENT: "urgent"}
# The console's presence as Chatwoot's availability, and back (agents' `availability_status`).
AVAILABILITY_OUT = {Presence.AVAILABLE: "online", Presence.BUSY: "busy", Presence.AWAY: "busy",
                    Presence.WRAP_UP: "busy", Presence.OFFLINE: "offline"}
PRESENCE_IN = {"online": Presence.AVAILABLE, "available": Presence.AVAILABLE, "busy": Presence.BUSY,
               "offline": Presence.OFFLINE}
# Chatwoot's message_type: 0 incoming, 1 outgoing, 2 activity, 3 template.
INCOMING, OUTGOING, ACTIVITY, TEMPLATE = 0, 1, 2, 3
SUBJECT_CHARS = 200


def channel_of(channel_type: str | None) -> Channel:
    return CHANNEL_OF_TYPE.get(channel_type or "", Channel.SOCIAL)


def state_of(status: str, channel: Channel, assigned: bool) -> State:
    if channel is Channel.CHAT:
        if status == "resolved":
            return State.ENDED
        if status == "open" and assigned:
            return State.ACTIVE
        return State.WAITING
    if status == "resolved":
        return State.SOLVED
    if status == "pending":
        return State.PENDING
    if status == "snoozed":
        return State.OPEN
    return State.OPEN if assigned else State.NEW


def status_for(state: State) -> str | None:
    """The Chatwoot status a console state is set with, or None for a state Chatwoot has no word for."""
    return {
        State.NEW: "open", State.OPEN: "open", State.WAITING: "open", State.ACTIVE: "open",
        State.PENDING: "pending", State.SOLVED: "resolved", State.ENDED: "resolved",
    }.get(state)


def agent_id_of(user: Mapping[str, Any] | None) -> str | None:
    """An agent's id in the console: their login, lower-cased (None for no one)."""
    if not user:
        return None
    email = str(user.get("email") or "").strip().lower()
    return email or (f"user-{user['id']}" if user.get("id") is not None else None)


def customer_id_of(backend: str, contact_id: Any) -> str:
    return qualify(backend, f"contact-{contact_id}")


def customer_of(backend: str, sender: Mapping[str, Any]) -> Customer:
    extra = sender.get("additional_attributes") or {}
    return Customer(
        id=customer_id_of(backend, sender.get("id")),
        name=str(sender.get("name") or sender.get("email") or sender.get("phone_number") or "customer"),
        email=str(sender.get("email") or ""),
        phone=str(sender.get("phone_number") or ""),
        social_handle=str(sender.get("identifier") or ""),
        country=str(extra.get("country_code") or extra.get("country") or ""),
    )


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None  # "inf" and "nan" parse, and are no time


def conversation_of(
    backend: str,
    raw: Mapping[str, Any],
    *,
    inboxes: Mapping[int, Mapping[str, Any]],
    subject_attribute: str = "subject",
) -> Conversation:
    meta = raw.get("meta") or {}
    inbox = inboxes.get(int(raw.get("inbox_id") or 0), {})
    channel = channel_of(meta.get("channel") or inbox.get("channel_type"))
    assignee = agent_id_of(meta.get("assignee"))
    sender = meta.get("sender") or {}
    extra = raw.get("additional_attributes") or {}
    custom = raw.get("custom_attributes") or {}
    subject = str(extra.get("mail_subject") or custom.get(subject_attribute) or "")[:SUBJECT_CHARS]
    created = _number(raw.get("created_at")) or _number(raw.get("timestamp")) or 0.0
    updated = _number(raw.get("updated_at")) or _number(raw.get("last_activity_at")) or created
    status = str(raw.get("status") or "open")
    snoozed = _number(raw.get("snoozed_until")) if status == "snoozed" else None
    language = str(extra.get("browser_language") or (sender.get("additional_attributes") or {}).get("language") or "en")
    return Conversation(
        id=qualify(backend, raw["id"]),
        channel=channel,
        state=state_of(status, channel, assignee is not None),
        subject=subject,
        customer_id=customer_id_of(backend, sender.get("id")),
        customer_name=str(sender.get("name") or sender.get("email") or "customer"),
        language=language[:2].lower() or "en",
        created_at=created,
        updated_at=_number(raw.get("last_activity_at")) or updated,
        queue=str(inbox.get("name") or f"inbox {raw.get('inbox_id')}"),
        priority=PRIORITY_IN.get(raw.get("priority"), Priority.NORMAL),
        tags=tuple(str(label) for label in raw.get("labels") or ()),
        assignee=assignee,
        first_response_at=_number(raw.get("first_reply_created_at")),
        last_customer_at=_number(raw.get("waiting_since")),
        closed_at=updated if status == "resolved" else None,
        snoozed_until=snoozed,
        unread=int(raw.get("unread_count") or 0),
        muted=bool(raw.get("muted")),
        # Chatwoot bumps updated_at at every change it makes: a late, older state is then dropped.
        version=int(updated * 1000),
    )


def direction_of(raw: Mapping[str, Any]) -> Direction:
    kind = raw.get("message_type")
    if kind == INCOMING or kind == "incoming":
        return Direction.INBOUND
    if kind == ACTIVITY or kind == "activity":
        return Direction.SYSTEM
    return Direction.NOTE if raw.get("private") else Direction.OUTBOUND


def attachments_of(raw: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """A message's files as the console lists them; `ref` is the file's URL on the Chatwoot server. The name
    comes from that URL and is untrusted: the console checks it before it becomes a path."""
    found: list[Attachment] = []
    for item in raw.get("attachments") or ():
        if not isinstance(item, Mapping) or not item.get("data_url"):
            continue
        url = str(item["data_url"])
        name = unquote(urlsplit(url).path.rpartition("/")[2]) or f"attachment-{item.get('id')}"
        if "." not in name and item.get("extension"):
            name += f".{item['extension']}"
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        size = item.get("file_size")
        found.append(Attachment(filename=name, content_type=kind, size=int(size) if isinstance(size, int) else 0, ref=url))
    return tuple(found)


def message_of(backend: str, conversation_native: Any, raw: Mapping[str, Any]) -> Message:
    sender = raw.get("sender") or {}
    direction = direction_of(raw)
    if direction is Direction.INBOUND:
        # As the other adapters: a customer's message is signed with their name, an agent's with their id.
        author = str(sender.get("name") or sender.get("email") or sender.get("phone_number") or "customer")
    else:
        author = agent_id_of(sender) or str(sender.get("name") or "chatwoot")
    return Message(
        id=qualify(backend, f"m{raw['id']}"),
        conversation_id=qualify(backend, conversation_native),
        direction=direction,
        author=author,
        body=str(raw.get("content") or ""),
        created_at=_number(raw.get("created_at")) or 0.0,
        attachments=attachments_of(raw),
    )


def agent_of(raw: Mapping[str, Any], *, presence: str | None = None) -> Agent:
    status = presence or raw.get("availability_status") or raw.get("availability") or "offline"
    return Agent(
        id=agent_id_of(raw) or "unknown",
        name=str(raw.get("available_name") or raw.get("name") or raw.get("email") or "agent"),
        presence=PRESENCE_IN.get(str(status), Presence.OFFLINE),
        supervisor=raw.get("role") == "administrator",
    )


__all__ = [
    "AVAILABILITY_OUT",
    "PRIORITY_IN",
    "PRIORITY_OUT",
    "agent_id_of",
    "agent_of",
    "channel_of",
    "conversation_of",
    "customer_of",
    "direction_of",
    "message_of",
    "state_of",
    "status_for",
]
