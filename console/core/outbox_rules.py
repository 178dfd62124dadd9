"""What the outbox decides about a send, apart from the journal: which entries go one at a time, whether an
error is worth retrying, and how long to wait before the next attempt."""

from __future__ import annotations

import random

from ...backends.base import BackendError
from .outbox_journal import OutboxEntry


def send_order_group(entry: OutboxEntry) -> str:
    """Entries of one group are sent one at a time, in order: one conversation (or, without one, one agent's
    presence changes) of one workspace."""
    command = entry.command
    return f"{entry.workspace}\n{command.conversation_id or 'agent:' + command.agent_id}"


def describe_error(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, BackendError):
        return type(error).retryable
    # Plumbing that let a socket error or a timeout through: the network, not the request, is at fault.
    return isinstance(error, OSError | TimeoutError)


def retry_delay(
    attempts: int, error: BaseException | None, *, base: float, cap: float, rng: random.Random
) -> float:
    """Seconds before attempt `attempts + 1`: exponential from `base`, capped at `cap`, with equal jitter (half
    the ceiling fixed, half random, so consoles that lost the same server do not come back in step)."""
    ceiling = min(cap, base * 2 ** max(0, attempts - 1))
    delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after > 0:
        # The server said when: never earlier, and a little later at random so consoles do not collide.
        delay = max(delay, retry_after * (1 + rng.uniform(0, 0.1)))
    return delay
