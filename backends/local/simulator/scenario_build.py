"""A scenario's contacts as the simulator opens them, and a rehearsal that builds all of them first.

The README promises that a scenario which cannot be replayed writes nothing. The parser checks the format;
what it cannot see is whether each contact can really be built: its MIME message (an address, a file name,
a charset), its attachments, its dates. `rehearse` builds every contact and every scripted mail exactly as
the replay will (the same seeds, so the same random choices of mail client, charset and encoding), writing
nothing, and raises `ScenarioError` naming each line that fails. The simulator runs it before it opens the
workspace file, so a refused replay does not even create the file.

What the rehearsal cannot know is the agents' future replies that a customer's later mail will quote; it
quotes the customer's own previous text in their place, through the same code path.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import replace

from ....console.core.model import Channel
from .mime_factory import MailAttachment
from .people import (
    EMAIL_LIKE,
    ContactSpec,
    People,
    customer_mail,
    make_attachment,
    order_number,
    reply_quote,
)
from .scenario import ContactEvent, MessageEvent, Scenario, ScenarioError


def contact_seed(seed: int, ref: str) -> int:
    """The seed of one scripted contact: the run's seed and the contact's name, nothing else."""
    return int.from_bytes(hashlib.sha256(f"{seed}:scenario:{ref}".encode()).digest()[:8], "big")


def scripted_spec(event: ContactEvent, seed: int, people: People) -> ContactSpec:
    """The contact a script line describes, with its generated order number and attachments."""
    contact = contact_seed(seed, event.ref)
    rng = random.Random(contact)
    customer = event.customer
    order = order_number(rng, customer.country)
    lang = people.language_of(customer)
    attachments = tuple(
        renamed(make_attachment(rng, request.kind, lang, customer, order), request.filename)
        for request in event.attachments
    )
    return ContactSpec(
        channel=event.channel,
        customer=customer,
        topic="",
        subject=event.subject,
        text=event.body,
        order=order,
        queue=event.queue,
        priority=event.priority,
        tags=event.tags,
        seed=contact,
        patience=event.patience,
        callback_delay=event.callback_at - event.at if event.callback_at is not None else None,
        attachments=attachments,
    )


def renamed(attachment: MailAttachment, filename: str) -> MailAttachment:
    return replace(attachment, filename=filename) if filename else attachment


def rehearse(scenario: Scenario, seed: int, people: People, start: float) -> dict[str, ContactSpec]:
    """Build every contact and scripted mail of `scenario` as a replay starting at `start` would, writing
    nothing; raise `ScenarioError` with one `line N: ...` per event that cannot be built. Returns each
    contact's spec by ref, for the replay to reuse (its generated attachments are most of the cost)."""
    errors: list[str] = []
    # Per contact: its spec, the random stream its mails draw from (as `_Tracked.rng`), its last text.
    contacts: dict[str, tuple[ContactSpec, random.Random, str]] = {}
    for event in scenario.events:
        at = start + event.at
        try:
            if isinstance(event, ContactEvent):
                spec = scripted_spec(event, seed, people)
                rng = random.Random(spec.seed)
                if spec.channel in EMAIL_LIKE:
                    customer_mail(
                        rng,
                        people,
                        spec.customer,
                        subject=spec.subject,
                        text=spec.text,
                        at=at,
                        attachments=spec.attachments,
                    )
                elif spec.channel is Channel.CALLBACK and spec.callback_delay is not None:
                    time.strftime("%H:%M", time.localtime(at + spec.callback_delay))  # the request's note
                contacts[event.ref] = (spec, rng, spec.text)
            elif isinstance(event, MessageEvent) and event.ref in contacts:
                spec, rng, previous = contacts[event.ref]
                if spec.channel in EMAIL_LIKE:
                    _rehearse_reply(event, spec, rng, previous, at, people)
                contacts[event.ref] = (spec, rng, event.body)
        except Exception as error:  # anything at all: this is where a replay would have stopped midway
            errors.append(f"line {event.line}: cannot be built: {type(error).__name__}: {error}")
    if errors:
        raise ScenarioError(scenario.path, errors)
    return {ref: spec for ref, (spec, _, _) in contacts.items()}


def _rehearse_reply(
    event: MessageEvent, spec: ContactSpec, rng: random.Random, previous: str, at: float, people: People
) -> None:
    """The customer's next mail in the thread, as `CustomerReactions._customer_mail` builds it."""
    customer = spec.customer
    lang = people.language_of(customer)
    attachments = tuple(
        renamed(make_attachment(rng, r.kind, lang, customer, spec.order), r.filename)
        for r in event.attachments
    )
    tz = people.country_of(customer).tz
    customer_mail(
        rng,
        people,
        customer,
        subject=f"Re: {spec.subject}",
        text=event.body,
        at=at,
        in_reply_to="<rehearsal@standardiste.local>",
        references=("<rehearsal@standardiste.local>",),
        quote=reply_quote(lang, customer.name, at, previous, tz),
        attachments=attachments,
    )


__all__ = ["contact_seed", "rehearse", "renamed", "scripted_spec"]
