"""Threading by Message-ID, In-Reply-To and References: one conversation per thread.

The key of a thread is derived from its root Message-ID, the first entry of References (RFC 5322 §3.6.4: a
reply carries its parent's References plus the parent's Message-ID, so the first one is the thread's start).
That makes the key the same whichever message of the thread arrives first. A message that only says
In-Reply-To (some clients drop References) joins the thread of that parent when the parent is known. Threads
are never merged after the fact, and nothing is threaded by subject: a wrong merge puts one customer's mail in
front of another, which is worse than a split thread.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable

_MSG_ID = re.compile(r"<([^<>\s]+)>")
# A References header can grow without bound in a long thread; the root and the most recent ones matter.
MAX_REFERENCES = 40


def normalize_id(value: str) -> str:
    """`<local@domain>` as written, without surrounding space or comments; "" when there is none."""
    if not value:
        return ""
    found = _MSG_ID.search(value)
    if found:
        return f"<{found.group(1)}>"
    bare = value.strip().split()
    # Some broken clients write the id without angle brackets.
    if bare and "@" in bare[0] and len(bare[0]) < 400:
        return f"<{bare[0].strip('<>')}>"
    return ""


def parse_references(value: str) -> tuple[str, ...]:
    """The message ids of a References (or In-Reply-To) header, in order, without duplicates."""
    if not value:
        return ()
    found = [f"<{m}>" for m in _MSG_ID.findall(value)]
    if not found:
        found = [normalize_id(token) for token in value.split()]
    ordered = list(dict.fromkeys(f for f in found if f))
    return trim_references(ordered)


def trim_references(ids: Iterable[str]) -> tuple[str, ...]:
    ordered = list(dict.fromkeys(ids))
    if len(ordered) <= MAX_REFERENCES:
        return tuple(ordered)
    return (ordered[0], *ordered[-(MAX_REFERENCES - 1) :])


def thread_root(message_id: str, in_reply_to: str, references: tuple[str, ...]) -> str:
    if references:
        return references[0]
    return in_reply_to or message_id


def thread_key(root: str) -> str:
    """A short, stable key for a thread root: the conversation id is `<workspace>:<key>`."""
    return hashlib.sha256(root.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def choose_thread(
    message_id: str,
    in_reply_to: str,
    references: tuple[str, ...],
    known: Callable[[list[str]], dict[str, str]],
    fallback_id: str,
) -> str:
    """The thread key for a message, given `known(ids) -> {message id: thread key}` of indexed messages.

    A known relative decides (its own id first: the same message in Inbox and Sent is one message; then the
    oldest ancestor); otherwise the root computed from the headers. `fallback_id` stands in for a missing
    Message-ID so that such a message is a thread of its own.
    """
    candidates = [c for c in (message_id, *references, in_reply_to) if c]
    found = known(candidates) if candidates else {}
    for candidate in candidates:
        if candidate in found:
            return found[candidate]
    return thread_key(thread_root(message_id or fallback_id, in_reply_to, references))
