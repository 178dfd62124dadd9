"""Whom a new reply is addressed to, from the conversation's messages (cleaned at the gate, untrusted.py).

A reply goes to the sender of the customer's last mail, else to the address on file; a reply to all also
to everyone else that mail went to, except us; a forward starts with nobody (the agent says to whom).
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import Direction, Message

REPLIES = frozenset({"reply", "reply_all"})


def _unique(addresses: Sequence[str], taken: set[str]) -> tuple[str, ...]:
    """Each address once, none of `taken` (lower-case), in order."""
    out: list[str] = []
    for address in addresses:
        if address and address.lower() not in taken:
            taken.add(address.lower())
            out.append(address)
    return tuple(out)


def has_mail(messages: Sequence[Message]) -> bool:
    return any(m.email is not None for m in messages)


def reply_recipients(
    kind: str, messages: Sequence[Message], on_file: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(To, Cc) a new reply of `kind` starts with; `on_file` is the customer's address in their record."""
    if kind not in REPLIES:
        return (), ()
    ours = {m.email.from_addr.lower() for m in messages if m.email and m.direction is Direction.OUTBOUND}
    last = next((m.email for m in reversed(messages) if m.email and m.direction is Direction.INBOUND), None)
    sender = last.from_addr if last is not None and last.from_addr else on_file
    to = _unique((sender,), set(ours))
    if kind != "reply_all" or last is None:
        return to, ()
    # The first To is the address the customer wrote to, ours: a reply to all must not mail it.
    taken = ours | {a.lower() for a in (*to, *last.to[:1])}
    return to, _unique((*last.to[1:], *last.cc), taken)
