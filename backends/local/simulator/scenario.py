"""Scripted traffic: a JSONL file of timed contacts and customer actions, replayed by the simulator.

One JSON object per line, `at` in seconds from the start of the replay. Blank lines and lines starting
with `#` are ignored. The whole file is checked before anything is replayed and every problem is reported
with its line number, so a typo on line 40 neither loses lines 1-39 nor half-applies the file. Besides the
format, the checks cover what would fail later while writing: text that is not valid Unicode (a lone
`\\ud800` escape), numbers that are not finite or absurdly far, and email addresses no mail can carry.
`scenario_build.rehearse` then builds every contact and mail before the first write. The format is
documented in README.md ("Scenario format").
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ....console.core.model import Channel, Customer, Priority
from .mime_factory import address_problem

EVENT_TYPES = ("contact", "message", "typing", "abandon", "csat")
ATTACHMENT_KINDS = ("invoice", "photo")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_COMMON = {"at", "type", "ref"}
_KEYS: dict[str, set[str]] = {
    "contact": _COMMON
    | {
        "channel",
        "customer",
        "language",
        "subject",
        "body",
        "queue",
        "priority",
        "tags",
        "patience",
        "callback_at",
        "attachments",
    },
    "message": _COMMON | {"body", "attachments"},
    "typing": _COMMON | {"typing"},
    "abandon": _COMMON,
    "csat": _COMMON | {"score", "comment"},
}
_CUSTOMER_KEYS = {"id", "name", "language", "email", "phone", "country", "social_handle"}
_MAIL_CHANNELS = frozenset({Channel.EMAIL, Channel.FORM, Channel.SOCIAL})
# What each channel accepts from a script: the customer speaks in a chat or mail, not in a ringing call.
_BODY_REQUIRED = _MAIL_CHANNELS | {Channel.CHAT}
_BODY_ALLOWED = _BODY_REQUIRED | {Channel.CALLBACK}
# No time in a script lies further than this from its start (366 days): a clock, a date header or a
# `localtime()` of it must exist, and `Infinity` (which Python's JSON reader accepts) must be refused.
MAX_SECONDS = 366 * 86400.0


class ScenarioError(Exception):
    """Every problem of a scenario file, one `line N: ...` per entry in `errors`."""

    def __init__(self, path: str | Path, errors: list[str]) -> None:
        self.path = str(path)
        self.errors = errors
        listing = "\n".join(f"  {e}" for e in errors)
        plural = "s" if len(errors) != 1 else ""
        super().__init__(f"{path}: {len(errors)} error{plural}, nothing was replayed:\n{listing}")


@dataclass(frozen=True, slots=True)
class AttachmentRequest:
    kind: str  # "invoice" (a generated PDF) or "photo" (a generated JPEG)
    filename: str = ""  # empty: named as the customer's language names it


@dataclass(frozen=True, slots=True)
class Event:
    at: float
    line: int
    ref: str


@dataclass(frozen=True, slots=True)
class ContactEvent(Event):
    channel: Channel
    customer: Customer
    subject: str
    body: str = ""
    queue: str = "general"
    priority: Priority = Priority.NORMAL
    tags: tuple[str, ...] = ()
    patience: float | None = None
    callback_at: float | None = None
    attachments: tuple[AttachmentRequest, ...] = ()


@dataclass(frozen=True, slots=True)
class MessageEvent(Event):
    body: str
    attachments: tuple[AttachmentRequest, ...] = ()


@dataclass(frozen=True, slots=True)
class TypingEvent(Event):
    typing: bool = True


@dataclass(frozen=True, slots=True)
class AbandonEvent(Event):
    pass


@dataclass(frozen=True, slots=True)
class CsatEvent(Event):
    score: int
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Scenario:
    path: str
    events: tuple[Event, ...]  # in replay order: by `at`, then by line

    @property
    def contacts(self) -> tuple[ContactEvent, ...]:
        return tuple(e for e in self.events if isinstance(e, ContactEvent))

    @property
    def duration(self) -> float:
        return max((e.at for e in self.events), default=0.0)


def load_scenario(path: str | Path) -> Scenario:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(path, [f"cannot read the file: {error}"]) from None
    # JSON Lines ends lines at "\n" only: `splitlines()` would also cut at U+2028, U+0085 or \x1c, which a
    # JSON string may hold unescaped, and break a valid line in two.
    return parse_scenario(text.split("\n"), path=str(path))


def parse_scenario(lines: Iterable[str], *, path: str = "<scenario>") -> Scenario:
    """Check every line; raise `ScenarioError` listing all problems, or return the events in replay order."""
    errors: list[str] = []
    events: list[Event] = []
    contacts: dict[str, ContactEvent] = {}
    customers: dict[str, Customer] = {}
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        problems: list[str] = []
        event = _parse_line(stripped, number, problems, contacts, customers)
        errors += [f"line {number}: {p}" for p in problems]
        if event is not None and not problems:
            events.append(event)
            if isinstance(event, ContactEvent):
                contacts[event.ref] = event
                customers.setdefault(event.customer.id, event.customer)
    if errors:
        raise ScenarioError(path, errors)
    if not events:
        raise ScenarioError(path, ["no events: the file has only blank or comment lines"])
    return Scenario(path, tuple(sorted(events, key=lambda e: (e.at, e.line))))


def _parse_line(
    text: str,
    line: int,
    problems: list[str],
    contacts: dict[str, ContactEvent],
    customers: dict[str, Customer],
) -> Event | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(f"not valid JSON ({error.msg} at column {error.colno})")
        return None
    except ValueError as error:  # an integer of more than 4300 digits
        problems.append(f"not usable JSON ({error})")
        return None
    except RecursionError:
        problems.append("not usable JSON (nested too deeply)")
        return None
    broken = _lone_surrogate(data)
    if broken:
        problems.append(
            f"text that is not valid Unicode: {broken} (JSON \\u escapes of surrogates must pair)"
        )
        return None
    if not isinstance(data, dict):
        problems.append(f"expected a JSON object, found {type(data).__name__}")
        return None
    kind = data.get("type")
    if kind not in EVENT_TYPES:
        problems.append(f'"type" must be one of {", ".join(EVENT_TYPES)}; found {kind!r}')
        return None
    unknown = sorted(set(data) - _KEYS[kind])
    if unknown:
        problems.append(f"unknown key{'s' if len(unknown) > 1 else ''} for {kind}: {', '.join(unknown)}")
    at = data.get("at")
    if not _seconds(at) or at < 0:
        problems.append(f'"at" must be a number of seconds >= 0 (at most {MAX_SECONDS:.0f}); found {at!r}')
        at = 0.0
    ref = data.get("ref")
    if not isinstance(ref, str) or not ref.strip():
        problems.append('"ref" must be a non-empty string naming the contact')
        return None
    if kind == "contact":
        return _contact(data, float(at), line, ref, problems, contacts, customers)
    contact = contacts.get(ref)
    if contact is None:
        problems.append(f'"ref" {ref!r} names no contact defined on an earlier line')
        return None
    if at < contact.at:
        problems.append(f"at {at} is before contact {ref!r} starts (at {contact.at}, line {contact.line})")
    channel = contact.channel
    if kind == "message":
        if channel not in _BODY_REQUIRED:
            problems.append(
                f"a {channel.value} contact has no written messages (only chat, email, form, social)"
            )
        body = _text(data, "body", problems, required=True)
        attachments = _attachments(data, channel, problems)
        return MessageEvent(float(at), line, ref, body, attachments)
    if kind == "typing":
        if channel is not Channel.CHAT:
            problems.append(f"typing is shown for chats only; {ref!r} is {channel.value}")
        typing = data.get("typing", True)
        if not isinstance(typing, bool):
            problems.append(f'"typing" must be true or false; found {typing!r}')
            typing = True
        return TypingEvent(float(at), line, ref, typing)
    if kind == "abandon":
        if channel not in (Channel.PHONE, Channel.CHAT):
            problems.append(f"only a caller or a chatter can abandon; {ref!r} is {channel.value}")
        return AbandonEvent(float(at), line, ref)
    score = data.get("score")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        problems.append(f'"score" must be an integer from 1 to 5; found {score!r}')
        score = 3
    comment = _text(data, "comment", problems)
    return CsatEvent(float(at), line, ref, score, comment)


def _contact(
    data: dict[str, Any],
    at: float,
    line: int,
    ref: str,
    problems: list[str],
    contacts: dict[str, ContactEvent],
    customers: dict[str, Customer],
) -> ContactEvent | None:
    if ref in contacts:
        problems.append(f"ref {ref!r} is already used by the contact on line {contacts[ref].line}")
    try:
        channel = Channel(data.get("channel"))
    except ValueError:
        names = ", ".join(c.value for c in Channel)
        problems.append(f'"channel" must be one of {names}; found {data.get("channel")!r}')
        return None
    language = data.get("language")
    if language is not None and (not isinstance(language, str) or not _LANGUAGE.match(language)):
        problems.append(f'"language" must be a lower-case code like "fr"; found {language!r}')
        language = None
    customer = _customer(data.get("customer"), language, problems, customers)
    subject = _text(data, "subject", problems, required=channel in _MAIL_CHANNELS)
    body = _text(data, "body", problems, required=channel in _BODY_REQUIRED)
    if body and channel not in _BODY_ALLOWED:
        problems.append(f'a {channel.value} contact takes no "body" (nothing is written in a call)')
    queue = _text(data, "queue", problems) or "general"
    priority = Priority.NORMAL
    if "priority" in data:
        try:
            priority = Priority[str(data["priority"]).upper()]
        except KeyError:
            problems.append(f'"priority" must be low, normal, high or urgent; found {data["priority"]!r}')
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        problems.append('"tags" must be a list of non-empty strings')
        tags = []
    patience = data.get("patience")
    if patience is not None:
        if channel not in (Channel.PHONE, Channel.CHAT):
            problems.append(f'"patience" is for calls and chats, not {channel.value}')
        if not _seconds(patience) or patience <= 0:
            problems.append(f'"patience" must be a number of seconds > 0; found {patience!r}')
            patience = None
    callback_at = data.get("callback_at")
    if callback_at is not None:
        if channel is not Channel.CALLBACK:
            problems.append(f'"callback_at" is for callback requests, not {channel.value}')
        if not _seconds(callback_at) or callback_at < at:
            problems.append(
                f'"callback_at" must be a number of seconds from the start, >= "at"; found {callback_at!r}'
            )
            callback_at = None
    attachments = _attachments(data, channel, problems)
    if customer is None:
        return None
    return ContactEvent(
        at=at,
        line=line,
        ref=ref,
        channel=channel,
        customer=customer,
        subject=subject or body[:60] or f"{channel.value.capitalize()} from {customer.name}",
        body=body,
        queue=queue,
        priority=priority,
        tags=tuple(t.strip().lower() for t in tags),
        patience=float(patience) if patience is not None else None,
        callback_at=float(callback_at) if callback_at is not None else None,
        attachments=attachments,
    )


def _customer(
    value: Any, language: str | None, problems: list[str], customers: dict[str, Customer]
) -> Customer | None:
    if not isinstance(value, dict):
        problems.append('"customer" must be an object with at least a "name" (or the "id" of an earlier one)')
        return None
    unknown = sorted(set(value) - _CUSTOMER_KEYS)
    if unknown:
        problems.append(f"unknown customer key{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    for key in _CUSTOMER_KEYS & set(value):
        if not isinstance(value[key], str):
            problems.append(f'customer "{key}" must be a string; found {value[key]!r}')
            return None
    known = customers.get(value.get("id", ""))
    if known is not None and set(value) <= {"id"}:
        return known  # the same person as on an earlier line
    name = value.get("name", "").strip()
    if not name:
        problems.append('customer needs a "name" (or only the "id" of a customer from an earlier line)')
        return None
    own_language = value.get("language") or language or (known.language if known else "en")
    if not _LANGUAGE.match(own_language):
        problems.append(f'customer "language" must be a lower-case code like "fr"; found {own_language!r}')
    email, phone = value.get("email", ""), value.get("phone", "")
    if email and address_problem(email):
        problems.append(
            f'customer "email" {email!r} is not an address a mail can carry: {address_problem(email)}'
        )
    customer_id = (
        value.get("id") or "scn-" + hashlib.sha1(f"{name}|{email}|{phone}".encode()).hexdigest()[:12]
    )
    return Customer(
        id=customer_id,
        name=name,
        language=own_language,
        email=email,
        phone=phone,
        social_handle=value.get("social_handle", ""),
        country=value.get("country", ""),
    )


def _seconds(value: Any) -> bool:
    """A JSON number of seconds a replay can reach: finite and within `MAX_SECONDS` either way."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and abs(value) <= MAX_SECONDS


