"""Macros themselves: what the console knows (`MacroContext`), a `Macro` rendered with those values in one
sanitised pass, and the backend commands it makes, in sending order. The overview is in macros.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ...backends.base import Command, Reply, SetPriority, SetStatus, Tags
from .closing import WORKING_STATE, closing_commands
from .model import Channel, Conversation, Customer, Priority, State, state_allowed
from .sanitize import sanitize

FALLBACK_LANGUAGE = "en"

# Variables every file may use, with the label the picker shows when it has to ask for a value. The first
# group is filled from the context; the second is never known to the console and is always asked for
# (unless the app passes it in `MacroContext.extra`, e.g. a shop name from the config file).
BUILTIN_VARIABLES: dict[str, str] = {
    "customer.name": "Customer's full name",
    "customer.first_name": "Customer's first name",
    "customer.last_name": "Customer's last name",
    "customer.email": "Customer's email address",
    "customer.phone": "Customer's phone number",
    "agent.name": "Your name",
    "agent.first_name": "Your first name",
    "conversation.subject": "Subject of the conversation",
    "order.id": "Order number",
    "shop.name": "Shop name",
    "carrier.name": "Carrier",
    "tracking.number": "Tracking number",
    "tracking.url": "Tracking link",
    "refund.amount": "Refund amount (with currency)",
    "return.label_url": "Return label link",
}

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


# "order" in the languages the shops serve, with the inflected forms customers write in Polish and Finnish
# ("zamówienia", "tilauksen"): the subject "Zwrot pieniędzy za zamówienie PL1234567" must give the number.
_ORDER_WORDS = (
    r"order|ordre|commande|bestellung|bestellnummer|bestelling|bestelnummer|auftrag|pedido|ordine"
    r"|encomenda|zam[oó]wieni\w*|tilau\w*|beställning"
)
_ORDER_ID = r"#?\s?([a-z]{0,4}[-/]?\d[a-z0-9/-]{2,})"
_ORDER_AFTER_WORD = re.compile(
    rf"\b(?:{_ORDER_WORDS})\b\s*(?:(?:n[°ºo]\.?|nr\.?|no\.?|number|nummer|número|numero|num\.?)\s*)?[:.]?\s*"
    + _ORDER_ID,
    re.IGNORECASE,
)
_HASH_ID = re.compile(r"(?<![\w&])#\s?([a-z]{0,4}-?\d[a-z0-9-]{2,})", re.IGNORECASE)


class MissingValues(ValueError):
    """`render` was asked for a text whose variables are not all known."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        super().__init__("no value for " + ", ".join(self.names))


class Mode(StrEnum):
    INSERT = "insert"  # into the composer: the agent reviews, edits, sends
    SEND = "send"  # sent at once


# ------------------------------------------------------------------------------------------ values


def extract_order_id(text: str) -> str | None:
    """The order number in a subject line: `#12345`, `order 12345`, `Commande n° FR1234567`, ...

    A keyword is preferred to a bare `#`: in "Re: #2 – commande FR1234567" the order is FR1234567. A number
    needs a digit and at least four characters, so "order 2 items" gives nothing rather than "2".
    """
    if not text:
        return None
    for pattern in (_ORDER_AFTER_WORD, _HASH_ID):
        for match in pattern.finditer(text):
            candidate = match.group(1).strip("-/.")
            if len(candidate) >= 4 and any(ch.isdigit() for ch in candidate):
                return candidate  # as the customer wrote it: some shops' order ids are case-sensitive
    return None


def clean_value(value: str) -> str:
    """A value as it may enter a reply: no terminal controls, no bidi overrides, one line, trimmed."""
    return " ".join(sanitize(value, single_line=True).split())


def _first_and_last(name: str) -> tuple[str, str]:
    # An address or a number is what some systems put where the name should be: better to ask the agent
    # than to greet "Bonjour jean.dupont@example.org".
    if not name or "@" in name or not any(ch.isalpha() for ch in name):
        return "", ""
    first, _, rest = name.partition(" ")
    return first, rest.strip()


@dataclass(frozen=True, slots=True)
class MacroContext:
    """What the console knows when the agent opens the picker. `extra` supplies any other variable."""

    conversation: Conversation | None = None
    customer: Customer | None = None
    agent_name: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def language(self) -> str:
        if self.conversation is not None and self.conversation.language:
            return normalise_language(self.conversation.language)
        if self.customer is not None and self.customer.language:
            return normalise_language(self.customer.language)
        return FALLBACK_LANGUAGE

    @property
    def channel(self) -> Channel | None:
        return self.conversation.channel if self.conversation is not None else None

    def values(self) -> dict[str, str]:
        """Every variable whose value is known, cleaned. Unknown ones are absent, never empty strings."""
        found: dict[str, str] = {}
        customer, conversation = self.customer, self.conversation
        name = clean_value(customer.name if customer and customer.name else "")
        if not name and conversation is not None:
            name = clean_value(conversation.customer_name)
        first, last = _first_and_last(name)
        if first:
            found["customer.name"] = name
            found["customer.first_name"] = first
        if last:
            found["customer.last_name"] = last
        if customer is not None:
            found["customer.email"] = clean_value(customer.email)
            found["customer.phone"] = clean_value(customer.phone)
        agent = clean_value(self.agent_name)
        found["agent.name"] = agent
        found["agent.first_name"] = agent.partition(" ")[0]
        if conversation is not None:
            subject = clean_value(conversation.subject)
            found["conversation.subject"] = subject
            order = extract_order_id(subject)
            if order:
                found["order.id"] = order
        for key, value in self.extra.items():
            found[key] = clean_value(value)  # the app's own figures win over what we guessed from a subject
        return {key: value for key, value in found.items() if value}


