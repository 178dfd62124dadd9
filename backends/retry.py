"""Retries with exponential backoff and full jitter: shared by every adapter and by the hub's reconnects."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """`next()` gives the next delay: base·2^n capped at `cap`, drawn uniformly in [delay/2, delay]."""

    base: float = 0.5
    cap: float = 30.0
    attempts: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next(self) -> float:
        delay = min(self.cap, self.base * (2**self.attempts))
        self.attempts += 1
        return self.rng.uniform(delay / 2, delay)

    def reset(self) -> None:
        self.attempts = 0
