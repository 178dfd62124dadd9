"""The system the example adapter talks to: a chat service living in memory, with simulated customers.

It stands where a real adapter has a remote server: it knows nothing of standardiste's model or of backend
names (its ids are plain numbers), it keeps its state whoever is connected, it tells every connected client
about every change, it remembers the idempotency keys of what it was asked to do, and it can be down.
Its customers answer each agent reply after `answer_after` seconds, from a short script.

One service per brand in a process (`EchoService.of`), as one server per host name.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import ClassVar, TypeVar

T = TypeVar("T")
# What a customer says to each reply, in turn; after the last one they keep thanking.
ANSWERS = ("Thanks. How long will it take?", "OK, that works for me.", "Great, thank you!")


class ServiceDown(ConnectionError):
    """The service cannot be reached (the adapter turns it into `Unavailable`)."""


class Refused(ValueError):
    """The service will not do that in the chat's state (the adapter turns it into `Conflict`)."""

    def __init__(self, message: str, owner: str | None = None) -> None:
        super().__init__(message)
        self.owner = owner


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    chat: int
    sender: str  # "customer", "agent" or "note"
    author: str
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class Chat:
    number: int
    customer: str
    subject: str
    state: str  # "waiting", "active" or "ended"
    agent: str | None
    tags: tuple[str, ...]
    created: float
    updated: float
    revision: int
    answered: float | None = None
    first_reply: float | None = None
    last_customer: float | None = None


# What subscribers receive: the chat as it now is, with the line that changed it, if any.
Change = tuple[Chat, Line | None]


@dataclass
class EchoService:
    brand: str
    answer_after: float = 1.0
    down: bool = False
    chats: dict[int, Chat] = field(default_factory=dict)
    lines: dict[int, list[Line]] = field(default_factory=dict)
    keys: dict[str, object] = field(default_factory=dict)  # idempotency key -> what it returned
    _subscribers: list[asyncio.Queue[list[Change] | ServiceDown]] = field(default_factory=list)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _answers: set[asyncio.Task[None]] = field(default_factory=set)

    _by_brand: ClassVar[dict[str, EchoService]] = {}

    @classmethod
    def of(cls, brand: str, answer_after: float = 1.0) -> EchoService:
        """The service of `brand` in this process, made on first use."""
        if brand not in cls._by_brand:
            cls._by_brand[brand] = cls(brand, answer_after=answer_after)
        return cls._by_brand[brand]

    # ------------------------------------------------------------------------------------------ clients

    def subscribe(self) -> asyncio.Queue[list[Change] | ServiceDown]:
        self.reachable()
        queue: asyncio.Queue[list[Change] | ServiceDown] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[list[Change] | ServiceDown]) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    def set_down(self, down: bool) -> None:
        """An outage: every client is cut off; customers still write (their messages wait on the service)."""
        self.down = down
        if down:
            for queue in self._subscribers:
                queue.put_nowait(ServiceDown(f"the {self.brand} chat service went away"))
            self._subscribers.clear()

    def reachable(self) -> None:
        if self.down:
            raise ServiceDown(f"cannot reach the {self.brand} chat service")

    def all_chats(self) -> list[Chat]:
        self.reachable()
        return list(self.chats.values())

    def read(self, number: int) -> list[Line]:
        self.reachable()
        return list(self.lines[number])

    def _publish(self, chat: Chat, line: Line | None = None) -> None:
        for queue in self._subscribers:
            queue.put_nowait([(chat, line)])

    # ------------------------------------------------------------------------------------------ customers

    def open_chat(self, customer: str, subject: str, text: str) -> Chat:
        """A customer starts a chat with its first message."""
        now = time.time()
        number = next(self._numbers)
        chat = Chat(number, customer, subject, "waiting", None, (), now, now, 1, last_customer=now)
        self.chats[number] = chat
        self.lines[number] = []
        return self._write(chat, "customer", customer, text)

    def customer_writes(self, number: int, text: str) -> Chat:
        chat = self.chats[number]
        return self._write(replace(chat, last_customer=time.time()), "customer", chat.customer, text)

    async def _answer(self, number: int) -> None:
        await asyncio.sleep(self.answer_after)
        chat = self.chats[number]
        if chat.state != "ended":
            said = sum(line.sender == "customer" for line in self.lines[number]) - 1
            self.customer_writes(number, ANSWERS[min(said, len(ANSWERS) - 1)])

    # ------------------------------------------------------------------------------------------ agents

    def once(self, key: str, do: Callable[[], T]) -> T:
        """`do()` the first time `key` comes; its first result every other time (an empty key: always)."""
        self.reachable()
        if key and key in self.keys:
            return self.keys[key]  # type: ignore[return-value]
        result = do()
        if key:
            self.keys[key] = result
        return result

    def post(self, number: int, sender: str, author: str, text: str) -> Line:
        chat = self._open(number, allow_ended=sender == "note")
        if sender == "agent":
            chat = replace(chat, first_reply=chat.first_reply or time.time())
            task = asyncio.get_running_loop().create_task(self._answer(number))
            self._answers.add(task)
            task.add_done_callback(self._answers.discard)
        self._write(chat, sender, author, text)
        return self.lines[number][-1]

    def take(self, number: int, agent: str, force: bool = False) -> Chat:
        chat = self._open(number)
        if chat.agent not in (None, agent) and not force:
            raise Refused(f"{chat.agent} already has this chat", owner=chat.agent)
        return self._change(chat, state="active", agent=agent, answered=chat.answered or time.time())

    def release(self, number: int) -> Chat:
        return self._change(self._open(number), state="waiting", agent=None)

    def end(self, number: int) -> Chat:
        return self._change(self._open(number), state="ended")

    def tag(self, number: int, add: tuple[str, ...], remove: tuple[str, ...]) -> Chat:
        chat = self._open(number, allow_ended=True)
        tags = [t for t in chat.tags if t not in remove]
        return self._change(chat, tags=(*tags, *(t for t in add if t not in tags)))

    # ------------------------------------------------------------------------------------------ plumbing

    def _open(self, number: int, allow_ended: bool = False) -> Chat:
        self.reachable()
        chat = self.chats.get(number)
        if chat is None:
            raise KeyError(number)
        if chat.state == "ended" and not allow_ended:
            raise Refused(f"chat {number} has ended")
        return chat

    def _change(self, chat: Chat, **changes: object) -> Chat:
        chat = replace(chat, updated=time.time(), revision=chat.revision + 1, **changes)  # type: ignore[arg-type]
        self.chats[chat.number] = chat
        self._publish(chat)
        return chat

    def _write(self, chat: Chat, sender: str, author: str, text: str) -> Chat:
        now = time.time()
        line = Line(len(self.lines[chat.number]) + 1, chat.number, sender, author, text, now)
        self.lines[chat.number].append(line)
        chat = replace(chat, updated=now, revision=chat.revision + 1)
        self.chats[chat.number] = chat
        self._publish(chat, line)
        return chat

    async def stop(self) -> None:
        """Cancel the customers' pending answers (a test ends)."""
        for task in list(self._answers):
            task.cancel()
        await asyncio.gather(*self._answers, return_exceptions=True)
