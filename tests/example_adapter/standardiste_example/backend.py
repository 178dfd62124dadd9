"""`EchoChatBackend`: the adapter of the example chat service (service.py), as docs/adapters.md describes.

Small, but a whole adapter: declared settings (one of them a secret), capabilities, a snapshot, ordered
events for every change (this console's commands included), ids qualified with the workspace's name,
idempotent command keys, typed errors, and a link that can drop (the hub reconnects).

    [workspaces.demo]
    backend = "example"
    brand = "Shop"        # which service: one per brand
    customers = 2         # chats already waiting the first time the service is reached
    answer_after = 1.5    # seconds before a customer answers a reply

and `standardiste login demo` stores its `token`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, TypeVar

from standardiste.backends.base import (
    Accept,
    Backend,
    BackendContext,
    Capabilities,
    Claim,
    Command,
    CommandKind,
    CommandResult,
    Conflict,
    ConversationUpserted,
    EndChat,
    Event,
    Invalid,
    MessageAdded,
    Note,
    NotFound,
    Release,
    Reply,
    Snapshot,
    Tags,
    Unavailable,
    qualify,
    split_id,
)
from standardiste.backends.settings import REQUIRED, Setting, read_settings, secret_name
from standardiste.console.core.model import Channel, Conversation, Customer, Direction, Message, State

from .service import Change, Chat, EchoService, Line, Refused, ServiceDown

T = TypeVar("T")
STATES = {"waiting": State.WAITING, "active": State.ACTIVE, "ended": State.ENDED}
DIRECTIONS = {"customer": Direction.INBOUND, "agent": Direction.OUTBOUND, "note": Direction.NOTE}
QUESTIONS = ("My parcel has not arrived.", "I was charged twice.", "How do I change my address?")
NAMES = ("Ada Lovelace", "Alan Turing", "Grace Hopper")


class EchoChatBackend(Backend):
    capabilities = Capabilities(
        channels=frozenset({Channel.CHAT}),
        commands=frozenset(
            {
                CommandKind.REPLY,
                CommandKind.NOTE,
                CommandKind.CLAIM,
                CommandKind.ACCEPT,
                CommandKind.RELEASE,
                CommandKind.END_CHAT,
                CommandKind.TAGS,
            }
        ),
    )
    settings = (
        Setting("brand", str, REQUIRED, help="the shop the customers write to"),
        Setting("token", secret=True, help="the key of the chat service"),
        Setting("customers", int, 3, help="chats already waiting the first time the service is reached"),
        Setting("answer_after", float, 1.0, positive=True, help="seconds before a customer answers"),
        Setting("queue", str, "chat", help="the queue its chats are routed to"),
        Setting("language", str, "en", choices=("en", "fr", "de"), help="the customers' language"),
    )

    def __init__(
        self,
        name: str,
        service: EchoService,
        *,
        agent_id: str,
        token: Callable[[], str],
        queue: str = "chat",
        language: str = "en",
    ) -> None:
        self.name = name
        self.service = service
        self.agent_id = agent_id
        self._token = token
        self._queue_name = queue
        self._language = language
        self._changes: asyncio.Queue[list[Change] | ServiceDown] | None = None

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: BackendContext) -> EchoChatBackend:
        values = read_settings(cls.settings, name, settings)
        if values["customers"] < 0:
            raise Invalid(f"[workspaces.{name}] customers: expected 0 or more, got {values['customers']}")
        service = EchoService.of(values["brand"], answer_after=values["answer_after"])
        if not service.chats:
            for n in range(values["customers"]):
                service.open_chat(
                    NAMES[n % len(NAMES)], f"Chat with {service.brand}", QUESTIONS[n % len(QUESTIONS)]
                )
        return cls(
            name,
            service,
            agent_id=context.agent_id,
            # Asked for at connect, so a missing token is an AuthError the console shows, not a crash at start.
            token=lambda: context.secret(secret_name(name, cls.settings, "token")),
            queue=values["queue"],
            language=values["language"],
        )

    @property
    def workspace_id(self) -> str:
        # One service per brand: a reply queued for this brand's customers is never sent to another's.
        return f"example:{self.service.brand}"

    # ------------------------------------------------------------------------------------------ lifecycle

    async def connect(self) -> None:
        self._token()  # raises AuthError when none is stored
        self._changes = self._call(self.service.subscribe)

    async def close(self) -> None:
        if self._changes is not None:
            self.service.unsubscribe(self._changes)
            self._changes.put_nowait([])  # wakes a reader; `events()` ends on the closed link
            self._changes = None

    async def snapshot(self) -> Snapshot:
        self._link()
        chats = self._call(self.service.all_chats)
        return Snapshot(
            conversations=[self._conversation(chat) for chat in chats],
            customers=list({c.id: c for c in map(self._customer, chats)}.values()),
            me=self.agent_id,
        )

    async def events(self) -> AsyncIterator[Sequence[Event]]:
        changes = self._link()
        while True:
            item = await changes.get()
            if isinstance(item, ServiceDown):
                raise Unavailable(str(item))  # the hub closes, waits, connects and snapshots again
            if self._changes is not changes:
                return  # closed
            batch: list[Event] = []
            for chat, line in item:
                # The message before the conversation it changed, so the row's counts include it.
                if line is not None:
                    batch.append(MessageAdded(self._message(line)))
                batch.append(ConversationUpserted(self._conversation(chat)))
            yield batch

    async def history(self, conversation_id: str) -> list[Message]:
        number = self._number(conversation_id)
        return [self._message(line) for line in self._call(lambda: self.service.read(number))]

    async def customer(self, customer_id: str) -> Customer | None:
        chats = [chat for chat in self.service.chats.values() if self._customer(chat).id == customer_id]
        return self._customer(chats[0]) if chats else None

    # ------------------------------------------------------------------------------------------ commands

    async def perform(self, command: Command) -> CommandResult:
        self.require(command)
        self._link()
        number = self._number(command.conversation_id)
        who = command.agent_id or self.agent_id
        service = self.service
        if isinstance(command, Reply | Note):
            sender = "agent" if isinstance(command, Reply) else "note"
            line = self._call(
                lambda: service.once(command.key, lambda: service.post(number, sender, who, command.body))
            )
            return CommandResult(
                conversation=self._conversation(service.chats[number]), message=self._message(line)
            )
        if isinstance(command, Claim | Accept):
            force = isinstance(command, Claim) and command.force
            chat = self._call(lambda: service.once(command.key, lambda: service.take(number, who, force)))
        elif isinstance(command, Release):
            chat = self._call(lambda: service.once(command.key, lambda: service.release(number)))
        elif isinstance(command, EndChat):
            chat = self._call(lambda: service.once(command.key, lambda: service.end(number)))
        elif isinstance(command, Tags):
            chat = self._call(
                lambda: service.once(command.key, lambda: service.tag(number, command.add, command.remove))
            )
        else:  # declared in `capabilities` but not handled here: this adapter's bug, said plainly
            raise Invalid(f"{self.name} cannot {command.kind.value} yet")
        return CommandResult(conversation=self._conversation(chat))

    # ------------------------------------------------------------------------------------------ mapping

    def _conversation(self, chat: Chat) -> Conversation:
        return Conversation(
            id=qualify(self.name, chat.number),
            channel=Channel.CHAT,
            state=STATES[chat.state],
            subject=chat.subject,
            customer_id=self._customer(chat).id,
            customer_name=chat.customer,
            language=self._language,
            created_at=chat.created,
            updated_at=chat.updated,
            queue=self._queue_name,
            tags=chat.tags,
            assignee=chat.agent,
            first_response_at=chat.first_reply,
            last_customer_at=chat.last_customer,
            answered_at=chat.answered,
            closed_at=chat.updated if chat.state == "ended" else None,
            version=chat.revision,
        )

    def _customer(self, chat: Chat) -> Customer:
        return Customer(
            id=qualify(self.name, f"customer/{chat.customer}"), name=chat.customer, language=self._language
        )

    def _message(self, line: Line) -> Message:
        return Message(
            id=qualify(self.name, f"{line.chat}/{line.number}"),
            conversation_id=qualify(self.name, line.chat),
            direction=DIRECTIONS[line.sender],
            author=line.author,
            body=line.text,
            created_at=line.at,
        )

    # ------------------------------------------------------------------------------------------ plumbing

    def _link(self) -> asyncio.Queue[list[Change] | ServiceDown]:
        if self._changes is None:
            raise Unavailable(f"{self.name} is not connected")
        return self._changes

    def _number(self, conversation_id: str) -> int:
        backend, native = split_id(conversation_id)  # Invalid when it is not a qualified id
        if backend != self.name or not native.isdigit() or int(native) not in self.service.chats:
            raise NotFound(f"no chat {conversation_id} on {self.name}")
        return int(native)

    def _call(self, do: Callable[[], T]) -> T:
        """A call to the service, its errors made typed ones."""
        try:
            return do()
        except ServiceDown as error:
            raise Unavailable(str(error)) from None
        except Refused as error:
            raise Conflict(str(error), owner=error.owner) from None
        except KeyError as error:
            raise NotFound(f"no chat {error} on {self.name}") from None
