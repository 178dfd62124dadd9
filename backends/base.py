"""The backend contract: what every adapter offers the console, and what it may refuse.

An adapter is async. It declares `capabilities` (channels served, commands supported); the UI offers only
those and says so when a command is not supported. `connect()` then `snapshot()` give the current queue,
agents and customers; `events()` is an async stream of batches of typed events; `history()` loads a
conversation's messages lazily; `perform(command)` returns a `CommandResult` or raises a typed
`BackendError`. Conversation ids are qualified by backend name (`local:42`, `chatwoot:123`).

How the real systems map onto it:

- **local** (embedded SQLite workspace): everything is native. Events come from a change-log table polled
  by sequence number, so several processes on one file see each other's changes.
- **IMAP/SMTP**: email channel only. snapshot = SEARCH/FETCH of the inbox; events = IDLE (polling when the
  server lacks it), resumed by UIDVALIDITY/UIDNEXT (CONDSTORE's MODSEQ where offered); history = the
  thread gathered by Message-ID/In-Reply-To/References; reply = SMTP submission plus APPEND to Sent.
  Status, assignee and tags have no IMAP equivalent: kept as keywords where the server allows, else in a
  local table; notes are always local.
- **Chatwoot**: chat, email, social (inboxes). snapshot = REST `conversations` list; events = ActionCable
  websocket (`message.created`, `conversation.status_changed`, `typing_on`...); reply/note = REST messages
  with `private`; assign/status/labels = REST; presence = `availability` of the agent.
- **Asterisk ARI**: phone only. snapshot = REST `channels` and queue state; events = the ARI websocket
  (`StasisStart`, `ChannelStateChange`, `ChannelHangupRequest`...); accept/hold/transfer/hang up = REST on
  channels and bridges; wrap-up, disposition and notes are local (Asterisk has none).
- **Zendesk**: email, form, social, chat (tickets). snapshot = search of open tickets; events = incremental
  ticket export by cursor, polled (no push for agents); reply/note = ticket comments `public: true/false`;
  status, priority, tags, assignee = ticket update; conflicts surface as HTTP 409 -> `Conflict`.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

from ..console.core.model import (
    Agent,
    Attachment,
    Channel,
    Conversation,
    CsatRecord,
    Customer,
    Message,
    Presence,
    Priority,
    Skills,
    State,
    WrapUpRecord,
)

ENTRY_POINT_GROUP = "standardiste.backends"


# ---------------------------------------------------------------------------------------------- commands


class CommandKind(StrEnum):
    REPLY = "reply"
    NOTE = "note"
    CLAIM = "claim"
    ASSIGN = "assign"
    RELEASE = "release"
    TRANSFER = "transfer"
    ACCEPT = "accept"
    HOLD = "hold"
    RESUME = "resume"
    MUTE = "mute"
    HANG_UP = "hang_up"
    END_CHAT = "end_chat"
    WRAP_UP = "wrap_up"
    SET_STATUS = "set_status"
    SET_PRIORITY = "set_priority"
    TAGS = "tags"
    SNOOZE = "snooze"
    PRESENCE = "presence"
    SET_SKILLS = "set_skills"
    SCHEDULE_CALLBACK = "schedule_callback"
    PLACE_CALLBACK = "place_callback"
    CALLBACK_OUTCOME = "callback_outcome"
    CSAT = "csat"
    REQUEST_CSAT = "request_csat"
    TYPING = "typing"
    VIEWING = "viewing"
    MERGE = "merge"


@dataclass(frozen=True, kw_only=True)
class Command:
    """A request to the backend. `key` makes it idempotent: the outbox retries with the same key."""

    kind: ClassVar[CommandKind]
    conversation_id: str = ""
    agent_id: str = ""
    key: str = ""


@dataclass(frozen=True, kw_only=True)
class Reply(Command):
    kind: ClassVar[CommandKind] = CommandKind.REPLY
    body: str
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    attachments: tuple[Attachment, ...] = ()
    forward: bool = False
    reply_all: bool = False


@dataclass(frozen=True, kw_only=True)
class Note(Command):
    kind: ClassVar[CommandKind] = CommandKind.NOTE
    body: str


@dataclass(frozen=True, kw_only=True)
class Claim(Command):
    """Take an unowned conversation; fails with `Conflict` if someone owns it (unless `force`)."""

    kind: ClassVar[CommandKind] = CommandKind.CLAIM
    force: bool = False


@dataclass(frozen=True, kw_only=True)
class Assign(Command):
    kind: ClassVar[CommandKind] = CommandKind.ASSIGN
    assignee: str | None


@dataclass(frozen=True, kw_only=True)
class Release(Command):
    kind: ClassVar[CommandKind] = CommandKind.RELEASE


@dataclass(frozen=True, kw_only=True)
class Transfer(Command):
    kind: ClassVar[CommandKind] = CommandKind.TRANSFER
    to_agent: str | None = None
    to_queue: str | None = None
    warm: bool = False


@dataclass(frozen=True, kw_only=True)
class Accept(Command):
    """Answer a ringing call or a waiting chat (claims it as well)."""

    kind: ClassVar[CommandKind] = CommandKind.ACCEPT


@dataclass(frozen=True, kw_only=True)
class Hold(Command):
    kind: ClassVar[CommandKind] = CommandKind.HOLD


@dataclass(frozen=True, kw_only=True)
class Resume(Command):
    kind: ClassVar[CommandKind] = CommandKind.RESUME


@dataclass(frozen=True, kw_only=True)
class Mute(Command):
    kind: ClassVar[CommandKind] = CommandKind.MUTE
    muted: bool = True


@dataclass(frozen=True, kw_only=True)
class HangUp(Command):
    kind: ClassVar[CommandKind] = CommandKind.HANG_UP


@dataclass(frozen=True, kw_only=True)
class EndChat(Command):
    kind: ClassVar[CommandKind] = CommandKind.END_CHAT


@dataclass(frozen=True, kw_only=True)
class WrapUp(Command):
    kind: ClassVar[CommandKind] = CommandKind.WRAP_UP
    disposition: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class SetStatus(Command):
    kind: ClassVar[CommandKind] = CommandKind.SET_STATUS
    state: State


@dataclass(frozen=True, kw_only=True)
class SetPriority(Command):
    kind: ClassVar[CommandKind] = CommandKind.SET_PRIORITY
    priority: Priority


@dataclass(frozen=True, kw_only=True)
class Tags(Command):
    kind: ClassVar[CommandKind] = CommandKind.TAGS
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Snooze(Command):
    kind: ClassVar[CommandKind] = CommandKind.SNOOZE
    until: float | None  # None wakes it


@dataclass(frozen=True, kw_only=True)
class SetPresence(Command):
    kind: ClassVar[CommandKind] = CommandKind.PRESENCE
    presence: Presence
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class SetSkills(Command):
    kind: ClassVar[CommandKind] = CommandKind.SET_SKILLS
    skills: Skills
    capacity: dict[Channel, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ScheduleCallback(Command):
    kind: ClassVar[CommandKind] = CommandKind.SCHEDULE_CALLBACK
    at: float


@dataclass(frozen=True, kw_only=True)
class PlaceCallback(Command):
    """Dial a callback: the backend creates a phone conversation linked to it."""

    kind: ClassVar[CommandKind] = CommandKind.PLACE_CALLBACK


@dataclass(frozen=True, kw_only=True)
class CallbackOutcome(Command):
    kind: ClassVar[CommandKind] = CommandKind.CALLBACK_OUTCOME
    reached: bool
    note: str = ""
    retry_at: float | None = None


@dataclass(frozen=True, kw_only=True)
class RecordCsat(Command):
    kind: ClassVar[CommandKind] = CommandKind.CSAT
    score: int
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class RequestCsat(Command):
    """Send the satisfaction survey to the customer (the answer comes back as `CsatRecorded`)."""

    kind: ClassVar[CommandKind] = CommandKind.REQUEST_CSAT


@dataclass(frozen=True, kw_only=True)
class Typing(Command):
    kind: ClassVar[CommandKind] = CommandKind.TYPING
    typing: bool = True


@dataclass(frozen=True, kw_only=True)
class Viewing(Command):
    """Say which conversation this agent has open (None: none), for collision warnings."""

    kind: ClassVar[CommandKind] = CommandKind.VIEWING


@dataclass(frozen=True, kw_only=True)
class Merge(Command):
    """Fold `other_id` into `conversation_id` (same customer)."""

    kind: ClassVar[CommandKind] = CommandKind.MERGE
    other_id: str


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What the backend confirmed. `conversation` is the new state when the command changed one."""

    ok: bool = True
    conversation: Conversation | None = None
    message: Message | None = None
    detail: str = ""


