"""Zendesk's JSON as the console's model: pure functions, no I/O.

- channel: the ticket's `via.channel` (Ticketing API, "Via object reference"): `email` → email, `web` and
  `api` (the web form, the Help Center, an integration) → form, `chat`, `native_messaging` and `messaging`
  → chat, `voice` (Talk: calls and voicemails) → phone, the social networks (`facebook`, `twitter`,
  `any_channel`, `instagram_dm`, `whatsapp`, `line`, `wechat`, `sms`...) → social; anything else → form.
- state: `new`, `open`, `pending`, `hold`, `solved`, `closed`. Written channels: new, open, pending (hold
  too: waiting on someone else than the agent), solved (closed too). Chat: new and pending → waiting,
  open → active, solved/closed → ended. Phone (a Talk ticket is made when the call is over, it is the
  call's after-work): solved/closed → ended, the others → wrap-up.
- priority: `low`, `normal` (and none), `high`, `urgent`, as they are.
- agents are known by their login (email, lower-cased), customers as `<workspace>:user-<id>`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

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

CHANNEL_OF_VIA: dict[str, Channel] = {
    "email": Channel.EMAIL,
    "web": Channel.FORM,
    "web_form": Channel.FORM,
    "web_widget": Channel.FORM,
    "api": Channel.FORM,
    "mobile_sdk": Channel.FORM,
    "help_center": Channel.FORM,
    "chat": Channel.CHAT,
    "chat_transcript": Channel.CHAT,
    "native_messaging": Channel.CHAT,
    "messaging": Channel.CHAT,
    "voice": Channel.PHONE,
    "phone": Channel.PHONE,
    "phone_call_inbound": Channel.PHONE,
    "phone_call_outbound": Channel.PHONE,
    "voicemail": Channel.PHONE,
}
SOCIAL_VIA = frozenset(
    {
        "facebook",
        "twitter",
        "any_channel",
        "instagram_dm",
        "whatsapp",
        "line",
        "wechat",
        "sms",
        "telegram",
        "viber",
        "google_rcs",
        "apple_business_chat",
        "kakaotalk",
        "mailgun",
        "messagebird_sms",
        "slack",
        "facebook_post",
        "facebook_message",
        "twitter_dm",
        "twitter_tweet",
    }
)
PRIORITY_IN = {
    "low": Priority.LOW,
    "normal": Priority.NORMAL,
    None: Priority.NORMAL,
    "high": Priority.HIGH,
    "urgent": Priority.URGENT,
}
PRIORITY_OUT = {
    Priority.LOW: "low",
    Priority.NORMAL: "normal",
    Priority.HIGH: "high",
    Priority.URGENT: "urgent",
}
# Talk's agent_state (Talk API, Availabilities) as the console's presence, and back.
PRESENCE_IN = {
    "online": Presence.AVAILABLE,
    "away": Presence.AWAY,
    "transfers_only": Presence.BUSY,
    "offline": Presence.OFFLINE,
}
AGENT_STATE_OUT = {
    Presence.AVAILABLE: "online",
    Presence.BUSY: "transfers_only",
    Presence.AWAY: "away",
    Presence.WRAP_UP: "away",
    Presence.OFFLINE: "offline",
}
SUBJECT_CHARS = 200
CLOSED = frozenset({"solved", "closed"})


def channel_of(via: Mapping[str, Any] | None) -> Channel:
    name = str((via or {}).get("channel") or "").lower()
    if name in CHANNEL_OF_VIA:
        return CHANNEL_OF_VIA[name]
    return Channel.SOCIAL if name in SOCIAL_VIA else Channel.FORM


def state_of(status: str, channel: Channel) -> State:
    status = status or "open"
    if channel is Channel.PHONE:
        return State.ENDED if status in CLOSED else State.WRAP_UP
    if channel is Channel.CHAT:
        if status in CLOSED:
            return State.ENDED
        return State.ACTIVE if status == "open" else State.WAITING
    if status in CLOSED:
        return State.SOLVED
    if status in ("pending", "hold"):
        return State.PENDING
    return State.NEW if status == "new" else State.OPEN


def status_for(state: State) -> str | None:
    """The Zendesk status a console state is set with, or None for one Zendesk has no word for."""
    return {
        State.NEW: "new",
        State.OPEN: "open",
        State.PENDING: "pending",
        State.SOLVED: "solved",
        State.WAITING: "new",
        State.ACTIVE: "open",
        State.ENDED: "solved",
        State.WRAP_UP: "open",
    }.get(state)


def timestamp(value: Any) -> float | None:
    """Zendesk's ISO 8601 times ("2026-12-02T07:44:39Z") as epoch seconds; None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    seconds = when.timestamp()
    return seconds if math.isfinite(seconds) else None


def iso(seconds: float) -> str:
    from datetime import UTC

    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def login_of(user: Mapping[str, Any] | None) -> str | None:
    if not user:
        return None
    email = str(user.get("email") or "").strip().lower()
    return email or (f"user-{user['id']}" if user.get("id") is not None else None)


