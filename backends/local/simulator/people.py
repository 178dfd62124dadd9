"""Who the simulated customers are and what they write: names, countries and short texts in 12 languages.

The texts live in `data/people.json` so that a translator can fix them without touching code. Every choice
takes the caller's `random.Random`, never the global one, so that a seed reproduces the same people.
Addresses use the reserved `.example` domain and phone numbers fiction ranges where a country has one:
nothing generated here reaches a real person, even if a demo is wired to a real mail or phone system.
"""

from __future__ import annotations

import hashlib
import json
import random
import unicodedata
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.resources import files
from itertools import accumulate
from typing import Any

from ....console.core.model import Channel, Customer, Priority
from .mime_factory import (
    BuiltMail,
    MailAttachment,
    Quote,
    address_problem,
    ascii_domain,
    build_mail,
    make_jpeg,
    make_pdf,
    quote_header,
)

# Channel shares of all contacts. The seeds: 70% of contacts on "hot" channels (phone and chat), 30% by mail;
# within the mail-like 30%, the shop's "call me back" button, the web form and social-media complaints are
# channels of their own. Phone + chat = 70%, email 22%, callback + form + social 8%.
CHANNEL_SHARES: dict[Channel, float] = {
    Channel.PHONE: 0.40,
    Channel.CHAT: 0.30,
    Channel.EMAIL: 0.22,
    Channel.CALLBACK: 0.03,
    Channel.FORM: 0.03,
    Channel.SOCIAL: 0.02,
}
EMAIL_LIKE = frozenset({Channel.EMAIL, Channel.FORM, Channel.SOCIAL})
# A customer who already got in touch comes back on another channel (a caller who emailed yesterday).
RETURNING_SHARE = 0.15
SUPPORT_NAME = "Customer service"
SUPPORT_ADDRESS = "support@standardiste.local"  # what the local workspace's replies come from (commands.py)
# Mail clients and what they tend to do: (User-Agent, legacy charset when the text fits, attachment naming).
MAILERS: tuple[tuple[str, str, str], ...] = (
    ("Mozilla Thunderbird 128.5", "iso-8859-1", "rfc2231"),
    ("Apple Mail (2.3826)", "", "rfc2231"),
    ("Microsoft Outlook 16.0", "windows-1252", "outlook"),
    ("Roundcube Webmail/1.6.9", "", "rfc2231"),
    ("", "", "rfc2231"),  # webmail that sets no User-Agent
)
LEGACY_CHARSET_SHARE = 0.3
# Customers whose mailbox keeps the accents of their name (`jörg.müller@...`, RFC 6532): rare, but real,
# and it makes the simulated mail exercise 8-bit address headers. In percent, decided from the customer id.
UNFOLDED_ADDRESS_PERCENT = 4


@dataclass(frozen=True, slots=True)
class Topic:
    """Why a customer gets in touch, and how the shop files it."""

    key: str
    queue: str
    tags: tuple[str, ...]
    weight: float  # share of contacts in the normal profile
    christmas_weight: float  # share in the Christmas profile (where is my parcel, gifts before the 24th)
    attachment: str | None = None  # "invoice" (a PDF) or "photo" (a JPEG) sent with email-like contacts
    attachment_share: float = 0.0
    high_share: float = 0.0
    urgent_share: float = 0.0


# Shares from the seeds' field notes (a photo-printing and fashion e-commerce): after-sales dominates, pre-sale
# questions are a sixth; at Christmas "where is my parcel" and "will it arrive before the 24th" take over.
TOPICS: tuple[Topic, ...] = (
    Topic("parcel", "orders", ("delivery",), 0.26, 0.34, high_share=0.05),
    Topic("refund", "payments", ("refund",), 0.12, 0.08, "invoice", 0.5, high_share=0.15, urgent_share=0.02),
    Topic("return", "returns", ("return",), 0.14, 0.10, "photo", 0.3, high_share=0.05),
    Topic("payment", "payments", ("payment-security",), 0.08, 0.06, high_share=0.3, urgent_share=0.2),
    Topic("order_change", "orders", ("order-change",), 0.12, 0.10, high_share=0.3, urgent_share=0.05),
    Topic("product", "general", ("pre-sale",), 0.16, 0.08),
    Topic("photobook", "returns", ("quality",), 0.12, 0.10, "photo", 0.6, high_share=0.1),
    Topic("gift", "orders", ("christmas", "delivery"), 0.0, 0.14, high_share=0.5, urgent_share=0.1),
)
TOPIC_BY_KEY = {t.key: t for t in TOPICS}


