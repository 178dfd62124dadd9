"""Python's cyclic garbage collector kept off the objects a snapshot brings, which all live on.

Reading 100,000 conversations allocates a few million objects: each young collection walks the newest and
each full collection (triggered as the heap grows by a quarter) walks the whole heap again, for nothing.
Measured at 100k: the file's rows read in 0.47 s with the collector, 0.28 s without, decoded in 0.21 s
against 0.13 s; and the full pass that followed the load held the first frame after it ~100 ms.

Inside `long_lived()` no cyclic collection runs (in any thread: the collector is the process's); on leaving,
what is alive is frozen (`gc.freeze`: out of the collector's generations, still freed by reference
counting when dropped), so that no later pass, under a flood, walks the 100k rows either. The holds are
counted: the backend's reading thread and the console's drawing thread may hold one at once, and the last to
leave freezes and turns the collector on again. A cycle of garbage made meanwhile stays (a few, at start).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .native_heap import give_back

_lock = threading.Lock()
_holders = 0
_was_enabled = True


def hold() -> None:
    """No cyclic collection from now until the matching `release`, in any thread."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1


def release() -> None:
    """The end of a `hold`: the last one freezes what is alive and turns the collector on again."""
    global _holders
    with _lock:
        _holders -= 1
        if _holders == 0:
            gc.freeze()
            give_back()  # what the block freed (a snapshot's raw rows) back to the system
            if _was_enabled:
                gc.enable()


@contextmanager
def long_lived() -> Iterator[None]:
    """What the block allocates is long-lived: no collection meanwhile, frozen when the last hold ends."""
    hold()
    try:
        yield
    finally:
        release()


_starting = False


def begin_startup() -> None:
    """The console's start is long-lived too: its modules, classes and widgets live as long as the process.
    Collected as they were built, they cost the first frame 25-30 ms (160 young collections and a full one
    of 14 ms, while the workspace screen mounted). Held until `end_startup`, after the first frame."""
    global _starting
    if not _starting:
        _starting = True
        hold()


def end_startup() -> None:
    """After the first frame (or when the console ends before it); nothing when no start is held."""
    global _starting
    if _starting:
        _starting = False
        release()