# ---------------------------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Event:
    pass


@dataclass(frozen=True, slots=True)
class ConversationUpserted(Event):
    conversation: Conversation


@dataclass(frozen=True, slots=True)
class ConversationRemoved(Event):
    conversation_id: str


@dataclass(frozen=True, slots=True)
class MessageAdded(Event):
    message: Message


@dataclass(frozen=True, slots=True)
class TypingChanged(Event):
    conversation_id: str
    who: str  # "customer" or an agent id
    typing: bool


@dataclass(frozen=True, slots=True)
class AgentUpdated(Event):
    agent: Agent


@dataclass(frozen=True, slots=True)
class CustomerUpdated(Event):
    customer: Customer


@dataclass(frozen=True, slots=True)
class CsatRecorded(Event):
    record: CsatRecord


@dataclass(frozen=True, slots=True)
class WrappedUp(Event):
    record: WrapUpRecord


@dataclass(frozen=True, slots=True)
class SnapshotLoaded(Event):
    """A backend's whole current state, after (re)connecting: one event, not one per conversation."""

    backend: str
    snapshot: Snapshot


class LinkState(StrEnum):
    CONNECTED = "connected"
    CONNECTING = "connecting"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class BackendStatus(Event):
    """The adapter's own link state, so the console can say 'cannot reach X, retrying in 8 s'."""

    backend: str
    state: LinkState
    detail: str = ""
    retry_in: float | None = None