def normalise_language(tag: str) -> str:
    return tag.strip().lower().replace("_", "-")


def language_preference(language: str) -> list[str]:
    """`pt-BR` -> ["pt-br", "pt", "en"]: the exact tag, its primary language, then the fallback."""
    tag = normalise_language(language) or FALLBACK_LANGUAGE
    order = [tag, tag.partition("-")[0], FALLBACK_LANGUAGE]
    return list(dict.fromkeys(order))


# ------------------------------------------------------------------------------------------ macros


@dataclass(frozen=True, slots=True)
class Macro:
    id: str
    language: str
    name: str
    text: str
    shortcut: str = ""
    mode: Mode = Mode.INSERT
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    status: State | None = None
    priority: Priority | None = None
    close: bool = False
    disposition: str = ""
    channels: frozenset[Channel] = frozenset()  # empty: see `applies_to`
    # Each variable of `text` once, in order of appearance, with the label to ask for it.
    variables: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    source: str = ""
    line: int | None = None

    @property
    def send_now(self) -> bool:
        return self.mode is Mode.SEND and bool(self.text)

    def label(self, variable: str) -> str:
        return dict(self.labels).get(variable, variable)

    def applies_to(self, channel: Channel | None) -> bool:
        """Whether to offer this macro on a conversation of `channel` (None: any).

        Without `channels`, a macro with a text is for the written channels (a call has nothing to reply
        to) and an action-only macro is for all; a status the channel cannot take excludes it.
        """
        if channel is None:
            return True
        if self.channels:
            if channel not in self.channels:
                return False
        elif self.text and channel is Channel.PHONE:
            return False
        return self.status is None or state_allowed(channel, self.status)

    def missing(self, values: Mapping[str, str]) -> tuple[str, ...]:
        """The variables of the text with no (non-empty) value in `values`: what the picker asks for."""
        return tuple(name for name in self.variables if not values.get(name))

    def render(self, values: Mapping[str, str]) -> str:
        """The text with every variable replaced by its cleaned value; `MissingValues` if one is unknown."""
        absent = self.missing(values)
        if absent:
            raise MissingValues(absent)
        # One pass: a value is never scanned again, so a name written "{{agent.name}}" stays as written.
        return _PLACEHOLDER.sub(lambda m: clean_value(values[m.group(1).strip()]), self.text)

    def preview(self, values: Mapping[str, str]) -> str:
        """The text with known values filled in and the others shown as ⟨label⟩, for the picker."""

        def one(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            value = clean_value(values.get(name, ""))
            return value or f"⟨{self.label(name)}⟩"

        return _PLACEHOLDER.sub(one, self.text)

    def fill(self, context: MacroContext, answers: Mapping[str, str] | None = None) -> FilledMacro:
        """Render with the context's values, completed (or corrected) by the agent's `answers`."""
        values = context.values()
        values.update({key: clean_value(value) for key, value in (answers or {}).items()})
        values = {key: value for key, value in values.items() if value}
        return FilledMacro(self, self.render(values), {name: values[name] for name in self.variables})

    def commands(
        self,
        conversation_id: str,
        filled_text: str | None,
        *,
        channel: Channel | None = None,
        state: State | None = None,
    ) -> list[Command]:
        """The backend commands, in sending order. `filled_text` None or empty: no reply (the composer has it).

        Closing depends on the channel: a chat is ended, a call hung up (both then wrapped up with
        `disposition` when the macro names one), an email, form or social thread is solved, a callback done.
        With `state`, a conversation already in wrap-up is only wrapped up and a closed one is left closed.
        """
        out: list[Command] = []
        if filled_text:
            out.append(Reply(conversation_id=conversation_id, body=filled_text))
        if self.add_tags or self.remove_tags:
            out.append(Tags(conversation_id=conversation_id, add=self.add_tags, remove=self.remove_tags))
        if self.priority is not None:
            out.append(SetPriority(conversation_id=conversation_id, priority=self.priority))
        if self.status is not None:
            if channel is not None and not state_allowed(channel, self.status):
                raise ValueError(f"macro {self.id!r}: a {channel.value} cannot be {self.status.value}")
            out.append(SetStatus(conversation_id=conversation_id, state=self.status))
        if self.close:
            if channel is None:
                raise ValueError(f"macro {self.id!r} closes: the conversation's channel is needed")
            out.extend(self._closing(conversation_id, channel, state))
        return out

    def _closing(self, conversation_id: str, channel: Channel, state: State | None) -> list[Command]:
        # Without a state, the contact is taken to be in progress (answered, open): what a macro is used on.
        plan = closing_commands(conversation_id, channel, state or WORKING_STATE[channel], self.disposition)
        return list(plan.commands)

    def needs_disposition(self, channel: Channel) -> bool:
        """A live contact closed without a disposition: the app asks for one, as its own close does."""
        return self.close and channel.is_live and not self.disposition


@dataclass(frozen=True, slots=True)
class FilledMacro:
    """What the picker returns: the macro, its rendered text and the values used."""

    macro: Macro
    text: str
    values: Mapping[str, str]

    @property
    def send_now(self) -> bool:
        return self.macro.send_now

    def commands(
        self, conversation_id: str, *, channel: Channel | None = None, state: State | None = None
    ) -> list[Command]:
        """Everything, the reply included: for a macro sent at once."""
        return self.macro.commands(conversation_id, self.text, channel=channel, state=state)

    def follow_up(
        self, conversation_id: str, *, channel: Channel | None = None, state: State | None = None
    ) -> list[Command]:
        """Everything but the reply: for an inserted macro, sent once the agent sends the composer."""
        return self.macro.commands(conversation_id, None, channel=channel, state=state)
