"""The backend contract: what every adapter offers the console, and what it may refuse.

An adapter is async. It declares `capabilities` (channels served, commands it carries out); the console
offers only those, and `perform` raises `Unsupported` for every other kind. `connect()` then `snapshot()`
give the current queue, agents and customers; `events()` is an async stream of batches of typed events;
`history()` loads a conversation's messages lazily; `perform(command)` returns a `CommandResult` or raises
a typed `BackendError`, never a bare exception.

The rules every adapter keeps (checked by the contract kit, `backends/testing.py`, which each adapter's test
module runs against the real system):

- **Ids** are qualified by the backend's name: `qualify(name, native)` is `name:native`, `split_id` takes it
  apart. An id of another backend or an unqualified one names nothing here: `NotFound` or `Invalid`.
- **The store changes only through events.** A `perform` that changes state is followed, in `events()`, by
  the events that show the new state (`ConversationUpserted`, `MessageAdded`, `AgentUpdated`,
  `CsatRecorded`, `WrappedUp`...), from this console's command as from anyone else's change.
- **A command's `key` is applied once**, also when it comes again after a reconnect or a console restart.
- **Reconnecting** is shared: the hub (`console/core/hub.py`) closes a backend whose `connect` fails or whose
  `events()` raises, retries with backoff, then takes a new snapshot, which replaces what the console held
  for that backend: what the snapshot no longer has is dropped (console/core/store.py). An adapter may ride
  out short drops inside `events()` itself, resuming from its own cursor without loss or duplicates (IMAP
  does).

Each adapter documents how its system maps onto this in its own package docstring (`backends/local`,
`backends/imap`, and docs/email.md for the latter).
"""

from __future__ import annotations

import abc
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from .setting import Setting

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
# The tones a `SendDtmf` may carry (the console checks them before sending, the adapter again).
DTMF_DIGITS = re.compile(r"[0-9*#A-Da-dwW]{1,40}")


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
    SEND_DTMF = "send_dtmf"


@dataclass(frozen=True, kw_only=True)
class Command:
    """A request to the backend.

    `key` makes it idempotent: the outbox retries with the same key. A command whose non-empty key the
    backend has already applied is not applied again: `perform` returns the recorded result (or one that
    says "already done"). This holds after a reconnect and after a console restart, durably where the system
    allows: the local workspace keeps keys in its `commands` table, in the command's own transaction; IMAP
    keeps replies in its journal and notes under their key in its local file. An empty key is never
    de-duplicated.
    """

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


@dataclass(frozen=True, kw_only=True)
class SendDtmf(Command):
    """Tones on a live call, as if keyed on the agent's phone (an IVR menu, a PIN): 0-9 * # A-D, `w` a 0.5 s
    pause, `W` 1 s. `DTMF_DIGITS` is what an adapter accepts; it refuses anything else with `Invalid`."""

    kind: ClassVar[CommandKind] = CommandKind.SEND_DTMF
    digits: str


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What the backend confirmed, for the caller's own use: the outbox's detail line, logs and tests.

    The console never applies `conversation` or `message` to its store: they are what the backend saw
    when the command was done (the new state of the conversation it changed, the message it added). The
    store changes through the events that follow in `events()`, so every console of the workspace, this
    one included, sees the change the same way and in the same order.
    """

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


@dataclass(frozen=True, slots=True)
class HeadLoaded(Event):
    """The first rows of a backend's queue (the optional `QueueHead`), read before its snapshot. `complete`:
    the head holds every open conversation. The snapshot that follows replaces it."""

    backend: str
    snapshot: Snapshot
    complete: bool


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


# ---------------------------------------------------------------------------------------------- ids


def qualify(backend_name: str, native_id: str | int) -> str:
    """`qualify("local", 42)` is `"local:42"`: the id the console knows a conversation by."""
    return f"{backend_name}:{native_id}"


def split_id(conversation_id: str) -> tuple[str, str]:
    """`"local:42"` -> `("local", "42")`. The native part may hold colons itself; the name may not.

    Raises `Invalid` on an id without a backend name or without a native part."""
    name, sep, native = conversation_id.partition(":")
    if not sep or not name or not native:
        raise Invalid(f"{conversation_id!r} is not a qualified id (backend:id)")
    return name, native


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
    # The agent from the config's [profile] (skills, languages, capacity), for a backend that registers the
    # agent itself (the local workspace); None: the backend's own record of the agent stands.
    agent: Agent | None = None


class Backend(abc.ABC):
    """One adapter instance: one connection to one system, with a name used to qualify ids.

    Life cycle, as the hub drives it: `connect`, `snapshot`, then `events` until it ends or raises. When
    `connect` fails or `events` raises (a `BackendError` or `OSError`), the hub calls `close`, waits
    (backoff with jitter), and starts again with `connect` and a fresh `snapshot`. So an adapter need not
    reconnect by itself; it may, to ride out short drops inside `events` (see there). `close` may be called
    at any point, more than once, and `connect` must work again after it.
    """

    name: str
    capabilities: Capabilities
    # The keys of its `[workspaces.NAME]` table (backends/settings.py reads and checks them).
    settings: ClassVar[tuple[Setting, ...]] = ()

    @classmethod
    def secrets_for(cls, table: Mapping[str, Any]) -> list[Setting]:
        """The secrets `standardiste login` asks for, for this table: every secret setting declared, unless
        an adapter's secrets depend on the table (the local workspace needs a password only on PostgreSQL)."""
        return [setting for setting in cls.settings if setting.secret]

    @classmethod
    @abc.abstractmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: BackendContext) -> Backend:
        """Build from a `[workspaces.NAME]` table of the config file. `name` qualifies conversation ids.

        Every adapter has one: it is how the console builds it (`__main__`, through the entry point). Raises
        `Invalid` (a plain message naming the key) for a table it cannot use."""

    @abc.abstractmethod
    async def connect(self) -> None:
        """Open connections; raise AuthError or Unavailable."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def snapshot(self) -> Snapshot: ...

    @abc.abstractmethod
    def events(self) -> AsyncIterator[Sequence[Event]]:
        """Batches of events, in order, from the state `snapshot` returned, until `close`.

        The stream ends only when the backend is closed. A lost connection raises (`Unavailable`, or another
        `BackendError`/`OSError`): the hub then closes, reconnects and snapshots again, so nothing is lost
        as long as the new snapshot is whole. An adapter may instead ride out a short drop here, reporting it
        with `BackendStatus` events, if it resumes from its own cursor (a change-log sequence, a UIDNEXT)
        so that what happened meanwhile arrives once: not lost, not announced twice.

        What this console changes with `perform` comes here too, as for any other change.
        """

    @abc.abstractmethod
    async def history(self, conversation_id: str) -> list[Message]:
        """The conversation's messages, oldest first. Raises `NotFound` for a conversation not known here."""

    @abc.abstractmethod
    async def perform(self, command: Command) -> CommandResult:
        """Carry out a command, or raise a `BackendError` subclass, never a bare exception.

        - A kind not in `capabilities.commands` raises `Unsupported`; every declared kind is carried out
          for a conversation in a fitting state (it may raise `Conflict` or `Invalid` for a state reason).
        - A conversation id that names nothing here raises `NotFound` (`Invalid` if it is malformed).
        - A command with a key already applied returns the recorded result and changes nothing (`Command`).
        - A change it makes is confirmed by events in `events()` within seconds; the result is not applied
          by the console (`CommandResult`).
        """

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
