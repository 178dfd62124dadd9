"""The event pump's own figures, for the benchmarks: events applied, batches, time busy, the longest batch."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import deque
from pathlib import Path


class PumpStats:
    """How many events the console applied and how long it took; written at exit when
    `STANDARDISTE_STATS=FILE` is set (the benchmarks read it)."""

    def __init__(self) -> None:
        self.events = 0
        self.batches = 0
        self.busy_seconds = 0.0
        self.longest_batch_seconds = 0.0
        self.timeline: deque[tuple[float, int]] = deque(maxlen=20_000)  # (wall clock, events) per batch

    def record(self, events: int, seconds: float) -> None:
        self.timeline.append((time.time(), events))
        self.events += events
        self.batches += 1
        self.busy_seconds += seconds
        self.longest_batch_seconds = max(self.longest_batch_seconds, seconds)

    def write_if_asked(self) -> None:
        path = os.environ.get("STANDARDISTE_STATS")
        if path:
            with contextlib.suppress(OSError):
                Path(path).write_text(
                    json.dumps({**vars(self), "timeline": list(self.timeline)}), encoding="utf-8"
                )