def _lone_surrogate(value: Any) -> str:
    """A description of the first string in `value` holding a lone surrogate (it cannot be encoded, so
    neither SQLite nor a mail could store it), or ""."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as error:
                return f"{item[error.start]!r} at character {error.start + 1} of {item[:30]!r}"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return ""


def _text(data: dict[str, Any], key: str, problems: list[str], *, required: bool = False) -> str:
    value = data.get(key)
    if value is None:
        if required:
            problems.append(f'"{key}" is required here')
        return ""
    if not isinstance(value, str):
        problems.append(f'"{key}" must be a string; found {type(value).__name__}')
        return ""
    if required and not value.strip():
        problems.append(f'"{key}" must not be empty')
    return value


def _attachments(
    data: dict[str, Any], channel: Channel, problems: list[str]
) -> tuple[AttachmentRequest, ...]:
    value = data.get("attachments")
    if value is None:
        return ()
    if channel not in _MAIL_CHANNELS:
        problems.append(
            f"attachments come with mail-like contacts (email, form, social), not {channel.value}"
        )
        return ()
    if not isinstance(value, list):
        problems.append('"attachments" must be a list')
        return ()
    requests: list[AttachmentRequest] = []
    for item in value:
        kind, filename = (item, "") if isinstance(item, str) else (None, "")
        if isinstance(item, dict):
            kind, filename = item.get("kind"), item.get("filename", "")
            if set(item) - {"kind", "filename"} or not isinstance(filename, str):
                problems.append(
                    f'an attachment object has "kind" and an optional "filename" string: {item!r}'
                )
                continue
        if kind not in ATTACHMENT_KINDS:
            problems.append(f"attachment kind must be one of {', '.join(ATTACHMENT_KINDS)}; found {kind!r}")
            continue
        if "/" in filename or "\\" in filename:
            problems.append(f"an attachment filename is a name, not a path: {filename!r}")
            continue
        requests.append(AttachmentRequest(kind, filename))
    return tuple(requests)


@dataclass(slots=True)
class ScenarioPlayer:
    """Hands out events as their time comes. A CSAT answer waits until its conversation is resolved."""

    scenario: Scenario
    start: float
    _next: int = 0
    deferred: list[CsatEvent] = field(default_factory=list)

    def due(self, now: float) -> list[Event]:
        events = self.scenario.events
        out: list[Event] = []
        while self._next < len(events) and self.start + events[self._next].at <= now:
            out.append(events[self._next])
            self._next += 1
        return out

    @property
    def finished(self) -> bool:
        return self._next >= len(self.scenario.events) and not self.deferred


__all__ = [
    "MAX_SECONDS",
    "AbandonEvent",
    "AttachmentRequest",
    "ContactEvent",
    "CsatEvent",
    "Event",
    "MessageEvent",
    "Scenario",
    "ScenarioError",
    "ScenarioPlayer",
    "TypingEvent",
    "load_scenario",
    "parse_scenario",
]
