"""Canned responses and macros: a library of TOML files per language, rendered with what the console knows.

A macro is a reply text with `{{variables}}` and actions (tags to add or remove, a status, a priority, close).
The shipped library lives in `console/macros/*.toml`; the user's own files (the `macros/` folder of their
config dir) are loaded after it and replace a shipped macro with the same language and id.

Three promises:

- A file is checked completely when it is loaded: bad TOML, an unknown key, an unknown variable, a status the
  listed channels cannot take are a `MacroError` naming the file and the line, never a crash while an agent
  is typing. A bad user file is skipped as a whole (half a file loaded would be harder to notice) and its
  error kept in `MacroLibrary.errors` for the app to show.
- Values are plain text. What a customer chose as their name may hold Rich markup or terminal escapes: every
  value is sanitised (`sanitize(single_line=True)`), substituted in one pass (a value that looks like
  `{{agent.name}}` stays literally that), and the result is meant for the composer or for `Text`, never
  for markup.
- The backend commands come out in the order the backends need: the reply first (the customer reads the
  answer before a "solved" survey), then tags (some systems refuse tag changes on a closed ticket), then
  priority and status, then the close itself and its wrap-up.

The format is documented in docs/macros.md.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from ..backends.base import (
    Command,
    EndChat,
    HangUp,
    Reply,
    SetPriority,
    SetStatus,
    Tags,
    WrapUp,
)
from .model import CLOSED_STATES, Channel, Conversation, Customer, Priority, State, state_allowed
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
_VARIABLE_NAME = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
_MACRO_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")
_HEADER = re.compile(r"^\s*\[\[\s*macro\s*\]\]\s*(?:#.*)?$")

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


class MacroError(Exception):
    """A macro file that cannot be used, with where: `path:line: message` (line when it can be found)."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        self.source = source
        self.line = line
        self.message = message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


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
        if state is not None and state in CLOSED_STATES:
            return []
        wrap = (
            [WrapUp(conversation_id=conversation_id, disposition=self.disposition)]
            if self.disposition
            else []
        )
        if channel.is_live:
            if state is State.WRAP_UP:
                return wrap
            end: Command = (
                EndChat(conversation_id=conversation_id)
                if channel is Channel.CHAT
                else HangUp(conversation_id=conversation_id)
            )
            return [end, *wrap]
        final = State.DONE if channel is Channel.CALLBACK else State.SOLVED
        return [SetStatus(conversation_id=conversation_id, state=final)]

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


# ------------------------------------------------------------------------------------------ loading

_ALLOWED_KEYS = frozenset(
    {
        "id",
        "language",
        "name",
        "text",
        "shortcut",
        "mode",
        "add_tags",
        "remove_tags",
        "status",
        "priority",
        "close",
        "disposition",
        "channels",
    }
)
_FILE_KEYS = frozenset({"language", "variables", "macro"})
_LineOf = Callable[[str], int | None]  # a key's line in the macro being checked


class _Lines:
    """Where things are in the raw text, since `tomllib` gives values without positions."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = self._headers()

    def _headers(self) -> list[int]:
        found: list[int] = []
        quote: str | None = None  # inside a multi-line string, a line "[[macro]]" is text, not a header
        for number, line in enumerate(self.lines, start=1):
            if quote is None and _HEADER.match(line):
                found.append(number)
            for delimiter in ('"""', "'''"):
                if quote in (None, delimiter) and line.count(delimiter) % 2 == 1:
                    quote = None if quote == delimiter else delimiter
        return found

    def span(self, index: int) -> tuple[int, int] | None:
        """First and last line of the index-th `[[macro]]` table, when written as a table."""
        if index >= len(self.headers):
            return None
        start = self.headers[index]
        end = self.headers[index + 1] - 1 if index + 1 < len(self.headers) else len(self.lines)
        return start, end

    def find(self, index: int, pattern: re.Pattern[str]) -> int | None:
        span = self.span(index)
        if span is None:
            return None
        for number in range(span[0], span[1] + 1):
            if pattern.search(self.lines[number - 1]):
                return number
        return span[0]

    def key(self, index: int, key: str) -> int | None:
        return self.find(index, re.compile(rf"^\s*{re.escape(key)}\s*="))

    def placeholder(self, index: int, inner: str) -> int | None:
        return self.find(index, re.compile(r"\{\{" + re.escape(inner) + r"\}\}"))


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    # `carrier.name = "..."` in TOML is a nested table; `"carrier.name" = "..."` is one key. Both mean one name.
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            out.update(_flatten(value, name))
        else:
            out[name] = value
    return out


