"""Optional capabilities: what some backends can do beyond `perform`, each a protocol the console tests for.

The console never asks which adapter it holds (`isinstance(backend, LocalBackend)` is what this replaces).
It asks whether the backend has a capability, `isinstance(backend, Offers)`, and works without it when it
has not: push mode then says that `n` takes work, the wallboard shows the records its events bring.

- `Offers`: push routing. The backend offers one waiting item to one agent at a time, across every console
  of the workspace, with a timeout; the agent accepts or declines. (Pull routing, `n`, is the `Claim`
  command and needs no capability.)
- `Records`: the CSAT and wrap-up records of a period, for the wallboard's "today" and "this week" figures;
  a snapshot carries only what is current.
- `Sessions`: the backend keeps a presence session for this console (heartbeat, "gone" after silence)
  and can sign the agent off when the console quits, so that colleagues do not route to an empty chair.
- `Search`: every conversation, open and closed, found by words, phrases and fields, ranked, one hit each.
- `QueueFigures`: the phone queue as the telephony system counts it now (calls and callbacks waiting, the
  longest wait), for a board that wants the system's own figures (Zendesk Talk's current queue activity).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .base import Conflict

if TYPE_CHECKING:
    from ..console.core.model import Conversation, CsatRecord, WrapUpRecord
    from ..console.core.routing import RoutingRules
    from .base import Snapshot


@dataclass(frozen=True, slots=True)
class Offer:
    """One waiting item offered to one agent until `expires_at`."""

    conversation_id: str
    agent_id: str
    offered_at: float
    expires_at: float


class OfferGone(Conflict):
    """The offer expired, was declined, or the item was taken some other way."""


@runtime_checkable
class Offers(Protocol):
    async def offer_next(self, agent_id: str, now: float, rules: RoutingRules | None = None) -> Offer | None:
        """The offer standing for this agent, making one if the agent is free and something waits for them."""
        ...

    async def accept_offer(self, agent_id: str, conversation_id: str) -> Conversation:
        """Take the offered item: it is the agent's on return. Raises `OfferGone` when it is not theirs to take."""
        ...

    async def decline_offer(self, agent_id: str, conversation_id: str) -> None:
        """Give it back: it goes to the next agent, not straight back to this one."""
        ...


@runtime_checkable
class QueueHead(Protocol):
    async def queue_head(self, limit: int) -> Snapshot:
        """The first `limit` open conversations of what `snapshot()` would give, in the queue's order
        (console/core/views.py `queue_key`; all open ones when there are fewer), with the agents and `me`.

        Read before the snapshot, so that the console draws its first screen while the rest is read: it
        shows these rows, exactly placed, and nothing that could sort between them until the snapshot lands.
        A backend whose server cannot read in that order must not offer this."""
        ...


@runtime_checkable
class ReadyHead(Protocol):
    def ready_head(self, limit: int) -> Snapshot | None:
        """The queue's head as `queue_head` gives it, when it was read before the console asked (a reader
        process started with the console: backends/local_prefetch.py): taken at once, before `connect`, so
        that the console's first frame shows the queue. None when there is none ready; the hub then reads
        `queue_head` once connected. Called once, from the console's thread: it must not wait on a server."""
        ...


@runtime_checkable
class ConnectProgress(Protocol):
    """A backend whose `connect` can take long (a workspace file rebuilding its search index after an
    upgrade: a minute at a million conversations) says what it is doing meanwhile. The hub sets the
    callback before connecting; the backend may call it from any thread, with a line of its own text."""

    on_connect_progress: Callable[[str], None] | None


@runtime_checkable
class Records(Protocol):
    async def records(
        self, csat_since: float, wrapups_since: float
    ) -> tuple[list[CsatRecord], list[WrapUpRecord]]:
        """CSAT answers recorded since `csat_since` and wrap-ups since `wrapups_since`, oldest first."""
        ...


@runtime_checkable
class Sessions(Protocol):
    heartbeat: float  # seconds between "still here" beats
    gone_after: float  # a console silent this long is counted gone by the others
    # Told when the session cannot be written (a full disk): the console says so instead of failing silently.
    on_write_trouble: Callable[[BaseException | None], None] | None

    async def sign_off(self) -> None:
        """Offline, and no "viewing" left on the others' screens: the console is quitting."""
        ...


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One conversation found by `Search.search`. `snippet` is plain, sanitised text (never markup) around
    the best match; `spans` are the (start, end) offsets in it of the matching words, for a UI to highlight."""

    conversation_id: str
    score: float  # higher is better; comparable within one backend's answer only
    snippet: str
    spans: tuple[tuple[int, int], ...] = ()
    message_id: str | None = None  # the message the snippet is from; None for the subject or customer
    # The conversation found, as the backend has it now: what a result list shows, and what opens a closed
    # one that the console's store does not hold (it holds the open and the recently closed). None: the
    # console looks it up in its store.
    conversation: Conversation | None = None


@runtime_checkable
class Search(Protocol):
    async def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Every conversation, open and closed, matching `query` (console/core/search_query.py's language:
        words, "phrases", the last word a prefix, `/` filter fields, after:/before: dates), best first.
        Raises `Invalid` for a query that cannot be searched."""
        ...


@dataclass(frozen=True, slots=True)
class QueueActivity:
    """The phone queue now, as the backend's telephony counts it (None: the system does not say)."""

    backend: str
    calls_waiting: int
    callbacks_waiting: int = 0
    longest_wait_seconds: float | None = None
    average_wait_seconds: float | None = None
    agents_online: int | None = None
    at: float = 0.0  # when it was read


@runtime_checkable
class QueueFigures(Protocol):
    async def queue_activity(self) -> QueueActivity:
        """The queue's current figures, read from the system now. Raises a `BackendError` when it cannot."""
        ...


__all__ = [
    "Offer",
    "OfferGone",
    "Offers",
    "QueueActivity",
    "QueueFigures",
    "Records",
    "Search",
    "SearchHit",
    "Sessions",
]