def customer_id_of(backend: str, user_id: Any) -> str:
    return qualify(backend, f"user-{user_id}")


def language_of(user: Mapping[str, Any] | None) -> str:
    locale = str((user or {}).get("locale") or "en")
    return (locale[:2] or "en").lower()


def customer_of(backend: str, user: Mapping[str, Any]) -> Customer:
    return Customer(
        id=customer_id_of(backend, user.get("id")),
        name=str(user.get("name") or user.get("email") or user.get("phone") or "customer"),
        language=language_of(user),
        email=str(user.get("email") or ""),
        phone=str(user.get("phone") or ""),
        country=str((user.get("user_fields") or {}).get("country") or "")
        if isinstance(user.get("user_fields"), dict)
        else "",
    )


def ticket_of(
    backend: str,
    raw: Mapping[str, Any],
    *,
    users: Mapping[int, Mapping[str, Any]],
    groups: Mapping[int, Mapping[str, Any]],
) -> Conversation:
    channel = channel_of(raw.get("via"))
    status = str(raw.get("status") or "open")
    requester = users.get(int(raw.get("requester_id") or 0)) or {}
    assignee_id = raw.get("assignee_id")
    assignee = None
    if assignee_id:
        assignee = login_of(users.get(int(assignee_id))) or f"user-{assignee_id}"
    group = groups.get(int(raw.get("group_id") or 0))
    created = timestamp(raw.get("created_at")) or 0.0
    updated = timestamp(raw.get("updated_at")) or created
    subject = str(raw.get("subject") or raw.get("raw_subject") or raw.get("description") or "")
    return Conversation(
        id=qualify(backend, raw["id"]),
        channel=channel,
        state=state_of(status, channel),
        subject=" ".join(subject.split())[:SUBJECT_CHARS],
        customer_id=customer_id_of(backend, raw.get("requester_id")),
        customer_name=str(requester.get("name") or requester.get("email") or "customer"),
        language=language_of(requester),
        created_at=created,
        updated_at=updated,
        queue=str(group.get("name")) if group and group.get("name") else "no group",
        priority=PRIORITY_IN.get(raw.get("priority"), Priority.NORMAL),
        tags=tuple(str(tag) for tag in raw.get("tags") or ()),
        assignee=assignee,
        closed_at=updated if status in CLOSED else None,
        # Zendesk bumps updated_at at every change: a late, older state is then dropped.
        version=int(updated * 1000),
    )


def direction_of(
    raw: Mapping[str, Any], agents: Mapping[int, Any], users: Mapping[int, Mapping[str, Any]] | None = None
) -> Direction:
    """Inbound unless an agent wrote it (one of the agents listed at connect, or a user whose role says so)."""
    author = int(raw.get("author_id") or 0)
    role = ((users or {}).get(author) or {}).get("role")
    if author not in agents and role not in ("agent", "admin"):
        return Direction.INBOUND
    return Direction.OUTBOUND if raw.get("public", True) else Direction.NOTE


def attachments_of(raw: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """A comment's files; `ref` is their `content_url`. Names are untrusted: the console checks them."""
    found: list[Attachment] = []
    for item in raw.get("attachments") or ():
        if not isinstance(item, Mapping) or not item.get("content_url"):
            continue
        size = item.get("size")
        found.append(
            Attachment(
                filename=str(item.get("file_name") or f"attachment-{item.get('id')}"),
                content_type=str(item.get("content_type") or "application/octet-stream"),
                size=int(size) if isinstance(size, int) else 0,
                ref=str(item["content_url"]),
            )
        )
    return tuple(found)


def comment_of(
    backend: str,
    ticket_id: Any,
    raw: Mapping[str, Any],
    *,
    users: Mapping[int, Mapping[str, Any]],
    agents: Mapping[int, Any],
) -> Message:
    direction = direction_of(raw, agents, users)
    user = users.get(int(raw.get("author_id") or 0)) or {}
    if direction is Direction.INBOUND:
        author = str(user.get("name") or user.get("email") or "customer")
    else:
        author = login_of(user) or f"user-{raw.get('author_id')}"
    body = raw.get("plain_body") or raw.get("body") or ""
    return Message(
        id=qualify(backend, f"c{raw['id']}"),
        conversation_id=qualify(backend, ticket_id),
        direction=direction,
        author=author,
        body=str(body),
        created_at=timestamp(raw.get("created_at")) or 0.0,
        attachments=attachments_of(raw),
    )


def agent_of(raw: Mapping[str, Any], *, agent_state: str | None = None) -> Agent:
    return Agent(
        id=login_of(raw) or "unknown",
        name=str(raw.get("name") or raw.get("email") or "agent"),
        presence=PRESENCE_IN.get(str(agent_state or "offline"), Presence.OFFLINE),
        supervisor=raw.get("role") == "admin",
    )


__all__ = [
    "AGENT_STATE_OUT",
    "PRESENCE_IN",
    "PRIORITY_OUT",
    "agent_of",
    "channel_of",
    "comment_of",
    "customer_of",
    "iso",
    "login_of",
    "state_of",
    "status_for",
    "ticket_of",
    "timestamp",
]