class _FileParser:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.lines = _Lines(text)

    def fail(self, message: str, line: int | None = None) -> MacroError:
        return MacroError(self.source, message, line)

    def parse(self) -> list[Macro]:
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            # tomllib says "... (at line 7, column 12)": keep its words, give the line to the error too.
            match = re.search(r"line (\d+)", str(error))
            raise self.fail(f"not valid TOML: {error}", int(match.group(1)) if match else None) from None
        unknown = sorted(set(data) - _FILE_KEYS)
        if unknown:
            line = self._top_level_line(unknown[0])
            raise self.fail(
                f"unknown top-level key {unknown[0]!r} (allowed: {', '.join(sorted(_FILE_KEYS))})", line
            )
        file_language = data.get("language")
        if file_language is not None:
            file_language = self._language(file_language, self._top_level_line("language"))
        labels = dict(BUILTIN_VARIABLES)
        labels.update(self._declared(data.get("variables", {})))
        tables = data.get("macro", [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise self.fail("`macro` must be an array of tables: write each one under [[macro]]")
        macros: list[Macro] = []
        seen: dict[tuple[str, str], int] = {}
        for index, table in enumerate(tables):
            macro = self._macro(index, table, file_language, labels)
            key = (macro.language, macro.id)
            if key in seen:
                raise self.fail(
                    f"macro {macro.id!r} ({macro.language}) is defined twice (first at line {seen[key]})",
                    macro.line,
                )
            seen[key] = macro.line or 0
            macros.append(macro)
        return macros

    def _top_level_line(self, key: str) -> int | None:
        pattern = re.compile(rf"^\s*\[?\s*{re.escape(key)}\s*[=\]]")
        for number, line in enumerate(self.lines.lines, start=1):
            if pattern.search(line):
                return number
        return None

    def _language(self, value: object, line: int | None) -> str:
        if not isinstance(value, str) or not _LANGUAGE.fullmatch(normalise_language(value)):
            raise self.fail(f'language must be a language tag like "fr" or "pt-br", not {value!r}', line)
        return normalise_language(value)

    def _declared(self, table: object) -> dict[str, str]:
        line = self._top_level_line("variables")
        if not isinstance(table, Mapping):
            raise self.fail('[variables] must be a table of name = "label"', line)
        declared: dict[str, str] = {}
        for name, label in _flatten(table).items():
            if not _VARIABLE_NAME.fullmatch(name):
                raise self.fail(f"variable name {name!r}: use lower-case words joined by dots", line)
            if name in BUILTIN_VARIABLES:
                raise self.fail(f"variable {name!r} is built in: it need not be declared", line)
            if not isinstance(label, str) or not label.strip():
                raise self.fail(f"variable {name!r} needs a label (the question the picker asks)", line)
            declared[name] = clean_value(label)
        return declared

    def _macro(
        self, index: int, table: dict[str, Any], file_language: str | None, labels: Mapping[str, str]
    ) -> Macro:
        span = self.lines.span(index)
        line = span[0] if span else None

        def at(key: str) -> int | None:
            return self.lines.key(index, key)

        unknown = sorted(set(table) - _ALLOWED_KEYS)
        if unknown:
            raise self.fail(
                f"macro #{index + 1}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_ALLOWED_KEYS))})",
                at(unknown[0]) or line,
            )
        macro_id = table.get("id")
        if not isinstance(macro_id, str) or not _MACRO_ID.fullmatch(macro_id):
            raise self.fail(
                f"macro #{index + 1}: id must be lower-case letters, digits, '-', '_' or '.', not {macro_id!r}",
                at("id") or line,
            )
        where = f"macro {macro_id!r}"
        if "language" in table:
            language = self._language(table["language"], at("language"))
        elif file_language is not None:
            language = file_language
        else:
            raise self.fail(
                f"{where}: no language (set `language` at the top of the file or in the macro)", line
            )
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise self.fail(f"{where}: `name` is required (what the picker lists)", at("name") or line)
        text = table.get("text", "")
        if not isinstance(text, str):
            raise self.fail(f"{where}: `text` must be a string", at("text"))
        text = sanitize(text).strip("\n")
        shortcut = table.get("shortcut", "")
        if not isinstance(shortcut, str) or any(ch.isspace() for ch in shortcut):
            raise self.fail(f"{where}: `shortcut` must be one word", at("shortcut"))
        mode_value = table.get("mode", Mode.INSERT.value)
        try:
            mode = Mode(mode_value)
        except ValueError:
            raise self.fail(
                f'{where}: mode must be "insert" or "send", not {mode_value!r}', at("mode")
            ) from None
        add_tags = self._tags(table, "add_tags", where, at)
        remove_tags = self._tags(table, "remove_tags", where, at)
        both = sorted(set(add_tags) & set(remove_tags))
        if both:
            raise self.fail(f"{where}: tag {both[0]!r} is both added and removed", at("remove_tags"))
        status = self._enum(table, "status", State, where, at)
        priority_name = table.get("priority")
        priority: Priority | None = None
        if priority_name is not None:
            try:
                priority = Priority[str(priority_name).upper()]
            except KeyError:
                raise self.fail(
                    f"{where}: priority must be low, normal, high or urgent, not {priority_name!r}",
                    at("priority"),
                ) from None
        close = table.get("close", False)
        if not isinstance(close, bool):
            raise self.fail(f"{where}: close must be true or false", at("close"))
        if close and status is not None:
            raise self.fail(f"{where}: `close` already sets the final status; drop `status`", at("status"))
        disposition = table.get("disposition", "")
        if not isinstance(disposition, str) or (disposition and not _MACRO_ID.fullmatch(disposition)):
            raise self.fail(f'{where}: disposition must be a code like "refund"', at("disposition"))
        if disposition and not close:
            raise self.fail(
                f"{where}: a disposition is given at close: add `close = true`", at("disposition")
            )
        channels = self._channels(table, where, at)
        if status is not None:
            for channel in sorted(channels, key=lambda c: c.value):
                if not state_allowed(channel, status):
                    raise self.fail(f"{where}: a {channel.value} cannot be {status.value}", at("status"))
        if mode is Mode.SEND and not text:
            raise self.fail(f'{where}: mode "send" with no text: nothing to send', at("mode"))
        if not text and not (add_tags or remove_tags or status or priority is not None or close):
            raise self.fail(f"{where}: no text and no action: it would do nothing", line)
        variables = self._variables(index, text, where, labels)
        return Macro(
            id=macro_id,
            language=language,
            name=clean_value(name),
            text=text,
            shortcut=shortcut,
            mode=mode,
            add_tags=add_tags,
            remove_tags=remove_tags,
            status=status,
            priority=priority,
            close=close,
            disposition=disposition,
            channels=channels,
            variables=variables,
            labels=tuple((v, labels[v]) for v in variables),
            source=self.source,
            line=line,
        )

    def _tags(self, table: Mapping[str, Any], key: str, where: str, at: _LineOf) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(t, str) and t.strip() and not any(ch.isspace() for ch in t) for t in value
        ):
            raise self.fail(f"{where}: {key} must be a list of tags without spaces", at(key))
        return tuple(dict.fromkeys(value))

    def _enum(
        self, table: Mapping[str, Any], key: str, kind: type[State], where: str, at: _LineOf
    ) -> State | None:
        value = table.get(key)
        if value is None:
            return None
        try:
            return kind(str(value).lower())
        except ValueError:
            allowed = ", ".join(s.value for s in kind)
            raise self.fail(f"{where}: unknown {key} {value!r} (one of: {allowed})", at(key)) from None

    def _channels(self, table: Mapping[str, Any], where: str, at: _LineOf) -> frozenset[Channel]:
        value = table.get("channels", [])
        if not isinstance(value, list):
            raise self.fail(f'{where}: channels must be a list like ["chat", "email"]', at("channels"))
        channels: set[Channel] = set()
        for item in value:
            try:
                channels.add(Channel(str(item).lower()))
            except ValueError:
                allowed = ", ".join(c.value for c in Channel)
                raise self.fail(
                    f"{where}: unknown channel {item!r} (one of: {allowed})", at("channels")
                ) from None
        return frozenset(channels)

    def _variables(self, index: int, text: str, where: str, labels: Mapping[str, str]) -> tuple[str, ...]:
        found: list[str] = []
        for match in _PLACEHOLDER.finditer(text):
            inner = match.group(1)
            name = inner.strip()
            line = self.lines.placeholder(index, inner)
            if not _VARIABLE_NAME.fullmatch(name):
                raise self.fail(f"{where}: {{{{{inner}}}}} is not a variable name", line)
            if name not in labels:
                close = difflib.get_close_matches(name, list(labels), n=1, cutoff=0.75)
                hint = f" (did you mean {close[0]!r}?)" if close else " (declare it under [variables])"
                raise self.fail(f"{where}: unknown variable {{{{{name}}}}}{hint}", line)
            found.append(name)
        rest = _PLACEHOLDER.sub("", text)
        if "{{" in rest:
            line = self.lines.find(index, re.compile(r"\{\{(?!.*\}\})"))
            raise self.fail(f"{where}: a '{{{{' is never closed by '}}}}'", line)
        return tuple(dict.fromkeys(found))


def parse_macros(text: str, source: str) -> list[Macro]:
    """The macros of one file's text; `MacroError` naming `source` if anything in it is wrong."""
    return _FileParser(text, source).parse()


def load_file(path: Path) -> list[Macro]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MacroError(str(path), f"cannot read: {error}") from None
    return parse_macros(text, str(path))


# ------------------------------------------------------------------------------------------ the library


def _fold(text: str) -> str:
    """Case- and accent-blind, so that "ou est" finds "Où est mon colis"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True, slots=True)
class MacroLibrary:
    """Every macro usable now, in file order, user ones replacing shipped ones with the same language and id."""

    macros: tuple[Macro, ...] = ()
    errors: tuple[MacroError, ...] = ()

    def get(self, macro_id: str, language: str = FALLBACK_LANGUAGE) -> Macro | None:
        """The macro in the best language available for `language` (falls back to English)."""
        for tag in language_preference(language):
            for macro in self.macros:
                if macro.id == macro_id and macro.language == tag:
                    return macro
        return None

    def languages(self) -> list[str]:
        return sorted({m.language for m in self.macros})

    def candidates(
        self, language: str, channel: Channel | None = None, *, all_languages: bool = False
    ) -> list[Macro]:
        """The macros to offer: the conversation's language first, then English for ids not translated.

        With `all_languages`, every other language follows, for the agent who writes to a customer in a
        language the conversation was not tagged with.
        """
        preference = language_preference(language)
        usable = [m for m in self.macros if m.applies_to(channel)]
        out: list[Macro] = []
        taken: set[str] = set()
        for tag in preference:
            for macro in usable:
                if macro.language == tag and macro.id not in taken:
                    out.append(macro)
            taken |= {m.id for m in out}
        if all_languages:
            shown = {id(m) for m in out}
            rest = [m for m in usable if id(m) not in shown]
            rest.sort(key=lambda m: m.language not in preference)  # stable: English next, then the others
            out += rest
        return out

    def search(
        self, query: str, language: str, channel: Channel | None = None, *, all_languages: bool = False
    ) -> list[Macro]:
        """`candidates` matching every word of `query` in shortcut, name, id or text, best matches first.

        Shortcut hits come first (an agent who types "wism" wants that macro), then name or id, then text.
        """
        pool = self.candidates(language, channel, all_languages=all_languages)
        words = _fold(query).split()
        if not words:
            return pool
        whole = " ".join(words)
        ranked: list[tuple[int, int, Macro]] = []
        for position, macro in enumerate(pool):
            shortcut = _fold(macro.shortcut)
            title = _fold(f"{macro.name} {macro.id}")
            body = _fold(macro.text)
            if not all(w in shortcut or w in title or w in body for w in words):
                continue
            if shortcut and shortcut == whole:
                rank = 0
            elif shortcut and shortcut.startswith(whole):
                rank = 1
            elif all(w in title for w in words):
                rank = 2
            else:
                rank = 3
            ranked.append((rank, position, macro))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [macro for _, _, macro in ranked]


def _merge(layers: Iterable[list[Macro]]) -> tuple[Macro, ...]:
    by_key: dict[tuple[str, str], Macro] = {}
    for layer in layers:
        for macro in layer:
            by_key[(macro.language, macro.id)] = (
                macro  # dicts keep the first position: overrides stay in place
            )
    return tuple(by_key.values())


def shipped_macros() -> list[Macro]:
    """The library that ships with the package. An error here is a bug in the package: it is raised."""
    folder = resources.files(__package__).joinpath("macros")
    macros: list[Macro] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            macros += parse_macros(
                entry.read_text(encoding="utf-8"), f"standardiste/console/macros/{entry.name}"
            )
    return macros


def _load_layer(folder: Path, errors: list[MacroError]) -> list[Macro]:
    """One folder's files in name order; a bad file is skipped and its error kept. Ids must not repeat."""
    macros: list[Macro] = []
    where: dict[tuple[str, str], str] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            loaded = load_file(path)
            for macro in loaded:
                key = (macro.language, macro.id)
                if key in where:
                    raise MacroError(
                        str(path),
                        f"macro {macro.id!r} ({macro.language}) is already defined in {where[key]}",
                        macro.line,
                    )
        except MacroError as error:
            errors.append(error)
            continue
        for macro in loaded:
            where[(macro.language, macro.id)] = str(path)
        macros += loaded
    return macros


def load_library(user_dir: Path | None = None) -> MacroLibrary:
    """The shipped library, then `user_dir/*.toml` over it (a missing folder is no error)."""
    errors: list[MacroError] = []
    layers = [shipped_macros()]
    if user_dir is not None and user_dir.is_dir():
        layers.append(_load_layer(user_dir, errors))
    return MacroLibrary(_merge(layers), tuple(errors))
