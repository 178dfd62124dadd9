"""The domain model: channels, conversations and their channel-specific states, messages, customers, agents.

Values are frozen, slotted dataclasses: the store replaces a conversation instead of mutating it, so a view can
hold a row without copying it, and 100,000 conversations stay well under 150 MB. Repeated short strings
(language, queue, agent ids) are interned by `intern_conversation` so that 100k rows share them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum


class Channel(StrEnum):
    PHONE = "phone"
    CHAT = "chat"
    EMAIL = "email"
    CALLBACK = "callback"
    FORM = "form"
    SOCIAL = "social"

    @property
    def is_live(self) -> bool:
        """Phone and chat are answered at once; the rest wait in an inbox."""
        return self in LIVE_CHANNELS


LIVE_CHANNELS = frozenset({Channel.PHONE, Channel.CHAT})
# Written, threaded channels: one inbox, one composer with CC/BCC.
EMAIL_LIKE = frozenset({Channel.EMAIL, Channel.FORM, Channel.SOCIAL})


class State(StrEnum):
    """One flat set of states; which ones a channel may use is in `STATES_BY_CHANNEL`."""

    # phone
    RINGING = "ringing"
    QUEUED = "queued"
    CONNECTED = "connected"
    ON_HOLD = "on_hold"
    WRAP_UP = "wrap_up"
    ENDED = "ended"
    ABANDONED = "abandoned"
    # chat (ENDED is shared)
    WAITING = "waiting"
    ACTIVE = "active"
    # email, form, social
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    # callback
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    DIALLING = "dialling"
    DONE = "done"


STATES_BY_CHANNEL: dict[Channel, tuple[State, ...]] = {
    Channel.PHONE: (
        State.RINGING,
        State.QUEUED,
        State.CONNECTED,
        State.ON_HOLD,
        State.WRAP_UP,
        State.ENDED,
        State.ABANDONED,
    ),
    Channel.CHAT: (State.WAITING, State.ACTIVE, State.WRAP_UP, State.ENDED, State.ABANDONED),
    Channel.EMAIL: (State.NEW, State.OPEN, State.PENDING, State.SOLVED),
    Channel.FORM: (State.NEW, State.OPEN, State.PENDING, State.SOLVED),
    Channel.SOCIAL: (State.NEW, State.OPEN, State.PENDING, State.SOLVED),
    Channel.CALLBACK: (State.REQUESTED, State.SCHEDULED, State.DIALLING, State.DONE),
}

INITIAL_STATE: dict[Channel, State] = {
    Channel.PHONE: State.RINGING,
    Channel.CHAT: State.WAITING,
    Channel.EMAIL: State.NEW,
    Channel.FORM: State.NEW,
    Channel.SOCIAL: State.NEW,
    Channel.CALLBACK: State.REQUESTED,
}

# A conversation in one of these states needs no more work from anyone.
CLOSED_STATES = frozenset({State.ENDED, State.ABANDONED, State.SOLVED, State.DONE})
# Waiting for an agent to pick it up (nobody is on it yet).
WAITING_STATES = frozenset(
    {State.RINGING, State.QUEUED, State.WAITING, State.NEW, State.REQUESTED, State.SCHEDULED}
)


def state_allowed(channel: Channel, state: State) -> bool:
    return state in STATES_BY_CHANNEL[channel]


class Priority(IntEnum):
    LOW = 0
    NORMAL = 1
    HIGH = 2
    URGENT = 3


class Direction(StrEnum):
    INBOUND = "inbound"  # from the customer
    OUTBOUND = "outbound"  # to the customer
    NOTE = "note"  # internal, never shown to the customer
    SYSTEM = "system"  # call events, state changes, CSAT answers


class Seniority(IntEnum):
    NEW_HIRE = 0
    CONFIRMED = 1
    SENIOR = 2


class Presence(StrEnum):
    AVAILABLE = "available"
    BUSY = "busy"
    AWAY = "away"
    WRAP_UP = "wrap_up"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class Attachment:
    """Metadata only: content is fetched from the backend on demand, by `ref`."""

    filename: str
    content_type: str = "application/octet-stream"
    size: int = 0
    ref: str = ""


@dataclass(frozen=True, slots=True)
class EmailHeaders:
    """What an email reply needs to thread correctly in the customer's mail client."""

    message_id: str = ""
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    from_addr: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    conversation_id: str
    direction: Direction
    author: str
    body: str
    created_at: float
    attachments: tuple[Attachment, ...] = ()
    email: EmailHeaders | None = None
    # Parts of a received mail that could not be decoded as sent, one line each (the reader marks them;
    # their raw copies are among the attachments).
    undecodable: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    language: str = "en"
    email: str = ""
    phone: str = ""
    social_handle: str = ""
    country: str = ""