def pick_topic(rng: random.Random, christmas: bool) -> Topic:
    weights = [t.christmas_weight if christmas else t.weight for t in TOPICS]
    return rng.choices(TOPICS, weights)[0]


def pick_priority(rng: random.Random, topic: Topic, live: bool) -> Priority:
    roll = rng.random()
    if roll < topic.urgent_share:
        return Priority.URGENT
    if roll < topic.urgent_share + topic.high_share:
        return Priority.HIGH
    # A pre-sale question by mail can wait; one on the phone is a sale to make now.
    if topic.key == "product" and not live and roll > 0.5:
        return Priority.LOW
    return Priority.NORMAL


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    phone: str  # a pattern: each `#` becomes a digit
    domains: tuple[str, ...]
    tz: str


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    weight: float
    countries: tuple[tuple[str, float], ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    greeting: str
    signoff: str
    wrote: str  # the "On {date}, {name} wrote:" line above quoted text
    form_labels: tuple[str, str, str]
    topics: dict[str, tuple[str, str]]  # topic key -> (subject, body)
    followups: tuple[str, ...]
    still_there: tuple[str, ...]
    bye: tuple[str, ...]
    reminder: tuple[str, ...]
    replies: tuple[str, ...]
    agent: tuple[str, ...]
    csat: dict[str, tuple[str, ...]]  # "good" | "neutral" | "bad" -> comments
    attachments: dict[str, str]  # "invoice" | "photo" -> file name pattern


@dataclass(frozen=True)  # not slotted: `cached_property` needs an instance dict
class People:
    languages: dict[str, Language]
    countries: dict[str, Country]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.languages)

    def pick_language(self, rng: random.Random) -> Language:
        langs, weights = self._language_weights
        return rng.choices(langs, cum_weights=weights)[0]

    @cached_property
    def _language_weights(self) -> tuple[list[Language], list[float]]:
        langs = list(self.languages.values())
        return langs, list(accumulate(lang.weight for lang in langs))

    def new_customer(self, rng: random.Random, language: str | None = None) -> Customer:
        lang = self.languages[language] if language else self.pick_language(rng)
        country_code = lang.countries[0][0]
        if len(lang.countries) > 1:
            country_code = rng.choices([c for c, _ in lang.countries], [w for _, w in lang.countries])[0]
        country = self.countries[country_code]
        first, last = rng.choice(lang.first_names), rng.choice(lang.last_names)
        local = f"{ascii_fold(first)}.{ascii_fold(last)}".replace(" ", "").replace("'", "")
        if rng.random() < 0.6:
            local += str(rng.randrange(1, 99))
        handle = f"@{ascii_fold(first)}{ascii_fold(last)}{rng.randrange(10, 999)}".replace(" ", "")
        bits = rng.getrandbits(48)
        if bits % 100 < UNFOLDED_ADDRESS_PERCENT:  # no extra draw: a seed gives the same traffic as before
            digits = local[len(local.rstrip("0123456789")) :]
            unfolded = f"{first}.{last}".lower().replace(" ", "").replace("'", "") + digits
            local = unfolded if not address_problem(f"{unfolded}@x") else local
        return Customer(
            id=f"cust-{bits:012x}",
            name=f"{first} {last}",
            language=lang.code,
            email=f"{local}@{rng.choice(country.domains)}",
            phone=_digits(rng, country.phone),
            social_handle=handle.replace("'", ""),
            country=country_code,
        )

    def country_of(self, customer: Customer) -> Country:
        return self.countries.get(customer.country) or next(iter(self.countries.values()))

    def language_of(self, customer: Customer) -> Language:
        return self.languages.get(customer.language) or self.languages["en"]


@dataclass(frozen=True, slots=True)
class ContactSpec:
    """One contact as the customer starts it; everything later (answers, CSAT) draws from `seed`."""

    channel: Channel
    customer: Customer
    topic: str  # a `TOPICS` key, or "" for a scripted contact
    subject: str
    text: str  # the first thing the customer writes ("" for a call)
    order: str
    queue: str
    priority: Priority
    tags: tuple[str, ...]
    seed: int
    patience: float | None = None  # seconds an unanswered caller or chatter waits before giving up
    callback_delay: float | None = None  # a callback: how long after the request the customer wants the call
    attachments: tuple[MailAttachment, ...] = ()
    returning: bool = False


@dataclass(slots=True)
class _Known:
    customer: Customer
    topic: str
    order: str
    channel: Channel