# ---------------------------------------------------------------------------------------------- errors


class BackendError(Exception):
    """Base of every typed error. Messages never carry credentials."""

    retryable: ClassVar[bool] = False


class AuthError(BackendError):
    pass


class NotFound(BackendError):
    pass


class Conflict(BackendError):
    """Someone else took it. `owner` names them when the backend knows."""

    def __init__(self, message: str, owner: str | None = None) -> None:
        super().__init__(message)
        self.owner = owner


class RateLimited(BackendError):
    retryable = True

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(BackendError):
    """Network or server down: worth retrying with backoff."""

    retryable = True


class TlsError(Unavailable):
    """The TLS handshake failed or the certificate did not verify: a configuration problem, not an outage,
    so retrying will not heal it."""

    retryable = False


class Invalid(BackendError):
    pass


class Unsupported(BackendError):
    """This backend cannot do that command (the UI should not have offered it)."""


# ---------------------------------------------------------------------------------------------- contract


@dataclass(frozen=True, slots=True)
class Capabilities:
    channels: frozenset[Channel]
    commands: frozenset[CommandKind]

    def supports(self, kind: CommandKind) -> bool:
        return kind in self.commands


@dataclass(slots=True)
class Snapshot:
    conversations: Sequence[Conversation] = ()
    agents: Sequence[Agent] = ()
    customers: Sequence[Customer] = ()
    me: str | None = None  # the agent id this console acts as on that backend
    # Recent records, so that figures computed in the console (AHT, CSAT) do not start from zero.
    csat: Sequence[CsatRecord] = ()
    wrapups: Sequence[WrapUpRecord] = ()


@dataclass(frozen=True, slots=True)
class BackendContext:
    """What the console gives an adapter it builds from the config file."""

    agent_id: str
    data_dir: Path  # where an adapter may keep local tables (e.g. IMAP's assignee/notes)
    # Looks up a secret stored by `standardiste login <workspace>`; raises AuthError with a plain message
    # (no keyring service, nothing stored) instead of returning nothing.
    secret: Callable[[str], str]


class Backend(abc.ABC):
    """One adapter instance: one connection to one system, with a name used to qualify ids."""

    name: str
    capabilities: Capabilities

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: BackendContext) -> Backend:
        """Build from a `[workspaces.NAME]` table of the config file. `name` qualifies conversation ids."""
        raise Invalid(f"{cls.__name__} cannot be configured from a file")

    @abc.abstractmethod
    async def connect(self) -> None:
        """Open connections; raise AuthError or Unavailable."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def snapshot(self) -> Snapshot: ...

    @abc.abstractmethod
    def events(self) -> AsyncIterator[Sequence[Event]]:
        """Batches of events, in order, until closed. Reconnects are the adapter's own business."""

    @abc.abstractmethod
    async def history(self, conversation_id: str) -> list[Message]: ...

    @abc.abstractmethod
    async def perform(self, command: Command) -> CommandResult:
        """Carry out a command; raise a `BackendError` subclass on failure."""

    @property
    def workspace_id(self) -> str:
        """The identity of the workspace this instance talks to, stable across restarts and processes.

        `name` is only a prefix: two files or two mailboxes can both be called "local". The outbox journals
        each write with this identity and delivers it only to a backend giving the same identity, so a reply
        queued for one workspace never reaches another's customer. "" means not known (yet, before
        `connect`, or ever): nothing is then journalled for this backend. Adapters override it.
        """
        return ""

    async def customer(self, customer_id: str) -> Customer | None:
        """One customer, loaded when a conversation of theirs is opened (snapshots need not carry them all)."""
        return None

    async def customer_history(self, customer_id: str) -> list[Conversation]:
        """Every conversation of this customer on this backend, newest first."""
        return []

    async def attachment(self, conversation_id: str, attachment: Attachment) -> bytes:
        raise Unsupported(f"{self.name} cannot fetch attachments")

    def require(self, command: Command) -> None:
        if not self.capabilities.supports(command.kind):
            raise Unsupported(f"{self.name} does not support {command.kind.value}")


# ---------------------------------------------------------------------------------------------- discovery


def available_backends() -> dict[str, EntryPoint]:
    """Installed adapters by name, from entry points, without importing any of them."""
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_backend_class(name: str) -> type[Backend]:
    found = available_backends()
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise Invalid(f"no backend named {name!r} is installed (installed: {known})")
    cls = found[name].load()
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise Invalid(f"entry point {name!r} does not name a Backend class")
    return cls
