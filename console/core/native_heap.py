"""The C heap under Python (glibc's malloc), kept from holding memory the console no longer uses.

Python's small objects live in its own arenas; lists, dicts, SQLite's pages and rows in the making come from
malloc. Two things kept that memory resident at 100k conversations (bench/workspace.py --memory):
- each thread that allocates gets an arena of its own: the backend's reading thread, which reads and decodes
  every change of a flood, fragmented a second heap (through 12 s at 5,000 changes a second: +4 MB kept);
- what a snapshot's read frees (its rows' buffers, the lists it was decoded through) stays mapped until the
  heap is trimmed: 5 MB at rest.
One heap for every thread (`share_one_heap`, before any thread starts), trimmed once a snapshot is in
(`give_back`): at rest 120 -> 114 MB, through the flood 124 -> 120 MB. Where the C library is not glibc (macOS,
musl) both do nothing.
"""

from __future__ import annotations

import ctypes
import sys
from functools import cache
from typing import Any

_M_ARENA_MAX = -8  # mallopt's parameter number for the arena count (glibc's malloc.h)


@cache
def _glibc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols, the C library's among them (ctypes.util: 9 ms)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def share_one_heap() -> bool:
    """Every thread allocates from the main heap; whether the C library took it. Call before threads start:
    an arena a thread already has stays its own."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, 1))


def give_back() -> bool:
    """The heap's free pages returned to the system (about 0.1 ms); whether any were."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))