class ContactFactory:
    """Draws contacts: channel, customer (new or returning), topic, priority, text and attachments."""

    def __init__(self, people: People, *, christmas: bool = False, pool_size: int = 2000) -> None:
        self.people = people
        self.christmas = christmas
        self.pool_size = pool_size
        self.pool: list[_Known] = []

    def next(self, rng: random.Random) -> ContactSpec:
        channel = rng.choices(list(CHANNEL_SHARES), list(CHANNEL_SHARES.values()))[0]
        known = (
            self.pool[rng.randrange(len(self.pool))] if self.pool and rng.random() < RETURNING_SHARE else None
        )
        if known is not None:
            # Back about the same order, on another channel than last time.
            others = [c for c in CHANNEL_SHARES if c is not known.channel]
            channel = rng.choices(others, [CHANNEL_SHARES[c] for c in others])[0]
            customer, topic, order = known.customer, TOPIC_BY_KEY[known.topic], known.order
        else:
            customer = self.people.new_customer(rng)
            topic = pick_topic(rng, self.christmas)
            order = order_number(rng, customer.country)
        spec = self._spec(rng, channel, customer, topic, order, returning=known is not None)
        self.remember(spec)
        return spec

    def remember(self, spec: ContactSpec) -> None:
        if not spec.topic:
            return
        entry = _Known(spec.customer, spec.topic, spec.order, spec.channel)
        if len(self.pool) < self.pool_size:
            self.pool.append(entry)
        else:
            self.pool[spec.seed % self.pool_size] = entry

    def _spec(
        self,
        rng: random.Random,
        channel: Channel,
        customer: Customer,
        topic: Topic,
        order: str,
        *,
        returning: bool,
    ) -> ContactSpec:
        lang = self.people.language_of(customer)
        subject_pattern, body_pattern = lang.topics[topic.key]
        subject, body = subject_pattern.format(order=order), body_pattern.format(order=order)
        first_name = customer.name.split(" ")[0]
        text = ""
        if channel is Channel.CHAT:
            text = body
        elif channel is Channel.EMAIL:
            text = f"{lang.greeting}\n\n{body}\n\n{lang.signoff}\n{first_name}"
        elif channel is Channel.FORM:
            labels = lang.form_labels
            text = f"{labels[0]}: {order}\n{labels[1]}: {subject}\n\n{labels[2]}:\n{body}"
        elif channel is Channel.SOCIAL:
            subject = f"Facebook – {customer.social_handle}: {subject}"
            text = f"{body} {customer.social_handle}"
        attachments: tuple[MailAttachment, ...] = ()
        if (
            channel in (Channel.EMAIL, Channel.FORM)
            and topic.attachment
            and rng.random() < topic.attachment_share
        ):
            attachments = (make_attachment(rng, topic.attachment, lang, customer, order),)
        patience = None
        if channel is Channel.PHONE:
            patience = min(900.0, rng.lognormvariate(4.4, 0.6))  # median ~80 s, a few wait 5 minutes
        elif channel is Channel.CHAT:
            patience = min(1200.0, rng.lognormvariate(5.1, 0.5))  # median ~3 min
        callback_delay = None
        if channel is Channel.CALLBACK:
            callback_delay = rng.choice((0.0, 0.0, 900.0, 1800.0, 3600.0, 7200.0))
        return ContactSpec(
            channel=channel,
            customer=customer,
            topic=topic.key,
            subject=subject,
            text=text,
            order=order,
            queue=topic.queue,
            priority=pick_priority(rng, topic, channel in (Channel.PHONE, Channel.CHAT)),
            tags=topic.tags + (("returning",) if returning else ()),
            seed=rng.getrandbits(63),
            patience=patience,
            callback_delay=callback_delay,
            attachments=attachments,
            returning=returning,
        )


def make_attachment(
    rng: random.Random, kind: str, lang: Language, customer: Customer, order: str
) -> MailAttachment:
    """A PDF invoice or a JPEG photo, named as a customer of that language would name it."""
    name = lang.attachments[kind].format(order=order)
    if kind == "invoice":
        amount = rng.randrange(1500, 15000) / 100
        lines = (
            f"Invoice {order}",
            f"Customer: {ascii_fold(customer.name).title()}",
            "Photo book A4, 40 pages x 1",
            f"Total: {amount:.2f} EUR",
        )
        return MailAttachment(name, "application/pdf", make_pdf(lines))
    base = (rng.randrange(60, 200), rng.randrange(40, 180), rng.randrange(30, 160))
    colours = [
        [tuple(max(0, min(255, c + rng.randrange(-40, 40) - 6 * r)) for c in base) for _ in range(8)]
        for r in range(6)
    ]
    return MailAttachment(name, "image/jpeg", make_jpeg(colours, f"order {order}"))  # type: ignore[arg-type]