@dataclass(slots=True, eq=True)
class Conversation:
    """One contact with a customer on one channel. `id` is qualified by backend: `local:42`.

    Treated as immutable (change one with `evolve`, which copies) but not declared frozen: a frozen
    dataclass's `__init__` sets each of these 27 fields through `object.__setattr__`, eight times slower,
    and adapters build thousands per second under a flood. `__hash__` is kept, by id and version.
    """

    id: str
    channel: Channel
    state: State
    subject: str
    customer_id: str
    customer_name: str
    language: str
    created_at: float
    updated_at: float
    queue: str = "general"
    priority: Priority = Priority.NORMAL
    tags: tuple[str, ...] = ()
    assignee: str | None = None
    first_response_at: float | None = None
    last_customer_at: float | None = None
    answered_at: float | None = None
    closed_at: float | None = None
    sla_due_at: float | None = None
    snoozed_until: float | None = None
    # Callbacks: the number to call and the time the customer wished.
    callback_number: str = ""
    callback_at: float | None = None
    unread: int = 0
    muted: bool = False
    version: int = 0

    @property
    def backend(self) -> str:
        return self.id.partition(":")[0]

    @property
    def is_closed(self) -> bool:
        return self.state in CLOSED_STATES

    @property
    def is_waiting(self) -> bool:
        return self.state in WAITING_STATES

    def waited(self, now: float) -> float:
        """Seconds the customer has waited: until answered, or until now."""
        end = self.answered_at or self.closed_at or now
        return max(0.0, end - self.created_at)

    def evolve(self, **changes: object) -> Conversation:
        return replace(self, **changes)  # type: ignore[arg-type]

    def __hash__(self) -> int:
        return hash((self.id, self.version))


def intern_conversation(conversation: Conversation) -> Conversation:
    """Share the repeated short strings of a conversation with every other row (memory at 100k)."""
    assignee, tags = conversation.assignee, conversation.tags
    if (
        conversation.language is sys.intern(conversation.language)
        and conversation.queue is sys.intern(conversation.queue)
        and (assignee is None or assignee is sys.intern(assignee))
        and (not tags or all(t is sys.intern(t) for t in tags))
    ):
        return conversation  # already shared (the adapter interned it): no copy
    return replace(
        conversation,
        language=sys.intern(conversation.language),
        queue=sys.intern(conversation.queue),
        assignee=sys.intern(assignee) if assignee else None,
        tags=tuple(sys.intern(t) for t in conversation.tags),
    )


@dataclass(frozen=True, slots=True)
class Skills:
    """What an agent may be offered. `channels` maps a channel to a level (1 = basic, 3 = expert)."""

    channels: dict[Channel, int] = field(default_factory=dict)
    languages: tuple[str, ...] = ("en",)
    seniority: Seniority = Seniority.CONFIRMED

    def covers(self, channel: Channel, language: str) -> bool:
        return self.channels.get(channel, 0) > 0 and language in self.languages


DEFAULT_CAPACITY: dict[Channel, int] = {
    Channel.PHONE: 1,
    Channel.CHAT: 3,
    Channel.EMAIL: 10,
    Channel.CALLBACK: 1,
    Channel.FORM: 10,
    Channel.SOCIAL: 10,
}


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    skills: Skills = field(default_factory=Skills)
    presence: Presence = Presence.OFFLINE
    presence_reason: str = ""
    presence_since: float = 0.0
    capacity: dict[Channel, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    # What the agent has open right now and whether they are typing in it (collision detection).
    viewing: str | None = None
    typing_in: str | None = None
    last_seen: float = 0.0
    supervisor: bool = False


@dataclass(frozen=True, slots=True)
class Disposition:
    code: str
    label: str


DEFAULT_DISPOSITIONS: tuple[Disposition, ...] = (
    Disposition("resolved", "Resolved"),
    Disposition("order-info", "Order information given"),
    Disposition("refund", "Refund initiated"),
    Disposition("return", "Return arranged"),
    Disposition("escalated", "Escalated"),
    Disposition("callback", "Callback promised"),
    Disposition("no-answer", "No answer"),
    Disposition("wrong-number", "Wrong number"),
)


@dataclass(frozen=True, slots=True)
class WrapUpRecord:
    conversation_id: str
    agent_id: str
    disposition: str
    note: str
    at: float
    handle_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class CsatRecord:
    conversation_id: str
    channel: Channel
    score: int  # 1..5
    comment: str
    at: float
    agent_id: str | None = None
    customer_id: str = ""


# ---------------------------------------------------------------------------------------------- drafts
# What an agent typed and has not sent: kept by drafts.py until its reply is journalled.


class DraftKind(StrEnum):
    REPLY = "reply"
    REPLY_ALL = "reply_all"  # kept as such: it comes back as a reply to all, not a plain reply
    NOTE = "note"
    FORWARD = "forward"


@dataclass(frozen=True, slots=True)
class Draft:
    conversation_id: str
    body: str
    kind: DraftKind = DraftKind.REPLY
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    updated_at: float = 0.0
    key: str = ""  # the idempotency key of the reply it becomes
    attachments: tuple[Attachment, ...] = ()  # files on this machine: `ref` is the path

    @property
    def is_empty(self) -> bool:
        return not (
            self.body.strip() or self.to or self.cc or self.bcc or self.subject.strip() or self.attachments
        )