def customer_mail(
    rng: random.Random,
    people: People,
    customer: Customer,
    *,
    subject: str,
    text: str,
    at: float,
    in_reply_to: str = "",
    references: tuple[str, ...] = (),
    quote: Quote | None = None,
    attachments: tuple[MailAttachment, ...] = (),
) -> BuiltMail:
    """A mail from `customer` to the shop, as their mail client would write it."""
    mailer, legacy, naming = rng.choice(MAILERS)
    domain = ascii_domain(customer.email.rpartition("@")[2])
    return build_mail(
        from_name=customer.name,
        from_addr=customer.email or _fallback_address(customer.id, domain),
        to_name=SUPPORT_NAME,
        to_addr=SUPPORT_ADDRESS,
        subject=subject,
        text=text,
        at=at,
        message_id=f"<{rng.getrandbits(64):016x}.{rng.getrandbits(20):05x}@{domain}>",
        tz=people.country_of(customer).tz,
        in_reply_to=in_reply_to,
        references=references,
        quote=quote,
        attachments=tuple(MailAttachment(a.filename, a.content_type, a.data, naming) for a in attachments),
        charset=legacy if legacy and rng.random() < LEGACY_CHARSET_SHARE else "utf-8",
        language=customer.language,
        mailer=mailer,
        encoding=rng.choice("bq"),
    )


def reply_quote(lang: Language, author: str, at: float, text: str, tz: str = "UTC") -> Quote:
    return Quote(quote_header(lang.wrote, author, at, tz), text)


def order_number(rng: random.Random, country: str) -> str:
    return f"{country or 'EU'}{rng.randrange(1_000_000, 9_999_999)}"


def ascii_fold(text: str) -> str:
    """`Łucja Sæther` -> `lucja saether`: for email local parts, which stay ASCII in practice."""
    special = {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "ß": "ss", "đ": "d"}
    text = "".join(special.get(ch, ch) for ch in text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii()).lower()


def _fallback_address(customer_id: str, domain: str) -> str:
    """A customer without an email still sends from somewhere: the id, if it can be an address's local part."""
    address = f"{customer_id}@{domain}"
    if address_problem(address):
        address = f"cust-{hashlib.sha1(customer_id.encode('utf-8', 'replace')).hexdigest()[:12]}@{domain}"
    return address


def _digits(rng: random.Random, pattern: str) -> str:
    count = pattern.count("#")
    digits = iter(str(rng.randrange(10**count)).zfill(count))  # one draw for the whole number
    return "".join(next(digits) if ch == "#" else ch for ch in pattern)


@cache
def load_people() -> People:
    data: dict[str, Any] = json.loads(
        files(__package__).joinpath("data/people.json").read_text(encoding="utf-8")
    )
    countries = {
        code: Country(code, c["phone"], tuple(c["domains"]), c["tz"]) for code, c in data["countries"].items()
    }
    languages = {}
    for code, lang in data["languages"].items():
        languages[code] = Language(
            code=code,
            weight=float(lang["weight"]),
            countries=tuple((c, float(w)) for c, w in lang["countries"]),
            first_names=tuple(lang["first_names"]),
            last_names=tuple(lang["last_names"]),
            greeting=lang["greeting"],
            signoff=lang["signoff"],
            wrote=lang["wrote"],
            form_labels=tuple(lang["form_labels"]),  # type: ignore[arg-type]
            topics={k: (t["subject"], t["body"]) for k, t in lang["topics"].items()},
            followups=tuple(lang["followups"]),
            still_there=tuple(lang["still_there"]),
            bye=tuple(lang["bye"]),
            reminder=tuple(lang["reminder"]),
            replies=tuple(lang["replies"]),
            agent=tuple(lang["agent"]),
            csat={k: tuple(v) for k, v in lang["csat"].items()},
            attachments=dict(lang["attachments"]),
        )
    return People(languages, countries)


__all__ = [
    "CHANNEL_SHARES",
    "EMAIL_LIKE",
    "RETURNING_SHARE",
    "SUPPORT_ADDRESS",
    "TOPICS",
    "TOPIC_BY_KEY",
    "ContactFactory",
    "ContactSpec",
    "Country",
    "Language",
    "People",
    "Topic",
    "ascii_fold",
    "customer_mail",
    "load_people",
    "make_attachment",
    "order_number",
    "pick_priority",
    "pick_topic",
    "reply_quote",
]
